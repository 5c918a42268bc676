"""The app's home in the migration graph; its models arrive with their capability."""

from django.db import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies = [("accounts", "0001_initial"), ("scorecards", "0002_default_areas")]
    operations = []
