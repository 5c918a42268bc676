"""The leading signals per segment over the API: the /signals/segments/ page's two tables
(``insights.aggregates``, read once), for everyone the page is for (people, not tokens)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from csrisk import clock
from insights import aggregates


class SegmentTrendSerializer(serializers.Serializer):
    segment = serializers.CharField()
    label = serializers.CharField()
    accounts = serializers.IntegerField()
    weeks = serializers.ListField(
        child=serializers.DateField(), help_text="Week ends, oldest first."
    )
    velocity = serializers.ListField(
        child=serializers.FloatField(), help_text="Non-critical ticket velocity per week."
    )
    adoption = serializers.ListField(
        child=serializers.FloatField(allow_null=True),
        help_text="Mean share of licensed users active per week; null: no usage data.",
    )
    velocity_now = serializers.FloatField(allow_null=True)
    velocity_before = serializers.FloatField(allow_null=True, help_text="4 weeks ago.")
    adoption_now = serializers.FloatField(allow_null=True)
    adoption_first = serializers.FloatField(
        allow_null=True, help_text="The first known week's adoption."
    )


class ComplaintSerializer(serializers.Serializer):
    tag = serializers.CharField()
    accounts = serializers.IntegerField()
    tickets = serializers.IntegerField()
    segments = serializers.ListField(child=serializers.CharField())


class SegmentsSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField()
    window_days = serializers.IntegerField(help_text="The complaints' window.")
    trends = SegmentTrendSerializer(many=True)
    complaints = ComplaintSerializer(
        many=True, help_text="Ticket tags seen at three or more accounts, most accounts first."
    )


class SegmentsView(APIView):
    """GET the leading signals summed per segment, week by week, and recurring complaints."""

    @extend_schema(
        responses={
            200: SegmentsSerializer,
            401: OpenApiResponse(description="No or invalid credentials."),
            403: OpenApiResponse(description="An integration token: this is for people."),
        },
        summary="Signals by segment",
    )
    def get(self, request: Request) -> Response:
        now = clock.now()
        answer = {
            "as_of": now,
            "window_days": aggregates.WINDOW_DAYS,
            "trends": aggregates.segment_trends(now=now),
            "complaints": aggregates.recurring_complaints(now=now),
        }
        return Response(SegmentsSerializer(answer).data)
