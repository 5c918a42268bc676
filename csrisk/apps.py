from django.apps import AppConfig


class CsriskConfig(AppConfig):
    """Shared plumbing: internal people (users, roles, teams), the clock, events."""

    name = "csrisk"
    verbose_name = "People and teams"
