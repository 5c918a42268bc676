from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    """Risk areas, measures, colours, overrides, history."""

    name = "scorecards"
    verbose_name = "Scorecards"
