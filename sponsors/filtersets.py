"""Filters of the sponsor API (strict: see csrisk/api/filters.py)."""

from __future__ import annotations

import django_filters

from accounts.filtersets import IdFilter
from sponsors.models import CheckIn, Sponsorship


class SponsorshipFilterSet(django_filters.FilterSet):
    current = django_filters.BooleanFilter(
        field_name="ended_on", lookup_expr="isnull", label="Current (not ended)"
    )
    account = IdFilter(field_name="account_id", label="Account id")
    sponsor = django_filters.CharFilter(field_name="sponsor__username", label="Sponsor")

    class Meta:
        model = Sponsorship
        fields: list[str] = []


class CheckInFilterSet(django_filters.FilterSet):
    sponsor = django_filters.CharFilter(field_name="cta__owner__username", label="Sponsor")
    account = IdFilter(field_name="account_id", label="Account id")
    logged = django_filters.BooleanFilter(
        field_name="logged_at", lookup_expr="isnull", exclude=True, label="Logged"
    )

    class Meta:
        model = CheckIn
        fields: list[str] = []
