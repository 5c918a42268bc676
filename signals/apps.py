from django.apps import AppConfig


class SignalsConfig(AppConfig):
    """Signal ingestion, raw store, leading-signal model, rules."""

    name = "signals"
    verbose_name = "Signals"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from accounts.models import Account
        from csrisk import metrics, panels
        from signals import receivers
        from signals.metrics import processing_lag
        from signals.views import timeline_panel_context

        metrics.register_reading(processing_lag)
        post_save.connect(receivers.account_saved, sender=Account, dispatch_uid="signals-rematch")
        panels.register(
            "account_detail",
            panels.Panel(
                "signals", "signals/partials/_timeline_panel.html", timeline_panel_context, order=40
            ),
        )
