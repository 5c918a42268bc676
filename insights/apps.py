from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """Executive summary, blind spots, prioritised actions, the backtest, segment trends,
    the renewal-risk model."""

    name = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from csrisk import events, panels
        from csrisk.api import extensions
        from insights import receivers
        from insights.risk.api import RiskField, prefetch_risk
        from insights.risk.views import panel_context

        events.measures_computed.connect(
            receivers.on_measures_computed, dispatch_uid="insights-risk-scoring"
        )
        extensions.register("account", extensions.FieldExtension("risk", RiskField, prefetch_risk))
        panels.register(
            "account_detail",
            panels.Panel("risk", "insights/partials/_risk_panel.html", panel_context, order=12),
        )
