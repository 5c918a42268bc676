"""The one filterset of the recent-signals feed."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

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
