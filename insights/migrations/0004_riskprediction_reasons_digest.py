"""A digest of each prediction's reason texts, so a recompute compares digests instead of
reading every reasons document back; filled in for the latest predictions on record."""

from __future__ import annotations

import hashlib

from django.db import migrations, models


def fill(apps, schema_editor) -> None:
    prediction = apps.get_model("insights", "RiskPrediction")
    batch = []
    for row in prediction.objects.filter(latest=True).only("pk", "reasons").iterator(2000):
        texts = [r.get("text", "") for r in row.reasons or [] if isinstance(r, dict)]
        # insights.risk.services.reasons_digest, as it was written here
        row.reasons_digest = hashlib.blake2b("\x1f".join(texts).encode(), digest_size=8).hexdigest()
        batch.append(row)
        if len(batch) == 2000:
            prediction.objects.bulk_update(batch, ["reasons_digest"])
            batch = []
    if batch:
        prediction.objects.bulk_update(batch, ["reasons_digest"])


class Migration(migrations.Migration):
    dependencies = [("insights", "0003_measure_findings")]

    operations = [
        migrations.AddField(
            model_name="riskprediction",
            name="reasons_digest",
            field=models.CharField(blank=True, default="", max_length=32),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
