from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def money(value: Decimal | float | int | None) -> str:
    """Whole currency units with thousands separators: 1234567.8 → 1,234,568."""
    return "—" if value is None else f"{round(float(value)):,}"


@register.filter
def signed_money(value: Decimal | float | int | None) -> str:
    """A change with its sign and a word for no change: +1,200 / −300 / no change."""
    if value is None:
        return "no history"
    v = round(float(value))
    if v == 0:
        return "no change"
    return f"+{v:,}" if v > 0 else f"−{-v:,}"


@register.filter
def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


@register.filter
def num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


@register.filter
def ci(value: tuple[float, float] | None) -> str:
    return "—" if value is None else f"{value[0]:.2f}–{value[1]:.2f}"


@register.filter
def get_item(mapping: dict, key: str) -> object:
    return mapping.get(key, key)


@register.simple_tag
def prior_note() -> str:
    """The words beside any probability that comes from the documented prior."""
    from insights.predictions import PRIOR_NOTE

    return PRIOR_NOTE
