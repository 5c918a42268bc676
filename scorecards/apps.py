from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    """Risk areas, measures, colours, overrides, history."""

    name = "scorecards"
    verbose_name = "Scorecards"

    def ready(self) -> None:
        from django.db.models import F

        from csrisk import clock, panels
        from csrisk.api import extensions
        from scorecards import selectors
        from scorecards.api.serializers import ScorecardField, prefetch_scorecards
        from scorecards.views import panel_context

        extensions.register(
            "account", extensions.FieldExtension("scorecard", ScorecardField, prefetch_scorecards)
        )
        panels.register_column(
            "account_list",
            panels.Column(
                name="scorecard",
                header_template="scorecards/partials/_list_header.html",
                cell_template="scorecards/partials/_list_cell.html",
                prepare=lambda qs: qs.select_related("scorecard"),
                decorate=lambda objects: selectors.decorate_with_trends(
                    list(objects), now=clock.now()
                ),
                # weakest first: worst colour, then the lowest weighted score
                sorts={
                    "risk": (
                        F("scorecard__score").asc(nulls_last=True),
                        F("scorecard__weighted_score").asc(nulls_last=True),
                        "pk",
                    ),
                    "-risk": (
                        F("scorecard__score").desc(nulls_last=True),
                        F("scorecard__weighted_score").desc(nulls_last=True),
                        "pk",
                    ),
                },
            ),
        )
        panels.register(
            "account_detail",
            panels.Panel(
                "scorecard", "scorecards/partials/_account_panel.html", panel_context, order=10
            ),
        )
