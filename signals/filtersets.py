"""The one filterset of the recent-signals feed, and the API's (the feed's plus the
account and the time a signal occurred)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

from accounts.filtersets import IdFilter
from signals.choices import Kind, SignalStatus
from signals.models import Signal


class SignalFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Account or id")
    source = django_filters.CharFilter(field_name="source", label="Source")
    kind = django_filters.ChoiceFilter(choices=Kind.choices, label="Kind")
    status = django_filters.ChoiceFilter(choices=SignalStatus.choices, label="Status")
    since = django_filters.DateFilter(
        field_name="received_at", lookup_expr="date__gte", label="Received since"
    )

    class Meta:
        model = Signal
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(
            Q(account__name__icontains=value) | Q(external_id=value) | Q(org_ref=value)
        )


class _UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 time the database can compare: one that cannot be expressed in UTC
    (year 1 with an offset east of Greenwich) is a 400, not an OverflowError later."""

    def to_python(self, value: Any) -> dt.datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(dt.UTC)
        except (OverflowError, ValueError) as exc:
            raise forms.ValidationError("Give a time between years 1 and 9999 in UTC.") from exc


@extend_schema_field({"type": "string", "format": "date-time"})
class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _UtcDateTimeField


class SignalApiFilterSet(SignalFilterSet):
    """The feed's filters, plus what an API client asks for by id and by time."""

    account = IdFilter(field_name="account_id", label="Account id")
    occurred_after = UtcDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label="Occurred at or after"
    )
    occurred_before = UtcDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", label="Occurred before"
    )
