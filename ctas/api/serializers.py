from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Account
from csrisk.api.fields import UsernameField
from csrisk.models import User
from ctas.choices import CtaType, Outcome, Priority
from ctas.models import Comment, Cta, CtaTask, Playbook, PlaybookStep
from scorecards.choices import AreaCode


class CtaTaskSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = CtaTask
        fields = ["id", "title", "guidance", "owner", "due_date", "done_at"]


class CtaSerializer(serializers.ModelSerializer):
    """A CTA (CONTRACT.md: id, account, owner, type, area, reason, priority, status,
    flagged, due_date; more fields are welcome)."""

    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    area = serializers.SerializerMethodField()
    outcome = serializers.SerializerMethodField()
    account_name = serializers.CharField(source="account.name", read_only=True)
    flagged_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    tasks_done = serializers.SerializerMethodField()
    tasks_total = serializers.SerializerMethodField()

    class Meta:
        model = Cta
        fields = [
            "id",
            "account",
            "account_name",
            "owner",
            "type",
            "area",
            "reason",
            "description",
            "priority",
            "status",
            "flagged",
            "flagged_by",
            "flagged_at",
            "flag_reason",
            "due_date",
            "snoozed_until",
            "outcome",
            "source",
            "tasks_done",
            "tasks_total",
            "created_at",
            "updated_at",
            "closed_at",
        ]
        read_only_fields = fields

    def get_area(self, obj: Cta) -> str | None:
        return obj.area or None

    @extend_schema_field({"type": "string", "enum": Outcome.values, "nullable": True})
    def get_outcome(self, obj: Cta) -> str | None:
        return obj.outcome or None

    def get_tasks_done(self, obj: Cta) -> int:
        return sum(1 for t in obj.tasks.all() if t.done_at)

    def get_tasks_total(self, obj: Cta) -> int:
        return len(obj.tasks.all())


class CtaCreateSerializer(serializers.Serializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.all())
    type = serializers.ChoiceField(choices=CtaType.choices, default=CtaType.RISK)
    area = serializers.ChoiceField(choices=AreaCode.choices, required=False, allow_null=True)
    reason = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.MEDIUM)
    owner = UsernameField(
        queryset=User.objects.filter(is_active=True).exclude(role="integration"),
        required=False,
    )
    due_date = serializers.DateField(required=False)
    playbook = serializers.PrimaryKeyRelatedField(
        queryset=Playbook.objects.all(), required=False, allow_null=True
    )


class CtaUpdateSerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    due_date = serializers.DateField(required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    owner = UsernameField(
        queryset=User.objects.filter(is_active=True).exclude(role="integration"),
        required=False,
    )


class FlagSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class UnflagSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class CloseSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class SnoozeSerializer(serializers.Serializer):
    until = serializers.DateField()


class CommentInSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=5000)


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    mentions = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "author", "body", "mentions", "created_at"]


class PlaybookStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlaybookStep
        fields = ["position", "title", "owner_role", "due_offset_days", "guidance", "min_arr"]


class PlaybookSerializer(serializers.ModelSerializer):
    steps = PlaybookStepSerializer(many=True, read_only=True)

    class Meta:
        model = Playbook
        fields = ["id", "name", "description", "cta_type", "steps"]
