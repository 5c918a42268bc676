from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """Executive summary, blind spots, prioritised actions, the backtest, segment trends."""

    name = "insights"
    verbose_name = "Insights"
