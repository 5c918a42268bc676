"""Panels other apps add to a page, so a page never imports the apps that extend it.

The account page lives in ``accounts``, but scorecards, CTAs and sponsors each show a panel
on it. Each app registers its panel in ``AppConfig.ready()``; the page renders them in
order. This keeps the import arrows of STYLE.md pointing one way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    context: Callable[[HttpRequest, Any], dict[str, Any]]
    order: int = 100


_registry: dict[str, list[Panel]] = {}


def register(page: str, panel: Panel) -> None:
    panels = [p for p in _registry.get(page, []) if p.name != panel.name]
    _registry[page] = sorted([*panels, panel], key=lambda p: p.order)


def render(page: str, request: HttpRequest, obj: Any) -> list[SafeString]:
    return [
        SafeString(render_to_string(p.template, p.context(request, obj), request=request))
        for p in _registry.get(page, [])
    ]


@dataclass(frozen=True)
class Column:
    """A column another app adds to a list page (e.g. scorecard colours on the accounts)."""

    name: str
    header_template: str
    cell_template: str
    prepare: Callable[[Any], Any] = lambda qs: qs  # the queryset, before pagination
    decorate: Callable[[list[Any]], None] = lambda objects: None  # the page's objects
    sorts: dict[str, tuple[Any, ...]] | None = None  # sort key -> order_by terms
    # Sort key -> the words for it in a page's "Sort by" menu (the 1:1 review, the cockpit).
    # A page orders its queryset by a column's terms, so the sort costs no extra query.
    sort_labels: dict[str, str] | None = None
    order: int = 100


_columns: dict[str, list[Column]] = {}


def register_column(page: str, column: Column) -> None:
    columns = [c for c in _columns.get(page, []) if c.name != column.name]
    _columns[page] = sorted([*columns, column], key=lambda c: c.order)


def columns(page: str) -> list[Column]:
    return list(_columns.get(page, []))


def column_sorts(columns: list[Column]) -> dict[str, tuple[Any, ...]]:
    """The sorts the page's columns add: sort key -> order_by terms."""
    return {key: terms for c in columns for key, terms in (c.sorts or {}).items()}


def sort_options(columns: list[Column]) -> list[tuple[str, str]]:
    """(sort key, label) for a page's "Sort by" menu, from the columns that name theirs."""
    return [(key, label) for c in columns for key, label in (c.sort_labels or {}).items()]
