"""One filterset for the cockpit and the CTA API."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import Q, QuerySet

from accounts.filtersets import BOOLEAN_CHOICES, IdFilter
from csrisk import clock
from ctas.choices import CtaType, Priority, Status
from ctas.models import Cta
from scorecards.choices import AreaCode

DUE_WINDOWS = [
    ("overdue", "Overdue"),
    ("today", "Due today"),
    ("7", "Next 7 days"),
    ("30", "Next 30 days"),
]


class CtaFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")
    type = django_filters.ChoiceFilter(choices=CtaType.choices)
    area = django_filters.ChoiceFilter(choices=AreaCode.choices)
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    status = django_filters.ChoiceFilter(choices=Status.choices)
    flagged = django_filters.ChoiceFilter(choices=BOOLEAN_CHOICES, method="filter_flagged")
    owner = django_filters.CharFilter(field_name="owner__username", label="Owner (username)")
    account = IdFilter(field_name="account_id", label="Account id")
    due = django_filters.ChoiceFilter(choices=DUE_WINDOWS, method="filter_due", label="Due")

    class Meta:
        model = Cta
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Cta], name: str, value: str) -> QuerySet[Cta]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(account__name__icontains=value) | Q(reason__icontains=value))

    def filter_flagged(self, queryset: QuerySet[Cta], name: str, value: str) -> QuerySet[Cta]:
        return queryset.filter(flagged=value == "true")

    def filter_due(self, queryset: QuerySet[Cta], name: str, value: str) -> QuerySet[Cta]:
        today = clock.today()
        if value == "overdue":
            return queryset.filter(due_date__lt=today)
        if value == "today":
            return queryset.filter(due_date=today)
        return queryset.filter(
            due_date__gte=today, due_date__lte=today + dt.timedelta(days=int(value))
        )
