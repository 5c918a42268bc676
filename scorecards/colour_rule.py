"""The colour rule of PRODUCT.md ("Scorecards"), written to be read: one account at a time.

This is the reference. The batch engine (``compute.combine``) works the same rule out on
arrays for a whole book, with digests and diffing, and a property test holds the two
equal (tests/scorecards/test_colour_rule.py). Learn the rule here; change it here first.

For each of the eight areas of an account:

1. **Measures.** The area's colour is the worst colour of its measures, its score their
   lowest score (100 and green when it has none). Its reasons are the measures' verdicts,
   worst first (lowest score, then measure code).
2. **CTA floor.** An open manual risk CTA in the area makes it at least yellow, a flagged
   one red: when the floor is worse than the measures, the colour rises to it, the score
   moves into the colour's band and the CTA comes first among the reasons; otherwise the
   CTA is listed after the measures.
3. **Override.** A person's colour, with a reason and an expiry, wins over both: the
   colour is the override's, the score moves into its band, and the override is the
   first reason — except that it never turns a **flagged** area (a red CTA floor) below
   red: someone asked for help there, and lifting the flag is the way down. Such an
   override is listed last and changes nothing.

**No data.** Missing or thin data is not risk: a measure that has nothing to judge says so
(its row is ``no_data``: green, score 100, a sentence of what is missing). An area is *no
data* when every one of its measure rows is (or it has none) and no CTA floor or override
sets its colour: its colour stays green (colours are green, yellow, red), and pages show it
grey, "No data", with the sentences of what is missing.

**Overall.** The worst area (by colour, then lowest score, the first area in order on a
tie) gives the account's colour and score, and its first reason the sentence ("Support is
red: …", naming the other areas of that colour). All green: "All areas are green." (naming
the no-data areas when there are some) and the lowest area score; an account with no data in
any area is itself no data. A weighted mean of the scores of the areas *with data* is kept
beside it, for ranking only: a no-data area's 100 would only inflate it. An account with no
data at all ranks at ``NO_DATA_WEIGHTED``, the floor of green: nothing says risk, nothing
vouches for it, so it ranks below every account whose data reads green.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scorecards.measures import COLOR_RANK, GREEN, RANK_COLOR, RED, YELLOW, ref_links

# The score band of each colour: a floor or an override moves the score into it.
BAND = {GREEN: (70, 100), YELLOW: (40, 69), RED: (0, 39)}

# The weighted score of an account with no data in any area: the floor of the green band.
NO_DATA_WEIGHTED = BAND[GREEN][0]


@dataclass(frozen=True)
class AreaInfo:
    """An area as the rule sees it: its code, its name in sentences, its weight."""

    code: str
    name: str
    weight: int


@dataclass(frozen=True)
class CtaFloor:
    """The colour open risk CTAs hold an area at (yellow; red when one is flagged)."""

    color: str  # yellow or red
    reasons: list[dict[str, Any]]  # [{"type": "cta", "id": 7, "sentence": "…"}]


@dataclass(frozen=True)
class OverrideInfo:
    """A person's colour for an area, with their reason, until it expires."""

    id: int
    color: str
    reason: str
    set_by: str
    expires_at: str


def into_band(score: int, color: str) -> int:
    low, high = BAND[color]
    return max(low, min(high, score))


def worst(colors: Sequence[str]) -> str:
    return RANK_COLOR[max((COLOR_RANK[c] for c in colors), default=0)]


def override_reason(ov: OverrideInfo) -> dict[str, Any]:
    return {
        "kind": "override",
        "color": ov.color,
        "sentence": f"Set to {ov.color} by {ov.set_by} until {ov.expires_at}: {ov.reason}",
        "refs": [{"type": "override", "id": ov.id}],
    }


def held_red(floor_color: str | None, override_color: str) -> bool:
    """Whether a flag holds an area red against an override of this colour: a flagged
    area (a red CTA floor) never goes below red by an override (``services.override_set``
    refuses one; one set before the flag waits)."""
    return floor_color == RED and override_color != RED


def override_sets_colour(override: OverrideInfo, cta_floor: CtaFloor | None) -> bool:
    """Whether a live override sets its area's colour: always, but against a flag."""
    return not held_red(cta_floor.color if cta_floor else None, override.color)


def cta_reason(floor: CtaFloor) -> dict[str, Any]:
    return {
        "kind": "cta",
        "color": floor.color,
        "sentence": "; ".join(r["sentence"] for r in floor.reasons) or "Open risk CTA",
        "refs": [{"type": "cta", "id": r["id"]} for r in floor.reasons if "id" in r],
    }


@dataclass(frozen=True)
class Verdict:
    """What one measure said about one account (one row of ``measures.run_measures``)."""

    measure: str
    area: str
    value: float | None
    color: str
    score: int
    sentence: str
    threshold: str = ""
    ref_type: str = ""
    ref_ids: str = ""
    no_data: bool = False  # nothing to judge: a gap in the data, not a reading

    def reason(self) -> dict[str, Any]:
        return {
            "kind": "measure",
            "measure": self.measure,
            "value": None if self.value is None else round(float(self.value), 4),
            "color": self.color,
            "score": int(self.score),
            "sentence": self.sentence,
            "threshold": self.threshold,
            "refs": ref_links(self.ref_type, self.ref_ids),
            # Only on a gap (absent: a reading), so the reasons stored before the flag stand.
            **({"no_data": True} if self.no_data else {}),
        }


