"""Who may use the API at all. Object-level rules live with their app (accounts.rules…)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


def is_staff_member(user: Any) -> bool:
    """A logged-in, active internal person; integration tokens are not people."""
    return bool(user and user.is_authenticated and user.is_active and not user.is_integration)


class IsStaffMember(BasePermission):
    """The default for every endpoint: an internal person, never an integration token."""

    message = "Integration tokens may only push signals; this endpoint is for people."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return is_staff_member(user)


class IsIntegration(BasePermission):
    """Signal ingestion: integration users only (issue 19: people forged signals)."""

    message = (
        "Only integration users push signals (manage.py api_token NAME --create-integration); "
        "team leads upload CSV files at /signals/upload/."
    )

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return bool(user.is_active and user.is_integration)


class IsIntegrationOrStaff(BasePermission):
    """The OpenAPI schema: integration tokens and people alike."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active)


def is_admin(user: Any) -> bool:
    """A person who may use the Django admin (staff or superuser), never an integration."""
    return is_staff_member(user) and bool(user.is_staff or user.is_superuser)


class IsAdmin(BasePermission):
    """Configuration that reaches outside csrisk (outbound webhooks): admins only."""

    message = "Only administrators (staff) manage this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_admin(request.user)
