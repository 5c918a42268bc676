from __future__ import annotations

from rest_framework import serializers

from accounts.models import Account
from csrisk.api.fields import UsernameField
from csrisk.models import User
from scorecards.choices import AreaCode
from sponsors.models import CheckIn, Program, Sentiment, Sponsorship


class ProgramSerializer(serializers.ModelSerializer):
    class Meta:
        model = Program
        fields = [
            "id",
            "name",
            "starts_on",
            "ends_on",
            "enterprise_min_arr",
            "strategic_min_arr",
            "enterprise_cadence_months",
            "strategic_cadence_months",
            "capacity_calls_per_week",
            "help_request_calls",
        ]


class SponsorshipSerializer(serializers.ModelSerializer):
    sponsor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    assigned_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    account_name = serializers.CharField(source="account.name", read_only=True)

    class Meta:
        model = Sponsorship
        fields = [
            "id",
            "account",
            "account_name",
            "sponsor",
            "started_on",
            "ended_on",
            "assigned_by",
            "reason",
            "over_capacity",
        ]


class AssignSerializer(serializers.Serializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.all())
    sponsor = UsernameField(queryset=User.objects.all())
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    force = serializers.BooleanField(
        required=False, default=False, help_text="Over capacity: a VP may overrule."
    )


class EndSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class RiskSerializer(serializers.Serializer):
    area = serializers.ChoiceField(choices=AreaCode.choices)
    description = serializers.CharField(max_length=200)
    cta = serializers.IntegerField(read_only=True, allow_null=True)


class CheckInSerializer(serializers.ModelSerializer):
    sponsor = serializers.SlugRelatedField(
        source="cta.owner", slug_field="username", read_only=True
    )
    logged_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    risks = RiskSerializer(many=True, read_only=True)

    class Meta:
        model = CheckIn
        fields = [
            "id",
            "cta",
            "account",
            "program",
            "sponsor",
            "slot",
            "slot_start",
            "due_date",
            "logged_at",
            "logged_by",
            "notes",
            "sentiment",
            "risks",
        ]


class CheckInLogSerializer(serializers.Serializer):
    notes = serializers.CharField(max_length=8000)
    sentiment = serializers.ChoiceField(choices=Sentiment.choices)
    risks = RiskSerializer(many=True, required=False, default=list)


class HelpRequestInSerializer(serializers.Serializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.all())
    context = serializers.CharField(max_length=4000)
