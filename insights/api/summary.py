"""The executive summary over the API: every table of /summary/ with the page's numbers.

One document (``/summary/``: the totals, the breakdowns by area, segment, team and renewal
quarter, the trend, open escalations, sponsor coverage and where the dollars come from) and
the two long tables as paginated, filterable lists (``/summary/blind-spots/``,
``/summary/actions/``). Each is built by ``executive_summary``, the page's reader, once per
request; the audience is the page's (``can_see_summary``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from csrisk import clock
from csrisk.api.filters import query_params
from insights import services
from insights.api.views import IsLeadership
from insights.predictions import PRIOR_NOTE
from insights.summary import RESPONSES, SIGNAL_LABELS, Action, Summary, executive_summary

MONEY = {"max_digits": 16, "decimal_places": 2}
ERRORS = {
    400: OpenApiResponse(description="A bad filter or page parameter, named."),
    401: OpenApiResponse(description="No or invalid credentials."),
    403: OpenApiResponse(description="Not the VP, the CEO or an executive."),
}
BLIND_SIGNALS = ["velocity", "people", "competitor", "risk"]


class SummaryLeadership(IsLeadership):
    message = "The executive summary is for the VP, the CEO and executives."


class BucketSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    total = serializers.DecimalField(
        **MONEY, help_text="ARR of the group (for an area: of the whole book)."
    )
    red = serializers.DecimalField(**MONEY)
    yellow = serializers.DecimalField(**MONEY)
    at_risk = serializers.DecimalField(**MONEY, help_text="Red + yellow ARR.")
    change_30 = serializers.DecimalField(
        **MONEY, allow_null=True, help_text="At-risk ARR now minus 30 days ago; null: no history."
    )
    change_90 = serializers.DecimalField(**MONEY, allow_null=True)
    accounts_at_risk = serializers.IntegerField()
    expected_loss = serializers.DecimalField(
        **MONEY,
        allow_null=True,
        help_text="Sum of the group's expected ARR loss; null for areas or nothing scored.",
    )


class TrendPointSerializer(serializers.Serializer):
    on = serializers.DateField()
    red = serializers.DecimalField(**MONEY)
    yellow = serializers.DecimalField(**MONEY)
    at_risk = serializers.DecimalField(**MONEY)


class EscalationCountSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    label = serializers.CharField()
    n = serializers.IntegerField(help_text="Open escalations at this level.")
    arr = serializers.DecimalField(**MONEY, help_text="Their accounts' ARR.")


class CoverageSerializer(serializers.Serializer):
    program = serializers.CharField(allow_null=True)
    eligible = serializers.IntegerField()
    covered = serializers.IntegerField()
    percent = serializers.IntegerField()
    uncovered_arr = serializers.DecimalField(**MONEY)


class RiskSourceSerializer(serializers.Serializer):
    n_scored = serializers.IntegerField(help_text="Live accounts with a prediction.")
    n_live = serializers.IntegerField()
    n_prior = serializers.IntegerField(help_text="Predictions made by the documented prior.")
    prior = serializers.BooleanField(help_text="The figures come from the prior.")
    prior_note = serializers.CharField()
    model_version = serializers.CharField(allow_null=True)
    model_renewals = serializers.IntegerField(allow_null=True)
    model_churned = serializers.IntegerField(allow_null=True)
    total_expected_loss = serializers.DecimalField(**MONEY)


class SummarySerializer(serializers.Serializer):
    as_of = serializers.DateTimeField()
    total = BucketSerializer()
    by_area = BucketSerializer(many=True)
    by_segment = BucketSerializer(many=True)
    by_team = BucketSerializer(many=True)
    by_quarter = BucketSerializer(many=True)
    trend = TrendPointSerializer(many=True, help_text="Weekly, oldest first.")
    escalations = EscalationCountSerializer(many=True)
    coverage = CoverageSerializer()
    risk = RiskSourceSerializer()
    blind_spots = serializers.IntegerField(help_text="How many: /api/v1/summary/blind-spots/.")
    actions = serializers.IntegerField(help_text="How many: /api/v1/summary/actions/.")


class RiskFiguresSerializer(serializers.Serializer):
    probability = serializers.FloatField(allow_null=True, help_text="Churn probability.")
    expected_loss = serializers.DecimalField(**MONEY, allow_null=True)
    prior = serializers.BooleanField(help_text="The prediction came from the prior.")


class BlindSpotSerializer(RiskFiguresSerializer):
    account = serializers.IntegerField(source="account_id")
    account_name = serializers.CharField(source="account")
    arr = serializers.DecimalField(**MONEY)
    renewal_date = serializers.DateField(allow_null=True)
    signal = serializers.ChoiceField(choices=BLIND_SIGNALS)
    signal_label = serializers.SerializerMethodField()
    sentence = serializers.CharField(help_text="What the signal says.")
    on = serializers.DateField(allow_null=True, help_text="The date of the finding.")

    def get_signal_label(self, row: Any) -> str:
        return SIGNAL_LABELS[row.signal]


class ResponseSerializer(serializers.Serializer):
    label = serializers.CharField()
    suggest = serializers.CharField()
    cta_type = serializers.CharField()
    area = serializers.CharField()
    priority = serializers.CharField()
    escalate_to = serializers.IntegerField(allow_null=True)


class ActionSerializer(RiskFiguresSerializer):
    rank = serializers.IntegerField(help_text="1 = highest priority, as on the page.")
    account = serializers.IntegerField(source="account_id")
    account_name = serializers.CharField(source="account")
    arr = serializers.DecimalField(**MONEY)
    renewal_date = serializers.DateField(allow_null=True)
    days_to_renewal = serializers.IntegerField(allow_null=True)
    signal = serializers.ChoiceField(choices=list(RESPONSES))
    signal_label = serializers.SerializerMethodField()
    sentence = serializers.CharField()
    on = serializers.DateField()
    priority = serializers.FloatField(help_text="Expected loss × severity × closeness.")
    response = ResponseSerializer()
    cta = serializers.IntegerField(
        allow_null=True, help_text="The live CTA this action opened already (else null)."
    )

    def get_signal_label(self, row: Any) -> str:
        return SIGNAL_LABELS[row.signal]


class BlindSpotQuerySerializer(serializers.Serializer):
    signal = serializers.ChoiceField(choices=BLIND_SIGNALS, required=False)
    account = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)


class ActionQuerySerializer(serializers.Serializer):
    signal = serializers.ChoiceField(choices=list(RESPONSES), required=False)
    account = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)


def summary_document(data: Summary) -> dict[str, Any]:
    """The page's figures (``insights.views.summary``'s context) as one JSON document."""
    risk = data.risk
    model = risk.model if risk else None
    return {
        "as_of": data.now,
        "total": data.total,
        "by_area": data.by_area,
        "by_segment": data.by_segment,
        "by_team": data.by_team,
        "by_quarter": data.by_quarter,
        "trend": data.trend,
        "escalations": data.escalations,
        "coverage": data.coverage,
        "risk": {
            "n_scored": risk.n_scored if risk else 0,
            "n_live": risk.n_live if risk else 0,
            "n_prior": risk.n_prior if risk else 0,
            "prior": risk.prior if risk else False,
            "prior_note": PRIOR_NOTE,
            "model_version": model.version if model else None,
            "model_renewals": model.n_renewals if model else None,
            "model_churned": model.n_churned if model else None,
            "total_expected_loss": data.total.expected_loss,
        },
        "blind_spots": len(data.blind_spots),
        "actions": len(data.actions),
    }


class SummaryView(GenericAPIView):
    """GET the executive summary's figures: every table of /summary/ but the two long ones."""

    permission_classes = [SummaryLeadership]
    serializer_class = SummarySerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(responses={200: SummarySerializer, **ERRORS}, summary="Executive summary")
    def get(self, request: Request) -> Response:
        return Response(SummarySerializer(summary_document(executive_summary(clock.now()))).data)


