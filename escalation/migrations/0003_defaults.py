"""The escalation chain and meetings of PRODUCT.md as editable configuration."""

from django.db import migrations

LEVELS = [
    # level, role, ack days, move up after (days past the deadline), who may raise to it
    (1, "team_lead", 1, 2, []),
    (2, "vp_cs", 1, None, ["csm", "team_lead", "vp_cs", "ceo"]),
    (3, "ceo", 2, None, ["vp_cs", "ceo"]),
]

MEETINGS = [
    # slug, name, kind, weekday, areas, extra criteria, description
    (
        "monday-leadership",
        "Monday leadership review",
        "meeting",
        0,
        [],
        {"red_scorecards": True},
        "Every red scorecard above the ARR threshold of the scorecard settings.",
    ),
    (
        "tuesday-cs-process",
        "Tuesday CS process improvement",
        "meeting",
        1,
        [],
        {"resolved_within_days": 7},
        "Escalations resolved in the last week: what should change in how we work?",
    ),
    (
        "wednesday-support-risk",
        "Wednesday support risk",
        "meeting",
        2,
        ["support"],
        {},
        "Flagged support CTAs.",
    ),
    (
        "friday-cs-customer-issues",
        "Friday CS customer issues",
        "meeting",
        4,
        ["habits", "sentiment", "company"],
        {"renewal_window_days": 90},
        "Flagged habits, sentiment and company CTAs, and the renewals of the next 90 days.",
    ),
    (
        "friday-implementation-risk",
        "Friday implementation risk",
        "meeting",
        4,
        ["implementation"],
        {},
        "Flagged implementation CTAs (Services).",
    ),
    (
        "readiness-queue",
        "Readiness queue",
        "queue",
        None,
        ["readiness"],
        {},
        "Flagged readiness CTAs, reviewed by Readiness / Enablement as they come in.",
    ),
    (
        "product-queue",
        "Product queue",
        "queue",
        None,
        ["product"],
        {},
        "Flagged product CTAs (missing features, competitor exposure), reviewed by Product.",
    ),
    (
        "defect-queue",
        "Engineering defect queue",
        "queue",
        None,
        ["defect"],
        {},
        "Flagged defect CTAs, reviewed by Engineering as they come in.",
    ),
]


def forwards(apps, schema_editor):
    EscalationLevel = apps.get_model("escalation", "EscalationLevel")
    Meeting = apps.get_model("escalation", "Meeting")
    EscalationSettings = apps.get_model("escalation", "EscalationSettings")
    for level, role, ack, after, raised_by in LEVELS:
        EscalationLevel.objects.get_or_create(
            level=level,
            defaults={
                "role": role,
                "ack_business_days": ack,
                "escalate_after_business_days": after,
                "raised_by_roles": raised_by,
            },
        )
    for position, (slug, name, kind, weekday, areas, extra, description) in enumerate(MEETINGS):
        Meeting.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "kind": kind,
                "weekday": weekday,
                "areas": areas,
                "description": description,
                "position": position,
                **extra,
            },
        )
    EscalationSettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("escalation", "0002_models")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
