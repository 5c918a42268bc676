from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.serializers import BaseSerializer

from accounts import selectors, services
from accounts.api.serializers import (
    AccountDetailSerializer,
    AccountSerializer,
    ContactCreateSerializer,
    ContactSerializer,
)
from accounts.filtersets import AccountFilterSet, ContactFilterSet
from accounts.models import Account, Contact
from csrisk.api import extensions

ERRORS = {
    400: {"description": "Invalid input; the body names each bad field and why."},
    401: {"description": "No or invalid credentials."},
    403: {"description": "Not allowed for this user (e.g. not your account, integration token)."},
    404: {"description": "No such object."},
}


@extend_schema_view(
    list=extend_schema(responses={200: AccountSerializer(many=True), **ERRORS}),
    retrieve=extend_schema(responses={200: AccountDetailSerializer, **ERRORS}),
    create=extend_schema(responses={201: AccountSerializer, **ERRORS}),
    update=extend_schema(responses={200: AccountSerializer, **ERRORS}),
    partial_update=extend_schema(responses={200: AccountSerializer, **ERRORS}),
)
class AccountViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Customer accounts. Everyone internal reads; owners, their leads, VP and CEO write."""

    filterset_class = AccountFilterSet
    lookup_value_regex = r"[0-9]+"
    ordering_fields = ["name", "arr", "renewal_date", "updated_at"]
    ordering = ["name", "id"]

    def get_queryset(self) -> QuerySet[Account]:
        return extensions.prepare("account", selectors.account_list(user=self.request.user))

    def get_serializer_class(self) -> type[BaseSerializer]:
        return AccountDetailSerializer if self.action == "retrieve" else AccountSerializer

    def perform_create(self, serializer: AccountSerializer) -> None:
        serializer.instance = services.account_create(
            by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer: AccountSerializer) -> None:
        serializer.instance = services.account_update(
            account=serializer.instance, by=self.request.user, **serializer.validated_data
        )


@extend_schema_view(
    list=extend_schema(responses={200: ContactSerializer(many=True), **ERRORS}),
    retrieve=extend_schema(responses={200: ContactSerializer, **ERRORS}),
    create=extend_schema(
        request=ContactCreateSerializer, responses={201: ContactSerializer, **ERRORS}
    ),
    update=extend_schema(responses={200: ContactSerializer, **ERRORS}),
    partial_update=extend_schema(responses={200: ContactSerializer, **ERRORS}),
)
class ContactViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Contacts at customers, with roles (Executive Decision Maker, Champion…)."""

    filterset_class = ContactFilterSet
    lookup_value_regex = r"[0-9]+"
    ordering_fields = ["name", "updated_at"]
    ordering = ["account_id", "name", "id"]

    def get_queryset(self) -> QuerySet[Contact]:
        return Contact.objects.all()

    def get_serializer_class(self) -> type[BaseSerializer]:
        return ContactCreateSerializer if self.action == "create" else ContactSerializer

    def perform_create(self, serializer: ContactSerializer) -> None:
        data = dict(serializer.validated_data)
        account = data.pop("account")
        serializer.instance = services.contact_create(account=account, by=self.request.user, **data)

    def perform_update(self, serializer: ContactSerializer) -> None:
        serializer.instance = services.contact_update(
            contact=serializer.instance, by=self.request.user, **serializer.validated_data
        )
