"""The eight risk areas and their owning functions, as PRODUCT.md's RACI table sets them."""

from django.db import migrations

DEFAULTS = [
    ("habits", "Habits", "Adoption / usage is low or falling", "cs", 20),
    ("sentiment", "Sentiment", "NPS, surveys, tone of conversations", "cs", 15),
    ("company", "Company", "Decision maker or champion left or changed role, reorg, M&A, layoffs", "cs", 15),
    ("support", "Support", "Ticket volume, urgency, duration and especially ticket velocity", "support", 15),
    ("implementation", "Implementation", "Implementation milestones late", "services", 10),
    ("readiness", "Readiness", "Customer not ready to adopt (data, skills, staffing)", "readiness", 5),
    ("product", "Product", "Missing features, competitor exposure", "product", 10),
    ("defect", "Defect", "Bugs hurting the customer", "engineering", 10),
]


def seed(apps, schema_editor):
    Area = apps.get_model("scorecards", "Area")
    for position, (code, name, description, function, weight) in enumerate(DEFAULTS):
        Area.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "owning_function": function,
                "weight": weight,
                "position": position,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("scorecards", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
