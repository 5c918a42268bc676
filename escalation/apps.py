from django.apps import AppConfig


class EscalationConfig(AppConfig):
    """Flags → levels 1–3, routing (RACI), response deadlines, meetings and agendas."""

    name = "escalation"
    verbose_name = "Escalation"

    def ready(self) -> None:
        from csrisk import calendars
        from escalation.calendar import meetings_attended

        calendars.register_source("escalation", meetings_attended)
        from csrisk import events, panels
        from escalation import receivers, views

        events.cta_flagged.connect(receivers.on_cta_flagged, dispatch_uid="escalation-flag")
        events.cta_released.connect(receivers.on_cta_released, dispatch_uid="escalation-release")
        events.comment_added.connect(receivers.on_comment_added, dispatch_uid="escalation-comment")
        events.color_changed.connect(receivers.on_color_changed, dispatch_uid="escalation-lane")
        events.accounts_changed.connect(
            receivers.on_accounts_changed, dispatch_uid="escalation-lane-accounts"
        )
        panels.register(
            "cta_detail",
            panels.Panel("escalation", "escalation/partials/_cta_panel.html", views.cta_panel),
        )
        panels.register(
            "account_detail",
            panels.Panel(
                "escalation", "escalation/partials/_account_panel.html", views.account_panel, 30
            ),
        )
        panels.register(
            "scorecard_review",
            panels.Panel(
                "escalation", "escalation/partials/_review_panel.html", views.review_panel
            ),
        )
