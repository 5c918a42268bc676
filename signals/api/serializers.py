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
    detail = serializers.CharField(required=False)