@dataclass
class AreaColour:
    """An area's colour and score, what the measures alone said, and why."""

    area: str
    color: str
    score: int
    computed_color: str
    computed_score: int
    reasons: list[dict[str, Any]] = field(default_factory=list)
    no_data: bool = False  # every measure a gap in the data, and no CTA or person set it


@dataclass
class OverallColour:
    """The account's colour: its worst area's, with the sentence that names it."""

    color: str
    score: int
    weighted_score: int
    worst_area: str
    reason: str
    no_data: bool = False  # no area of the account has data


def area_colour(
    area: str,
    verdicts: Sequence[Verdict],
    cta_floor: CtaFloor | None = None,
    override: OverrideInfo | None = None,
) -> AreaColour:
    """One area of one account, by the three steps of the module docstring."""
    # 1. Measures: the worst colour, the lowest score; reasons worst first.
    ordered = sorted(verdicts, key=lambda v: (v.score, v.measure))
    color = worst([v.color for v in ordered])
    score = min((int(v.score) for v in ordered), default=100)
    computed_color, computed_score = color, score
    # No data: no measure had anything to judge (until a CTA or a person sets the colour).
    no_data = all(v.no_data for v in ordered)
    first: list[dict[str, Any]] = []
    last: list[dict[str, Any]] = []
    # 2. CTA floor: at least yellow for an open risk CTA, red for a flagged one.
    if cta_floor is not None:
        if COLOR_RANK[cta_floor.color] > COLOR_RANK[color]:
            color, score = cta_floor.color, into_band(score, cta_floor.color)
            first.append(cta_reason(cta_floor))
            no_data = False
        else:
            last.append(cta_reason(cta_floor))
    # 3. Override: a person's colour wins until it expires, but never below a flag's red.
    if override is not None and override_sets_colour(override, cta_floor):
        color, score = override.color, into_band(score, override.color)
        first.insert(0, override_reason(override))
        no_data = False
    elif override is not None:  # a flagged area stays red
        last.append(override_reason(override))
    reasons = [*first, *(v.reason() for v in ordered), *last]
    return AreaColour(area, color, score, computed_color, computed_score, reasons, no_data)


def overall_colour(areas: Sequence[AreaInfo], colours: Mapping[str, AreaColour]) -> OverallColour:
    """The account's colour from its areas' (``areas`` in their order, with weights)."""
    if not areas:
        return OverallColour(GREEN, 100, 0, "", "All areas are green.")
    cards = [colours[a.code] for a in areas]
    # The weighted mean of the areas with data only: a no-data area's 100 says nothing.
    measured = [(c, a) for c, a in zip(cards, areas, strict=True) if not c.no_data]
    if measured:
        total_weight = sum(a.weight for _, a in measured) or 1
        total = sum(c.score * a.weight for c, a in measured)
        weighted = round(total / total_weight)  # half to even, as the engine rounds
    else:
        weighted = NO_DATA_WEIGHTED
    worst_card = max(cards, key=lambda c: (COLOR_RANK[c.color], -c.score))  # first on a tie
    name = {a.code: a.name for a in areas}
    if worst_card.color == GREEN:
        lowest = min(c.score for c in cards)
        gaps = [name[c.area] for c in cards if c.no_data]
        return OverallColour(
            GREEN, lowest, weighted, "", green_reason(gaps, len(cards)), len(gaps) == len(cards)
        )
    others = [name[c.area] for c in cards if c is not worst_card and c.color == worst_card.color]
    head = worst_card.reasons[0]["sentence"] if worst_card.reasons else ""
    reason = f"{name[worst_card.area]} is {worst_card.color}: {head}"
    if others:
        reason += f" (also {worst_card.color}: {', '.join(others)})"
    return OverallColour(
        worst_card.color, worst_card.score, weighted, worst_card.area, reason[:500]
    )


def green_reason(gaps: Sequence[str], areas: int) -> str:
    """The sentence of an account whose areas are all green, naming those without data."""
    if not gaps:
        return "All areas are green."
    if len(gaps) == areas:
        return "No data on record in any area."
    return f"All areas with data are green (no data: {', '.join(gaps)})."[:500]


def account_colours(
    areas: Sequence[AreaInfo],
    verdicts: Sequence[Verdict],
    cta_floors: Mapping[str, CtaFloor] | None = None,
    overrides: Mapping[str, OverrideInfo] | None = None,
) -> tuple[dict[str, AreaColour], OverallColour]:
    """Every area of one account and its overall colour."""
    cta_floors, overrides = cta_floors or {}, overrides or {}
    colours = {
        a.code: area_colour(
            a.code,
            [v for v in verdicts if v.area == a.code],
            cta_floors.get(a.code),
            overrides.get(a.code),
        )
        for a in areas
    }
    return colours, overall_colour(areas, colours)
