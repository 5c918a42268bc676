from django.apps import AppConfig


class SponsorsConfig(AppConfig):
    """Executive-sponsor program: periods, assignments, capacity, check-ins, help requests."""

    name = "sponsors"
    verbose_name = "Sponsors"

    def ready(self) -> None:
        from csrisk import calendars
        from sponsors.calendar import checkins_due

        calendars.register_source("sponsors", checkins_due)
        from csrisk import events, panels
        from sponsors import receivers, views

        events.accounts_changed.connect(
            receivers.on_accounts_changed, dispatch_uid="sponsors-eligibility"
        )
        panels.register(
            "account_detail",
            panels.Panel(
                "sponsor", "sponsors/partials/_account_panel.html", views.account_panel, 40
            ),
        )
        panels.register(
            "cta_detail",
            panels.Panel(
                "checkin", "sponsors/partials/_checkin_panel.html", views.checkin_panel, 10
            ),
        )
