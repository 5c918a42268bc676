"""Seed the thresholds of the feature-adoption trend measure (the 0004 seed adds every
default measure without a config row)."""

import importlib

from django.db import migrations


def seed(apps, schema_editor):
    importlib.import_module("scorecards.migrations.0004_default_measures").seed(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("scorecards", "0006_areascore_digest")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