class _SummaryList(GenericAPIView):
    permission_classes = [SummaryLeadership]
    filter_backends: list = []
    query_serializer: type[serializers.Serializer]
    # The summary's rows this list reads (each subclass names its table).
    rows: Callable[[Summary], list[Any]]

    def get(self, request: Request) -> Response:
        query = query_params(request, self.query_serializer)
        rows = type(self).rows(executive_summary(clock.now()))
        if "signal" in query:
            rows = [r for r in rows if r.signal == query["signal"]]
        if "account" in query:
            rows = [r for r in rows if r.account_id == query["account"]]
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class BlindSpotListView(_SummaryList):
    """GET the blind spots: green accounts with danger underneath, largest ARR first (all of
    them; the page shows the 25 largest, its CSV all)."""

    serializer_class = BlindSpotSerializer
    query_serializer = BlindSpotQuerySerializer

    @staticmethod
    def rows(data: Summary) -> list[Any]:
        return data.blind_spots

    @extend_schema(
        parameters=[BlindSpotQuerySerializer],
        responses={200: BlindSpotSerializer(many=True), **ERRORS},
        summary="Blind spots",
    )
    def get(self, request: Request) -> Response:
        return super().get(request)


@dataclass
class RankedAction(Action):
    """An action with its rank on the page and the live CTA it opened already (if any)."""

    rank: int = 0
    cta: int | None = None


class ActionListView(_SummaryList):
    """GET the prioritised actions, highest priority first, as the page ranks them."""

    serializer_class = ActionSerializer
    query_serializer = ActionQuerySerializer

    @staticmethod
    def rows(data: Summary) -> list[Any]:
        taken = services.actions_taken(data.actions)
        return [
            RankedAction(
                **{f.name: getattr(a, f.name) for f in fields(a)},
                rank=rank,
                cta=getattr(taken.get((a.account_id, a.signal)), "pk", None),
            )
            for rank, a in enumerate(data.actions, start=1)
        ]

    @extend_schema(
        parameters=[ActionQuerySerializer],
        responses={200: ActionSerializer(many=True), **ERRORS},
        summary="Prioritised actions",
    )
    def get(self, request: Request) -> Response:
        return super().get(request)
