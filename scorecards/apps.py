from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    """Risk areas, measures, colours, overrides, history."""

    name = "scorecards"
    verbose_name = "Scorecards"

    def ready(self) -> None:
        from csrisk import panels
        from csrisk.api import extensions
        from scorecards.api.serializers import ScorecardField, prefetch_scorecards
        from scorecards.views import panel_context

        extensions.register(
            "account", extensions.FieldExtension("scorecard", ScorecardField, prefetch_scorecards)
        )
        panels.register(
            "account_detail",
            panels.Panel(
                "scorecard", "scorecards/partials/_account_panel.html", panel_context, order=10
            ),
        )
