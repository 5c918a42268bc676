"""Colour chips and trend arrows: colour is never the only cue (a symbol and a word too)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html

from accounts.selectors import FACT_MODELS
from scorecards.choices import AreaCode

register = template.Library()

ICONS = {"green": "●", "yellow": "▲", "red": "■"}
LABELS = {"green": "Green", "yellow": "Yellow", "red": "Red"}
TREND = {
    "better": ("↑", "better"),
    "worse": ("↓", "worse"),
    "same": ("→", "same"),
}


# A gap in the data is not a colour: grey, a hollow circle and the words "No data".
NO_DATA_ICON, NO_DATA_LABEL = "○", "No data"


@register.simple_tag
def chip(
    color: str | None,
    score: int | None = None,
    compact: bool = False,
    no_data: bool = False,
    missing: str = "",
) -> str:
    """A colour chip; for a no-data area or reason (``no_data``) a grey "No data" chip
    instead of its (green) colour, ``missing`` (what is missing) as its tooltip."""
    if not color:
        return format_html('<span class="chip chip-none">{}</span>', "—")
    if no_data:
        return _no_data_chip(compact, missing)
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


def _no_data_chip(compact: bool, missing: str) -> str:
    title = f"{NO_DATA_LABEL}: {missing}" if missing else NO_DATA_LABEL
    if compact:
        return format_html(
            '<span class="chip chip-nodata chip-compact" title="{}">'
            '<span aria-hidden="true">{}</span><span class="visually-hidden">{}</span></span>',
            title,
            NO_DATA_ICON,
            title,
        )
    return format_html(
        '<span class="chip chip-nodata" title="{}"><span aria-hidden="true">{}</span> {}</span>',
        title,
        NO_DATA_ICON,
        NO_DATA_LABEL,
    )


@register.filter
def missing(reasons: list[dict] | None) -> str:
    """What a no-data area lacks: the sentences of its gaps as one ("No NPS answers in the
    window; no CSAT answers in the last 90 days."), without a sentence's own full stop
    before the next one (".;")."""
    parts = [
        r.get("sentence", "").strip().rstrip(".")
        for r in reasons or []
        if r.get("no_data") and r.get("sentence", "").strip()
    ]
    parts = [p[:1].lower() + p[1:] if i and p[1:2].islower() else p for i, p in enumerate(parts)]
    return "; ".join(parts) + "." if parts else ""


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


# Column headings of the 1:1 review: whole words where they fit, a plain abbreviation with
# its full name on hover where they do not.
AREA_SHORT = {"implementation": "Implem.", "readiness": "Readiness", "sentiment": "Sentiment"}


@register.filter
def area_short(code: str) -> str:
    name = area_name(code)
    short = AREA_SHORT.get(code)
    if short is None or short == name:
        return name
    return format_html('<abbr title="{}">{}</abbr>', name, short)


@register.simple_tag
def ref_link(ref: dict, account_id: int) -> str:
    """A reason's link to the fact or CTA behind it ("ticket #80"), as a link where csrisk
    has a page for it: the account's fact page, or the CTA."""
    kind, pk = str(ref.get("type", "")), ref.get("id")
    text = f"{kind.replace('_', ' ')} #{pk}"
    url = None
    if isinstance(pk, int):
        if kind in FACT_MODELS:
            url = reverse("accounts:fact", args=[account_id, kind, pk])
        elif kind == "cta":
            url = reverse("cockpit:cta", args=[pk])
    if url is None:
        return format_html("{}", text)
    return format_html('<a href="{}">{}</a>', url, text)
