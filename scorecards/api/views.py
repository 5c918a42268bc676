from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.choices import LifecycleStage
from accounts.models import Account
from scorecards.api.serializers import (
    HistorySerializer,
    OverrideInSerializer,
    OverrideOutSerializer,
    ScorecardField,
    prefetch_scorecards,
)
from scorecards.choices import AreaCode, Color
from scorecards.models import ColorChange, Override
from scorecards.services import overrides

ERRORS = {
    400: {"description": "Invalid input; the body names each bad field and why."},
    401: {"description": "No or invalid credentials."},
    403: {"description": "Not allowed for this user."},
    404: {"description": "No such account, or no scorecard yet."},
}


class AccountScorecardSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(source="pk", read_only=True)
    scorecard = ScorecardField()

    class Meta:
        model = Account
        fields = ["account", "name", "arr", "currency", "renewal_date", "scorecard"]


class ScorecardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Scorecards by account id: current colours with reasons, history, overrides."""

    serializer_class = AccountScorecardSerializer
    lookup_url_kwarg = "account_id"
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Account]:
        qs = prefetch_scorecards(
            Account.objects.exclude(lifecycle_stage=LifecycleStage.CHURNED)
            .filter(scorecard__isnull=False)
            .order_by("scorecard__weighted_score", "pk")
        )
        params = self.request.query_params
        filters = {"color": "scorecard__color", "worst_area": "scorecard__worst_area"}
        allowed = {"color": Color.values, "worst_area": AreaCode.values}
        for code in AreaCode.values:
            filters[code], allowed[code] = code, Color.values
        for name, lookup in filters.items():
            value = params.get(name)
            if value is None:
                continue
            if value not in allowed[name]:
                raise serializers.ValidationError({name: f"Use one of {allowed[name]}."})
            if name in AreaCode.values:
                qs = qs.filter(area_scores__area=name, area_scores__color=value)
            else:
                qs = qs.filter(**{lookup: value})
        return qs

    @extend_schema(
        parameters=[
            OpenApiParameter("color", enum=Color.values, description="Overall colour."),
            OpenApiParameter(
                "worst_area",
                enum=AreaCode.values,
                description="The area that sets the overall colour.",
            ),
            *[
                OpenApiParameter(code, enum=Color.values, description=f"{label} colour.")
                for code, label in AreaCode.choices
            ],
        ],
        responses={200: AccountScorecardSerializer(many=True), **ERRORS},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Accounts with their scorecards, weakest first."""
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: AccountScorecardSerializer, **ERRORS})
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "area",
                enum=[*AreaCode.values, ColorChange.OVERALL],
                description="An area code, or 'overall'.",
            )
        ],
        responses={200: HistorySerializer(many=True), **ERRORS},
    )
    @action(detail=True, methods=["get"])
    def history(self, request: Request, account_id: str) -> Response:
        """Every colour change of the account, newest first (paginated)."""
        account = get_object_or_404(Account, pk=account_id)
        changes = ColorChange.objects.filter(account=account).order_by("-at", "-pk")
        area = request.query_params.get("area")
        if area:
            if area not in [*AreaCode.values, ColorChange.OVERALL]:
                raise serializers.ValidationError({"area": "Unknown area."})
            changes = changes.filter(area=area)
        page = self.paginate_queryset(changes)
        return self.get_paginated_response(HistorySerializer(page, many=True).data)

    @extend_schema(
        request=OverrideInSerializer,
        responses={201: OverrideOutSerializer, **ERRORS},
        description="Set an area's colour by hand until expires_at (at most the configured "
        "number of days). Recomputes keep it; when it expires the computed colour returns and "
        "the owner is told. Audited.",
    )
    @action(detail=True, methods=["post"])
    def override(self, request: Request, account_id: str) -> Response:
        account = get_object_or_404(Account, pk=account_id)
        data = OverrideInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        override = overrides.override_set(account=account, by=request.user, **data.validated_data)
        return Response(OverrideOutSerializer(override).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=inline_serializer(
            "OverrideClear",
            {
                "area": serializers.ChoiceField(choices=AreaCode.choices),
                "reason": serializers.CharField(required=False, allow_blank=True),
            },
        ),
        responses={200: OverrideOutSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="override/clear")
    def override_clear(self, request: Request, account_id: str) -> Response:
        """End an area's live override now; the computed colour returns."""
        area = request.data.get("area") if hasattr(request.data, "get") else None
        if area not in AreaCode.values:
            raise serializers.ValidationError({"area": "An area code is required."})
        # The account first: its pk lookup refuses an id past the integer range (a 404),
        # where a filter on the foreign key would send it to the database (a 500).
        account = get_object_or_404(Account, pk=account_id)
        override = get_object_or_404(Override, account=account, area=area, ended_at__isnull=True)
        reason = request.data.get("reason", "")
        override = overrides.override_clear(
            override=override, by=request.user, reason=str(reason)[:500]
        )
        return Response(OverrideOutSerializer(override).data)
