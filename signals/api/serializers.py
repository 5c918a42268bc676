"""Shapes of the ingestion answer, for the OpenAPI schema (the hot path builds dicts)."""

from rest_framework import serializers


class ItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the item in the request.")
    status = serializers.ChoiceField(choices=["accepted", "duplicate", "rejected"])
    external_id = serializers.CharField(required=False)
    id = serializers.IntegerField(required=False, help_text="csrisk's id of the signal.")
    version = serializers.IntegerField(required=False)
    unmatched = serializers.BooleanField(
        required=False, help_text="Parked: no account is known by this organisation id yet."
    )
    reason = serializers.CharField(required=False)


class BackfillRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField(help_text="Its status: GET /api/v1/backfills/{id}/.")


class IngestAnswerSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    unmatched = serializers.IntegerField()
    results = ItemResultSerializer(many=True)
    sender = serializers.CharField(
        required=False,
        help_text="Who sent these signals, as each stored version records it (provenance).",
    )
    backfill = BackfillRefSerializer(
        required=False, help_text="Sent with backfill=true: the backfill these signals joined."
    )
    detail = serializers.CharField(required=False)


class BackfillStatusSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    via = serializers.ChoiceField(choices=["rest", "webhook", "csv", "command"])
    source = serializers.CharField(help_text="The sources its signals named.")
    sender = serializers.CharField(help_text="Who or what sent it, in words.")
    by = serializers.CharField(allow_null=True, help_text="The user who started it, if any.")
    started_at = serializers.DateTimeField(help_text="Changes dated before this are history.")
    finished_at = serializers.DateTimeField(allow_null=True)
    status = serializers.ChoiceField(choices=["storing", "processing", "done"])
    sent = serializers.IntegerField()
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    stored = serializers.IntegerField(help_text="Its signals on record (their current version).")
    pending = serializers.IntegerField()
    processed = serializers.IntegerField()
    unmatched = serializers.IntegerField()
    failed = serializers.IntegerField()
    first_at = serializers.DateTimeField(allow_null=True)
    last_at = serializers.DateTimeField(allow_null=True)


class SignalSerializer(serializers.Serializer):
    """A signal as the feed lists it (the payload is in the detail)."""

    id = serializers.IntegerField()
    source = serializers.CharField()
    external_id = serializers.CharField()
    kind = serializers.CharField()
    account = serializers.IntegerField(source="account_id", allow_null=True)
    account_name = serializers.CharField(source="account.name", allow_null=True, default=None)
    org_ref = serializers.CharField(help_text="The sender's organisation key when unmatched.")
    occurred_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    version = serializers.IntegerField()
    status = serializers.CharField(help_text="pending, processed, unmatched or failed.")
    processed_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField()
    sent_via = serializers.CharField()
    sent_bound = serializers.BooleanField(help_text="The sender was bound to this source.")
    backfill = serializers.IntegerField(source="backfill_id", allow_null=True)


class SignalVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    sender = serializers.CharField()
    received_at = serializers.DateTimeField(help_text="When this version was received.")
    payload = serializers.JSONField()


class SignalDetailSerializer(SignalSerializer):
    """One signal as its page shows it: payload, who sent it, its earlier versions."""

    payload = serializers.JSONField()
    provenance = serializers.CharField(help_text="Who or what sent the current version.")
    versions = SignalVersionSerializer(
        source="earlier_versions", many=True, help_text="Earlier versions, newest first."
    )
