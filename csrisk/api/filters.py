"""The API's filter backend: django-filter, strict about what a client sends.

HTML forms send empty fields (`?segment=`) and the pages treat them as "any"; an API
client that sends an empty or repeated typed parameter has made a mistake, and gets a 400
naming it instead of a silently unfiltered list.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.serializers import Serializer

# Free-text filters may legitimately be empty (a cleared search box).
LENIENT = (django_filters.CharFilter,)


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            errors = {}
            for name, declared in filterset_class.base_filters.items():
                values = request.query_params.getlist(name)
                if not values:
                    continue
                if len(values) > 1:
                    errors[name] = "Give this parameter once."
                elif values[0] == "" and not isinstance(declared, LENIENT):
                    errors[name] = "Give a value, or leave the parameter out."
                elif isinstance(declared, django_filters.BooleanFilter) and values[0] not in (
                    "true",
                    "false",
                ):
                    errors[name] = "Use true or false."
            if errors:
                raise ValidationError(errors)
        return super().filter_queryset(request, queryset, view)


def query_params(request: Request, serializer_class: type[Serializer]) -> dict[str, Any]:
    """A read's query parameters (other than the page's) checked by ``serializer_class``,
    as strictly as the filter backend: each given once and not empty, else a 400 naming it.
    For lists that are not querysets (the summary's tables), where no filterset applies."""
    serializer = serializer_class(data=request.query_params)
    errors = {}
    for name in serializer.fields:
        values = request.query_params.getlist(name)
        if len(values) > 1:
            errors[name] = "Give this parameter once."
        elif values and values[0] == "":
            errors[name] = "Give a value, or leave the parameter out."
    if errors:
        raise ValidationError(errors)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
