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
