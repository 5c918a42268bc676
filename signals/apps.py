from django.apps import AppConfig


class SignalsConfig(AppConfig):
    """Signal ingestion, raw store, leading-signal model, rules."""

    name = "signals"
    verbose_name = "Signals"
