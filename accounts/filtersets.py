"""One filterset for the account list page and the accounts API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.http import QueryDict
from drf_spectacular.utils import extend_schema_field

from accounts.choices import LifecycleStage, Segment, Tier
from accounts.models import Account, Contact
from csrisk import clock

RENEWAL_WINDOWS = [
    ("overdue", "Overdue"),
    ("30", "Next 30 days"),
    ("90", "Next 90 days"),
    ("180", "Next 180 days"),
    ("365", "Next 12 months"),
]


MAX_ID = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.Filter):
    """A database id: a whole number in the range a BIGINT holds (else a 400, not a 500)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


# Money filters hold what the ARR column holds: 12 digits and 2 decimals.
MONEY = {"max_digits": 14, "decimal_places": 2}

STATUSES = [("active", "Active customers"), ("churned", "Churned"), ("all", "All")]


class AccountFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=STATUSES, method="filter_status", label="Customers", empty_label=None
    )
    q = django_filters.CharFilter(method="filter_q", label="Search")
    segment = django_filters.MultipleChoiceFilter(choices=Segment.choices)
    tier = django_filters.MultipleChoiceFilter(choices=Tier.choices)
    lifecycle_stage = django_filters.MultipleChoiceFilter(choices=LifecycleStage.choices)
    # Ids as plain numbers: an id that matches nothing lists nothing (no 400).
    team = IdFilter(field_name="team_id", label="Team id")
    owner = IdFilter(field_name="owner_id", label="Owner (user id)")
    renewal_window = django_filters.ChoiceFilter(
        choices=RENEWAL_WINDOWS, method="filter_renewal_window", label="Renewal"
    )
    renewal_after = django_filters.DateFilter(field_name="renewal_date", lookup_expr="gte")
    renewal_before = django_filters.DateFilter(field_name="renewal_date", lookup_expr="lte")
    arr_min = django_filters.NumberFilter(field_name="arr", lookup_expr="gte", **MONEY)
    arr_max = django_filters.NumberFilter(field_name="arr", lookup_expr="lte", **MONEY)
    crm_id = django_filters.CharFilter()
    helpdesk_org_id = django_filters.CharFilter()
    hubspot_company_id = django_filters.CharFilter()

    class Meta:
        model = Account
        fields: list[str] = []

    def __init__(self, data: QueryDict | None = None, *args: Any, **kwargs: Any) -> None:
        # An "All …" option submits an empty value: that means "no filter", not an error.
        if data is not None:
            data = data.copy()
            for key in list(data.keys()):
                values = [v for v in data.getlist(key) if v.strip()]
                if values:
                    data.setlist(key, values)
                else:
                    del data[key]
        super().__init__(data, *args, **kwargs)

    def filter_q(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(crm_id__iexact=value) | Q(helpdesk_org_id__iexact=value)
        )

    def filter_status(
        self, queryset: QuerySet[Account], name: str, value: str
    ) -> QuerySet[Account]:
        if value == "active":
            return queryset.exclude(lifecycle_stage=LifecycleStage.CHURNED)
        if value == "churned":
            return queryset.filter(lifecycle_stage=LifecycleStage.CHURNED)
        return queryset

    def filter_renewal_window(
        self, queryset: QuerySet[Account], name: str, value: str
    ) -> QuerySet[Account]:
        today = clock.today()
        if value == "overdue":
            return queryset.filter(renewal_date__lt=today)
        return queryset.filter(
            renewal_date__gte=today, renewal_date__lte=today + dt.timedelta(days=int(value))
        )


BOOLEAN_CHOICES = [("true", "true"), ("false", "false")]


class ContactFilterSet(django_filters.FilterSet):
    account = IdFilter(field_name="account_id", label="Account id")
    at_company = django_filters.ChoiceFilter(
        choices=BOOLEAN_CHOICES, method="filter_at_company", label="Still at the company"
    )
    email = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Contact
        fields: list[str] = []

    def filter_at_company(
        self, queryset: QuerySet[Contact], name: str, value: str
    ) -> QuerySet[Contact]:
        return queryset.filter(at_company=value == "true")
