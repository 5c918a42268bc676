from django.apps import AppConfig


class CtasConfig(AppConfig):
    """CTAs, playbooks, tasks, chatter, cockpit."""

    name = "ctas"
    verbose_name = "CTAs"

    def ready(self) -> None:
        from csrisk import calendars
        from ctas.calendar import cta_due_dates

        calendars.register_source("ctas", cta_due_dates)
        from django.db.models import Count, Q

        from csrisk import events, panels
        from ctas.choices import LIVE_STATUSES
        from ctas.receivers import on_color_changed
        from ctas.views import account_panel

        events.color_changed.connect(on_color_changed, dispatch_uid="ctas-alert-on-change")
        panels.register(
            "account_detail",
            panels.Panel("ctas", "ctas/partials/_account_panel.html", account_panel, order=20),
        )
        # The 1:1 review asks about open and flagged CTAs beside the colours.
        panels.register_column(
            "scorecard_review",
            panels.Column(
                name="ctas",
                header_template="ctas/partials/_review_header.html",
                cell_template="ctas/partials/_review_cell.html",
                prepare=lambda qs: qs.annotate(
                    open_ctas=Count(
                        "ctas", filter=Q(ctas__status__in=LIVE_STATUSES), distinct=True
                    ),
                    flagged_ctas=Count(
                        "ctas",
                        filter=Q(ctas__status__in=LIVE_STATUSES, ctas__flagged=True),
                        distinct=True,
                    ),
                ),
            ),
        )
