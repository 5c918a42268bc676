"""Seed the thresholds of the CSAT measures, csat_level and csat_drop (the 0004 seed adds
every default measure without a config row)."""

import importlib

from django.db import migrations


def seed(apps, schema_editor):
    importlib.import_module("scorecards.migrations.0004_default_measures").seed(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("scorecards", "0008_summary_indexes")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
