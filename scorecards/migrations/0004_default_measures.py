"""Seed each measure's thresholds with the defaults documented in scorecards/measures.py."""

from django.db import migrations

from scorecards.measures import DEFAULT_THRESHOLDS


def seed(apps, schema_editor):
    MeasureConfig = apps.get_model("scorecards", "MeasureConfig")
    for t in DEFAULT_THRESHOLDS:
        MeasureConfig.objects.get_or_create(
            code=t.code,
            defaults={
                "area": t.area,
                "label": t.label,
                "yellow_at": t.yellow_at,
                "red_at": t.red_at,
                "higher_is_worse": t.higher_is_worse,
                "best": t.best,
                "window_days": t.window_days,
                "params": t.params,
                "enabled": t.enabled,
            },
        )
    apps.get_model("scorecards", "ScorecardSettings").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("scorecards", "0003_scorecard_state")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
