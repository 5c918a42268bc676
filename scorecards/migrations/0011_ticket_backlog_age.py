"""Seed the thresholds of the ticket backlog age measure (the 0004 seed adds every declared
measure without a config row)."""

import importlib

from django.db import migrations


def seed(apps, schema_editor):
    importlib.import_module("scorecards.migrations.0004_default_measures").seed(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("scorecards", "0010_scorecard_areas_digest")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
