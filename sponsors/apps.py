from django.apps import AppConfig


class SponsorsConfig(AppConfig):
    """Executive-sponsor program, assignments, check-ins."""

    name = "sponsors"
    verbose_name = "Executive sponsors"
