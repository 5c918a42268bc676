from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.choices import ContactRole
from accounts.models import Account, Contact, PriorRelationship
from csrisk.api import extensions
from csrisk.api.fields import UsernameField
from csrisk.models import Team, User
from csrisk.roles import Role


class PriorRelationshipSerializer(serializers.ModelSerializer):
    person = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = PriorRelationship
        fields = ["person", "kind", "note"]


class AccountSerializer(serializers.ModelSerializer):
    owner = UsernameField(
        queryset=User.objects.filter(role__in=[Role.CSM, Role.TEAM_LEAD], is_active=True),
        allow_null=True,
        required=False,
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        allow_null=True,
        required=False,
        help_text="Another team is a move: team leads between teams they lead, the VP and "
        "the CEO (403 otherwise).",
    )
    # A method, not CharField(source="team.name", default=None): DRF skips a field's
    # default in a partial update, so a PATCH answer would leave team_name out.
    team_name = serializers.SerializerMethodField()
    crm_id = serializers.CharField(max_length=64, allow_null=True, required=False)
    helpdesk_org_id = serializers.CharField(max_length=64, allow_null=True, required=False)
    hubspot_company_id = serializers.CharField(max_length=64, allow_null=True, required=False)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False)
    arr = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "arr",
            "currency",
            "segment",
            "tier",
            "industry",
            "renewal_date",
            "customer_since",
            "lifecycle_stage",
            "owner",
            "team",
            "team_name",
            "crm_id",
            "helpdesk_org_id",
            "hubspot_company_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # Uniqueness is checked here so a clash is a 400 with a reason, not a 500.
        extra_kwargs = {"name": {"max_length": 200}}

    def get_fields(self) -> dict[str, serializers.Field]:
        return {**super().get_fields(), **extensions.fields("account")}

    @extend_schema_field({"type": "string", "nullable": True, "readOnly": True})
    def get_team_name(self, account: Account) -> str | None:
        return account.team.name if account.team_id else None

    def validate_crm_id(self, value: str | None) -> str | None:
        return self._unique_external_id("crm_id", value)

    def validate_helpdesk_org_id(self, value: str | None) -> str | None:
        return self._unique_external_id("helpdesk_org_id", value)

    def validate_hubspot_company_id(self, value: str | None) -> str | None:
        return self._unique_external_id("hubspot_company_id", value)

    def _unique_external_id(self, field: str, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is None:
            return None
        clash = Account.objects.filter(**{field: value})
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError(f"Another account already has {field} {value!r}.")
        return value


class AccountDetailSerializer(AccountSerializer):
    prior_relationships = PriorRelationshipSerializer(many=True, read_only=True)

    class Meta(AccountSerializer.Meta):
        fields = [*AccountSerializer.Meta.fields, "prior_relationships"]


class ContactSerializer(serializers.ModelSerializer):
    """A contact; its account is fixed once created (see ContactCreateSerializer)."""

    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=ContactRole.choices), required=False
    )
    account = serializers.PrimaryKeyRelatedField(read_only=True)
    crm_id = serializers.CharField(max_length=64, allow_null=True, required=False)

    class Meta:
        model = Contact
        fields = [
            "id",
            "account",
            "name",
            "email",
            "title",
            "roles",
            "at_company",
            "left_on",
            "crm_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_roles(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))  # keep order, drop repeats

    def validate_crm_id(self, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is None:
            return None
        clash = Contact.objects.filter(crm_id=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError(f"Another contact already has crm_id {value!r}.")
        return value


class ContactCreateSerializer(ContactSerializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.all())
