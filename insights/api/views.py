"""The signal backtest over the API: the latest run's results with their as-of date, and
the progress of the run under way. Same audience as the executive summary."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from insights import backtest, backtest_runs
from insights.models import BacktestStatus
from insights.services import can_see_summary


class IsLeadership(BasePermission):
    """The executive summary's rule (``can_see_summary``): the VP, the CEO, executives."""

    message = "The backtest is for the VP, the CEO and executives."

    def has_permission(self, request: Request, view: Any) -> bool:
        return can_see_summary(request.user)


class BacktestQuerySerializer(serializers.Serializer):
    horizon_days = serializers.ChoiceField(
        choices=list(backtest.HORIZONS),
        default=90,
        help_text="Days before each renewal the signals are read at.",
    )


class CalibrationBinSerializer(serializers.Serializer):
    low = serializers.FloatField()
    high = serializers.FloatField()
    n = serializers.IntegerField()
    churned = serializers.IntegerField()
    predicted = serializers.FloatField(
        allow_null=True, help_text="Mean probability; null for a 0–100 score."
    )
    observed = serializers.FloatField()


def _interval() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.FloatField(),
        min_length=2,
        max_length=2,
        allow_null=True,
        help_text="95% interval [low, high]; null when undefined.",
    )


class BacktestResultSerializer(serializers.Serializer):
    signal = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=[backtest.SCORE, backtest.PROBABILITY])
    horizon_days = serializers.IntegerField()
    n = serializers.IntegerField()
    positives = serializers.IntegerField(help_text="Churned renewals.")
    flagged = serializers.IntegerField()
    true_positives = serializers.IntegerField()
    precision = serializers.FloatField(allow_null=True)
    precision_ci = _interval()
    recall = serializers.FloatField(allow_null=True)
    recall_ci = _interval()
    arr_recall = serializers.FloatField(allow_null=True)
    arr_recall_ci = _interval()
    lift = serializers.FloatField(allow_null=True)
    auc = serializers.FloatField(allow_null=True)
    auc_ci = _interval()
    pr_auc = serializers.FloatField(allow_null=True)
    pr_auc_ci = _interval()
    brier = serializers.FloatField(allow_null=True, help_text="Probabilities only.")
    brier_ci = _interval()
    lead_days = serializers.FloatField(allow_null=True)
    lead_n = serializers.IntegerField()
    thin = serializers.BooleanField(help_text="Flagged too few renewals to judge.")
    calibration = CalibrationBinSerializer(many=True)


class BacktestAnswerSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[*BacktestStatus.values, "none"],
        help_text="The run under way (queued, running) or else the latest run's status.",
    )
    progress = serializers.IntegerField(help_text="Percent done of the run under way.")
    as_of = serializers.DateField(allow_null=True, help_text="The date the results describe.")
    stale = serializers.BooleanField(
        help_text="Outcomes, measure settings or the day changed since the results."
    )
    error = serializers.CharField(allow_blank=True)
    horizon_days = serializers.IntegerField()
    results = BacktestResultSerializer(many=True)


class BacktestView(APIView):
    """GET the signal backtest's latest results at one horizon."""

    permission_classes = [IsLeadership]

    @extend_schema(
        parameters=[OpenApiParameter("horizon_days", int, enum=list(backtest.HORIZONS))],
        responses={
            200: BacktestAnswerSerializer,
            202: OpenApiResponse(
                BacktestAnswerSerializer,
                description="No results yet: a run is queued or running (see status and "
                "progress); ask again.",
            ),
            400: OpenApiResponse(description="horizon_days is not one of the horizons."),
            401: OpenApiResponse(description="No or invalid credentials."),
            403: OpenApiResponse(description="Not the VP, the CEO or an executive."),
        },
    )
    def get(self, request: Request) -> Response:
        query = BacktestQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        horizon = query.validated_data["horizon_days"]
        state = backtest_runs.backtest_run_if_stale(by=request.user)
        run = state.active or state.failed or state.latest
        answer = {
            "status": run.status if run else "none",
            "progress": state.active.progress if state.active else 0,
            "as_of": state.latest.as_of if state.latest else None,
            "stale": state.stale,
            "error": state.failed.error if state.failed else "",
            "horizon_days": horizon,
            "results": [{**r.to_json(), "thin": r.thin} for r in state.results(horizon)],
        }
        code = 200 if state.latest else 202
        return Response(BacktestAnswerSerializer(answer).data, status=code)
