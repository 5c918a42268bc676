"""Fields other apps add to an API resource without the resource importing them.

``accounts`` owns the account resource, but the scorecard in an account's JSON comes
from ``scorecards``. Apps register a field (and the prefetch it needs, so lists keep a
constant query count) in ``AppConfig.ready()``; serializers add them in ``get_fields()``,
where drf-spectacular sees them too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet
from rest_framework import serializers


@dataclass(frozen=True)
class FieldExtension:
    name: str
    field: Callable[[], serializers.Field]
    prepare: Callable[[QuerySet], QuerySet]


_registry: dict[str, dict[str, FieldExtension]] = {}


def register(resource: str, extension: FieldExtension) -> None:
    _registry.setdefault(resource, {})[extension.name] = extension


def fields(resource: str) -> dict[str, serializers.Field]:
    return {name: ext.field() for name, ext in _registry.get(resource, {}).items()}


def prepare(resource: str, queryset: QuerySet) -> QuerySet:
    for ext in _registry.get(resource, {}).values():
        queryset = ext.prepare(queryset)
    return queryset
