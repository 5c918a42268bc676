"""Trends on tiny counts are not alarms: the credibility parameters of the rate and trend
measures, on installs whose measure configs were seeded before them.

Adds each new parameter where a config lacks it (a value a team set stays), renames the
CSAT measures' ``min_responses`` to ``min_answers`` (keeping its value), and raises the
resolution-time trend's ``min_tickets`` from the old default 3 to 5 where nobody changed it.
The values are written out here, not read from ``measures.DECLARED``, so that this
migration means the same thing whatever the declarations say later.
"""

from django.db import migrations

ADDED = {
    "support.noncritical_velocity": {"min_count": 6, "confidence": 0.9},
    "sentiment.nps_level": {"min_answers": 2},
    "sentiment.nps_drop": {"min_answers": 2},
    "sentiment.csat_level": {"min_answers": 5},
    "sentiment.csat_drop": {"min_answers": 5, "confidence": 0.95},
    "habits.usage_drop": {"min_users": 5},
    "habits.adoption_trend": {"min_users": 5},
    "habits.license_utilization": {"min_users": 5},
}
RENAMED = {"sentiment.csat_level", "sentiment.csat_drop"}  # min_responses → min_answers
RESOLUTION = "support.resolution_time_trend"
OLD_MIN_TICKETS, NEW_MIN_TICKETS = 3, 5


def forward(apps, schema_editor):
    MeasureConfig = apps.get_model("scorecards", "MeasureConfig")
    for config in MeasureConfig.objects.filter(code__in=[*ADDED, RESOLUTION]):
        params = dict(config.params or {})
        if config.code in RENAMED and "min_responses" in params:
            params.setdefault("min_answers", params.pop("min_responses"))
        for key, value in ADDED.get(config.code, {}).items():
            params.setdefault(key, value)
        if config.code == RESOLUTION and params.get("min_tickets", OLD_MIN_TICKETS) == (
            OLD_MIN_TICKETS
        ):
            params["min_tickets"] = NEW_MIN_TICKETS
        if params != config.params:
            config.params = params
            config.save(update_fields=["params"])


def backward(apps, schema_editor):
    MeasureConfig = apps.get_model("scorecards", "MeasureConfig")
    for config in MeasureConfig.objects.filter(code__in=[*ADDED, RESOLUTION]):
        params = dict(config.params or {})
        if config.code in RENAMED and "min_answers" in params:
            params["min_responses"] = params.pop("min_answers")
        for key, value in ADDED.get(config.code, {}).items():
            if params.get(key) == value and not (config.code in RENAMED and key == "min_answers"):
                params.pop(key)
        if config.code == RESOLUTION and params.get("min_tickets") == NEW_MIN_TICKETS:
            params["min_tickets"] = OLD_MIN_TICKETS
        if params != config.params:
            config.params = params
            config.save(update_fields=["params"])


class Migration(migrations.Migration):
    dependencies = [("scorecards", "0011_ticket_backlog_age")]
    operations = [migrations.RunPython(forward, backward)]
