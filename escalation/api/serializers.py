from __future__ import annotations

import datetime as dt
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from csrisk import clock
from escalation import selectors
from escalation.choices import Level
from escalation.models import Escalation, EscalationStep, Meeting, Suggestion


class StepSerializer(serializers.ModelSerializer):
    by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = EscalationStep
        fields = ["at", "by", "action", "from_level", "to_level", "reason"]


class SuggestionSerializer(serializers.ModelSerializer):
    decided_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Suggestion
        fields = ["id", "rule", "level", "reason", "status", "decided_by", "decided_at", "note"]


class EscalationSerializer(serializers.ModelSerializer):
    """An escalation with its timeline and suggestions."""

    owner = serializers.SlugRelatedField(
        source="cta.owner", slug_field="username", read_only=True, allow_null=True
    )
    cta_reason = serializers.CharField(source="cta.reason", read_only=True)
    area = serializers.CharField(source="cta.area", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    arr = serializers.DecimalField(
        source="account.arr", max_digits=14, decimal_places=2, read_only=True
    )
    renewal_date = serializers.DateField(source="account.renewal_date", read_only=True)
    opened_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    acknowledged_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    resolved_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    steps = StepSerializer(many=True, read_only=True)
    suggestions = SuggestionSerializer(many=True, read_only=True)

    class Meta:
        model = Escalation
        fields = [
            "id",
            "cta",
            "cta_reason",
            "area",
            "account",
            "account_name",
            "arr",
            "renewal_date",
            "owner",
            "level",
            "status",
            "reason",
            "opened_by",
            "opened_at",
            "level_since",
            "deadline_at",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
            "resolved_by",
            "resolution",
            "routes",
            "suggestions",
            "steps",
        ]


class EscalateSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=Level.choices)
    reason = serializers.CharField(max_length=2000)


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class ResolveSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class DismissSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class MeetingSerializer(serializers.ModelSerializer):
    next_date = serializers.SerializerMethodField(
        help_text="The date its agenda is for by default (today for a live queue)."
    )

    class Meta:
        model = Meeting
        fields = [
            "id",
            "slug",
            "name",
            "kind",
            "weekday",
            "description",
            "team",
            "areas",
            "renewal_window_days",
            "red_scorecards",
            "resolved_within_days",
            "next_date",
        ]

    def get_next_date(self, meeting: Meeting) -> dt.date:
        return selectors.meeting_date(meeting, clock.today())


class AgendaReviewOutSerializer(serializers.Serializer):
    outcome = serializers.CharField()
    next_step = serializers.CharField()
    reviewed_by = serializers.CharField(source="reviewed_by.username", allow_null=True)
    reviewed_at = serializers.DateTimeField()


class AgendaAreaSerializer(serializers.Serializer):
    area = serializers.CharField()
    label = serializers.CharField(source="get_area_display")
    color = serializers.CharField()
    score = serializers.IntegerField()
    no_data = serializers.BooleanField()


class AgendaItemSerializer(serializers.Serializer):
    """One item as the meeting page shows it: why it is there, the account, its CTA and
    flag reason, the areas that are not green, and the room's outcome."""

    key = serializers.CharField()
    kind = serializers.CharField(help_text="flagged, renewal, red or resolved.")
    why = serializers.CharField(help_text="The line the page leads the item with.")
    signals = serializers.ListField(
        child=serializers.CharField(),
        help_text="What the measures say behind the item (yellow or red now), worst first.",
    )
    account = serializers.IntegerField(source="account.pk")
    account_name = serializers.CharField(source="account.name")
    arr = serializers.DecimalField(source="account.arr", max_digits=14, decimal_places=2)
    renewal_date = serializers.DateField(source="account.renewal_date", allow_null=True)
    owner = serializers.CharField(
        source="account.owner.username", allow_null=True, default=None, help_text="The CSM."
    )
    color = serializers.CharField(source="overall.color", allow_null=True, default=None)
    areas = AgendaAreaSerializer(many=True, help_text="The account's areas that are not green.")
    cta = serializers.IntegerField(source="cta.pk", allow_null=True, default=None)
    cta_reason = serializers.CharField(source="cta.reason", allow_null=True, default=None)
    flag_reason = serializers.CharField(source="cta.flag_reason", allow_null=True, default=None)
    escalation = serializers.IntegerField(source="escalation.pk", allow_null=True, default=None)
    level = serializers.IntegerField(source="escalation.level", allow_null=True, default=None)
    age_days = serializers.IntegerField(allow_null=True)
    review = AgendaReviewOutSerializer(allow_null=True)


class AgendaSerializer(serializers.Serializer):
    meeting = MeetingSerializer()
    date = serializers.DateField()
    items = AgendaItemSerializer(many=True)
    reviewed = serializers.SerializerMethodField(help_text="Items with an outcome recorded.")
    past_dates = serializers.SerializerMethodField(
        help_text="The latest dates this meeting recorded outcomes on (up to 12)."
    )

    def get_reviewed(self, agenda: dict[str, Any]) -> int:
        return sum(1 for item in agenda["items"] if item.review)

    @extend_schema_field(serializers.ListField(child=serializers.DateField()))
    def get_past_dates(self, agenda: dict[str, Any]) -> list[str]:
        return [d.isoformat() for d in selectors.reviewed_dates(agenda["meeting"])]


class AgendaQuerySerializer(serializers.Serializer):
    date = serializers.DateField(required=False)


class AgendaReviewInSerializer(serializers.Serializer):
    date = serializers.DateField()
    item = serializers.CharField(max_length=40, help_text="An item key: cta:<id>, account:<id>")
    outcome = serializers.CharField(max_length=4000, allow_blank=True, default="")
    next_step = serializers.CharField(max_length=300, allow_blank=True, default="")
