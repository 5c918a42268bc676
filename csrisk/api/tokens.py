"""A person's own API tokens over the API: list them, revoke one (never their keys)."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from csrisk import clock, tokens
from csrisk.models import ApiToken


class ApiTokenSerializer(serializers.ModelSerializer):
    state = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id", "name", "prefix", "sources", "created_at", "expires_at", "last_used_at",
            "revoked_at", "state",
        ]  # fmt: skip
        read_only_fields = fields

    def get_state(self, token: ApiToken) -> str:
        return token.state(clock.now())


class TokenViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your API tokens (the one in use among them). Only their prefixes are known."""

    serializer_class = ApiTokenSerializer
    filterset_class = None
    ordering_fields = ["created_at"]

    queryset = ApiToken.objects.none()  # the schema's model; requests use get_queryset

    def get_queryset(self) -> QuerySet[ApiToken]:
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=self.request.user).order_by("-created_at", "-pk")

    @extend_schema(
        request=None,
        responses={
            200: ApiTokenSerializer,
            404: OpenApiResponse(description="No token of yours has this id."),
        },
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Revoke one of your tokens at once (revoking the one in use ends this session)."""
        token = self.get_object()
        tokens.token_revoke(token=token, by=request.user)
        token.refresh_from_db()
        return Response(ApiTokenSerializer(token).data)
