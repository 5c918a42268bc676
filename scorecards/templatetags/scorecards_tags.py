"""Colour chips and trend arrows: colour is never the only cue (a symbol and a word too)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from scorecards.choices import AreaCode

register = template.Library()

ICONS = {"green": "●", "yellow": "▲", "red": "■"}
LABELS = {"green": "Green", "yellow": "Yellow", "red": "Red"}
TREND = {
    "better": ("↑", "better"),
    "worse": ("↓", "worse"),
    "same": ("→", "same"),
}


@register.simple_tag
def chip(color: str | None, score: int | None = None, compact: bool = False) -> str:
    if not color:
        return format_html('<span class="chip chip-none">{}</span>', "—")
    label = LABELS.get(color, color)
    if compact:
        return format_html(
            '<span class="chip chip-{} chip-compact" title="{}{}">'
            '<span aria-hidden="true">{}</span><span class="visually-hidden">{}</span></span>',
            color,
            label,
            f" ({score})" if score is not None else "",
            ICONS.get(color, ""),
            label,
        )
    return format_html(
        '<span class="chip chip-{}"><span aria-hidden="true">{}</span> {}{}</span>',
        color,
        ICONS.get(color, ""),
        label,
        f" · {score}" if score is not None else "",
    )


@register.simple_tag
def trend(t: object, which: str = "week") -> str:
    if t is None:
        return ""
    direction = getattr(t, which)
    arrow, word = TREND[direction]
    since = "7 days" if which == "week" else "30 days"
    return format_html(
        '<span class="trend trend-{}" title="{} than {} ago">'
        '<span aria-hidden="true">{}</span><span class="visually-hidden">{} vs {} ago</span>'
        "</span>",
        direction,
        word.capitalize() if word != "same" else "Same",
        since,
        arrow,
        word,
        since,
    )


@register.filter
def area_name(code: str) -> str:
    try:
        return AreaCode(code).label
    except ValueError:
        return "Overall" if code == "overall" else code
