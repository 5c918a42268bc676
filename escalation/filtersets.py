"""One filterset for the escalation list page and the API."""

from __future__ import annotations

import django_filters

from accounts.filtersets import IdFilter
from escalation.choices import EscalationStatus, Level
from escalation.models import Escalation
from scorecards.choices import AreaCode


class EscalationFilterSet(django_filters.FilterSet):
    level = django_filters.TypedChoiceFilter(choices=Level.choices, coerce=int)
    status = django_filters.ChoiceFilter(choices=EscalationStatus.choices)
    account = IdFilter(field_name="account_id", label="Account id")
    cta = IdFilter(field_name="cta_id", label="CTA id")
    area = django_filters.ChoiceFilter(field_name="cta__area", choices=AreaCode.choices)
    owner = django_filters.CharFilter(field_name="cta__owner__username", label="CTA owner")
    acknowledged = django_filters.BooleanFilter(
        field_name="acknowledged_at", lookup_expr="isnull", exclude=True, label="Acknowledged"
    )

    class Meta:
        model = Escalation
        fields: list[str] = []
