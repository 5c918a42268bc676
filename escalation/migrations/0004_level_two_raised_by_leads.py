"""Level 2 (the VP) is raised by a team lead or above by default (PRODUCT.md: "the team lead
escalates to the VP"); 0003 let CSMs raise it too. Installations still on that default are
moved; one whose list was edited keeps it. CSMs are let in again by adding "csm" to the
level's "raised by roles" (admin: Escalation levels)."""

from django.db import migrations

OLD = ["csm", "team_lead", "vp_cs", "ceo"]
NEW = ["team_lead", "vp_cs", "ceo"]


def forwards(apps, schema_editor):
    EscalationLevel = apps.get_model("escalation", "EscalationLevel")
    for level in EscalationLevel.objects.filter(level=2):
        if sorted(level.raised_by_roles or []) == sorted(OLD):
            level.raised_by_roles = NEW
            level.save(update_fields=["raised_by_roles"])


def backwards(apps, schema_editor):
    EscalationLevel = apps.get_model("escalation", "EscalationLevel")
    for level in EscalationLevel.objects.filter(level=2):
        if sorted(level.raised_by_roles or []) == sorted(NEW):
            level.raised_by_roles = OLD
            level.save(update_fields=["raised_by_roles"])


class Migration(migrations.Migration):
    dependencies = [("escalation", "0003_defaults")]
    operations = [migrations.RunPython(forwards, backwards)]
