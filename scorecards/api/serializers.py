from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from csrisk import clock
from scorecards.choices import AreaCode, Color
from scorecards.models import AreaScore, ColorChange, Override


class OverrideOutSerializer(serializers.ModelSerializer):
    set_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Override
        fields = ["id", "area", "color", "reason", "set_by", "set_at", "expires_at"]


class AreaSerializer(serializers.Serializer):
    color = serializers.ChoiceField(choices=Color.choices)
    score = serializers.IntegerField(min_value=0, max_value=100)
    computed_color = serializers.ChoiceField(choices=Color.choices)
    reasons = serializers.ListField(child=serializers.CharField())
    evidence = serializers.ListField(
        child=serializers.DictField(),
        help_text=(
            "Each reason in full: kind (measure, cta, override), measure, value, threshold, "
            "colour, score and refs to the facts behind it."
        ),
    )
    override = OverrideOutSerializer(allow_null=True)
    changed_at = serializers.DateTimeField()
    no_data = serializers.BooleanField(
        help_text=(
            "No measure of the area had data to judge (and no CTA or override set its "
            "colour): `color` stays green, but it is a gap in the data, not a reading. "
            "The reasons say what is missing; their evidence carries `no_data: true`."
        )
    )


class OverallSerializer(serializers.Serializer):
    color = serializers.ChoiceField(choices=Color.choices)
    score = serializers.IntegerField(help_text="The worst area's score (worst-of).")
    weighted_score = serializers.IntegerField(help_text="Weighted mean of areas, for ranking.")
    worst_area = serializers.CharField(allow_blank=True)
    reasons = serializers.ListField(child=serializers.CharField())
    changed_at = serializers.DateTimeField()
    no_data = serializers.BooleanField(
        help_text="No area of the account has data: `color` green means nothing is known."
    )


class ScorecardSerializer(serializers.Serializer):
    overall = OverallSerializer()
    areas = serializers.DictField(child=AreaSerializer())


def scorecard_data(account: Any) -> dict[str, Any] | None:
    """The CONTRACT's scorecard JSON from prefetched rows (see prefetch_scorecards)."""
    card = getattr(account, "scorecard", None)
    if card is None:
        return None
    live = {o.area: o for o in getattr(account, "live_overrides", [])}
    areas = {}
    for s in sorted(account.area_scores.all(), key=lambda s: AreaCode.values.index(s.area)):
        areas[s.area] = {
            "color": s.color,
            "score": s.score,
            "computed_color": s.computed_color,
            "reasons": [r["sentence"] for r in s.reasons],
            "evidence": s.reasons,
            "override": live.get(s.area),
            "changed_at": s.changed_at,
            "no_data": s.no_data,
        }
    overall = {
        "color": card.color,
        "score": card.score,
        "weighted_score": card.weighted_score,
        "worst_area": card.worst_area,
        "reasons": [card.reason],
        "changed_at": card.changed_at,
        "no_data": card.no_data,
    }
    return ScorecardSerializer({"overall": overall, "areas": areas}).data


@extend_schema_field(ScorecardSerializer(allow_null=True))
class ScorecardField(serializers.Field):
    """An account's scorecard: overall (worst-of, named) and the eight areas."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, account: Any) -> dict[str, Any] | None:
        return scorecard_data(account)


def prefetch_scorecards(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("scorecard").prefetch_related(
        "area_scores",
        Prefetch(
            "overrides",
            queryset=Override.objects.filter(
                ended_at__isnull=True, expires_at__gt=clock.now()
            ).select_related("set_by"),
            to_attr="live_overrides",
        ),
    )


class HistorySerializer(serializers.ModelSerializer):
    class Meta:
        model = ColorChange
        fields = ["area", "from_color", "to_color", "score", "at", "cause", "reason"]


class OverrideInSerializer(serializers.Serializer):
    area = serializers.ChoiceField(choices=AreaCode.choices)
    color = serializers.ChoiceField(choices=Color.choices)
    reason = serializers.CharField(max_length=1000)
    expires_at = serializers.DateTimeField()


class AreaScoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = AreaScore
        fields = ["area", "color", "score"]
