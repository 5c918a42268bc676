from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """Executive summary, blind spots, prioritised actions, the backtest, segment trends,
    the renewal-risk model."""

    name = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from django.db.models import F

        from csrisk import events, panels
        from csrisk.api import extensions
        from escalation.services import suggestions
        from insights import receivers
        from insights.predictions import annotate_latest, by_expected_loss
        from insights.risk.api import RiskField, prefetch_risk
        from insights.risk.lane import top_band_reasons
        from insights.risk.views import panel_context

        # The risk model's top band is a reason for the VP's level-2 lane.
        suggestions.register_source(top_band_reasons)

        # Renewal risk beside the colours on other apps' lists, sortable by expected ARR
        # loss; those apps never import insights (the columns arrive through csrisk.panels).
        label = {"expected_loss": "Expected ARR loss"}
        panels.register_column(
            "account_list",
            panels.Column(
                name="risk",
                header_template="insights/partials/_risk_list_header.html",
                cell_template="insights/partials/_risk_list_cell.html",
                prepare=annotate_latest,
                sorts={
                    "expected_loss": (F("risk_expected_loss").asc(nulls_last=True), "pk"),
                    "-expected_loss": by_expected_loss("pk"),
                },
                order=50,
            ),
        )
        panels.register_column(
            "scorecard_review",
            panels.Column(
                name="risk",
                header_template="insights/partials/_risk_review_header.html",
                cell_template="insights/partials/_risk_review_cell.html",
                prepare=annotate_latest,
                sorts={"expected_loss": by_expected_loss("name", "pk")},
                sort_labels=label,
                order=50,
            ),
        )
        panels.register_column(
            "cockpit",
            panels.Column(
                name="risk",
                header_template="",
                cell_template="insights/partials/_risk_cockpit_cell.html",
                prepare=lambda qs: annotate_latest(qs, account="account_id"),
                # Equal losses (one account's CTAs) keep the cockpit's own order.
                sorts={"expected_loss": by_expected_loss("-flagged", "due_date", "pk")},
                sort_labels=label,
                order=50,
            ),
        )
        events.measures_computed.connect(
            receivers.on_measures_computed, dispatch_uid="insights-risk-scoring"
        )
        extensions.register("account", extensions.FieldExtension("risk", RiskField, prefetch_risk))
        panels.register(
            "account_detail",
            panels.Panel("risk", "insights/partials/_risk_panel.html", panel_context, order=12),
        )
