"""Seed the default rules (editable in the admin afterwards)."""

from django.db import migrations

DEFAULTS = [
    {
        "name": "Executive decision maker left",
        "trigger": "contact_left",
        "roles": ["edm"],
        "cta_area": "company",
        "cta_priority": "urgent",
        "cta_reason": "Executive decision maker left: {name}",
        "cta_description": (
            "The person who signs the renewal has left. Find the new decision maker and "
            "re-sell the value. Suggested: escalate to level 2 (VP of Customer Success)."
        ),
    },
    {
        "name": "Champion left",
        "trigger": "contact_left",
        "roles": ["champion"],
        "cta_area": "company",
        "cta_priority": "high",
        "cta_reason": "Champion left: {name}",
        "cta_description": "Find and enable a new champion before the renewal.",
    },
    {
        "name": "Key contact downgraded",
        "trigger": "title_downgrade",
        "roles": ["edm", "champion"],
        "cta_area": "company",
        "cta_priority": "high",
        "cta_reason": "Key contact downgraded: {name} is now {title}",
    },
    {
        "name": "Competitor evaluation",
        "trigger": "competitor",
        "activities": ["evaluation", "engagement"],
        "cta_area": "product",
        "cta_priority": "high",
        "cta_reason": "Evaluating a competitor: {competitor}",
    },
    {
        "name": "Non-critical ticket velocity spike",
        "trigger": "velocity",
        "threshold": 1.0,
        "window_days": 90,
        "cta_area": "support",
        "cta_priority": "high",
        "cta_reason": "Non-critical ticket velocity spiking",
        "cta_description": "Non-critical tickets grew {value} over the previous 90 days.",
    },
    {
        "name": "Detractor NPS",
        "trigger": "low_nps",
        "threshold": 4,
        "active": False,
        "cta_area": "sentiment",
        "cta_priority": "medium",
        "cta_reason": "Detractor NPS answer",
        "cta_description": "An NPS answer of {value}.",
    },
]


def seed(apps, schema_editor):
    SignalRule = apps.get_model("signals", "SignalRule")
    for row in DEFAULTS:
        SignalRule.objects.get_or_create(name=row["name"], defaults=row)


def unseed(apps, schema_editor):
    apps.get_model("signals", "SignalRule").objects.filter(
        name__in=[r["name"] for r in DEFAULTS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("signals", "0002_raw_store")]
    operations = [migrations.RunPython(seed, unseed)]
