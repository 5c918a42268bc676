"""Scorecard measures: plain functions over plain data (pandas), no ORM.

Every measure takes the book's facts as DataFrames (``Frames``) and its thresholds
(``Threshold``), works on all accounts at once, and returns one row per account with:

- ``value``    the number the measure is about (e.g. 1.8 for "+180%"),
- ``color``    green / yellow / red from the thresholds,
- ``score``    0–100 (100 best) on a scale whose bands match the colours:
               green 70–100, yellow 40–69, red 0–39,
- ``sentence`` a human reading of the value ("non-critical tickets up 180% …"),
- ``ref_type`` and ``ref_ids``: up to five facts behind it, as their kind ("ticket") and
               their ids, newest first, as text ("17,16,15"; "" when none). Text hashes
               and compares in bulk; ``ref_links`` turns it into the reason's
               ``[{"type": "ticket", "id": 17}, …]`` for the rows a recompute stores.
               A measure whose facts are many may instead give a *signature* of the
               facts its links are drawn from ("@…", ``DEFERRED``): it changes whenever
               those facts do, so it hashes like the ids would, and the ids themselves
               are looked up only for the reasons a recompute stores
               (``selectors.deferred_links``; see ``noncritical_velocity``).

Accounts a measure has no data for get green, score 100 and a sentence that says so:
the reason is visible, never silently blank.

Thresholds are configuration (``scorecards.MeasureConfig``); the defaults below seed it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from csrisk.frames import frame_from_arrays

GREEN, YELLOW, RED = "green", "yellow", "red"
COLOR_RANK = {GREEN: 0, YELLOW: 1, RED: 2}
RANK_COLOR = {v: k for k, v in COLOR_RANK.items()}


@dataclass(frozen=True)
class Threshold:
    """When a measure's value turns yellow and red. ``best`` anchors the top of the score."""

    code: str
    area: str
    label: str
    yellow_at: float
    red_at: float
    higher_is_worse: bool = True
    best: float = 0.0
    window_days: int = 90
    params: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True


@dataclass
class Frames:
    """The book's facts for a set of accounts, as of ``now`` (UTC)."""

    now: pd.Timestamp
    account_ids: list[int]
    # Tickets and usage arrive aggregated per account (index account_id; columns in
    # ``selectors.TICKET_COLUMNS`` / ``USAGE_COLUMNS``, computed by the database as of
    # ``now``); the other facts arrive as rows.
    tickets: pd.DataFrame
    usage: pd.DataFrame
    sentiment: pd.DataFrame  # id account_id responded_at nps csat
    contacts: pd.DataFrame  # id account_id name title roles at_company left_on
    people: pd.DataFrame  # id account_id contact_id change occurred_at roles old_title new_title
    competitors: pd.DataFrame  # id account_id competitor activity occurred_at
    milestones: pd.DataFrame  # id account_id name due_on completed_on
    readiness: pd.DataFrame  # id account_id assessed_on data skills staffing

    # What more than one measure derives from the same facts, derived once (``_answers``).
    shared: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @cached_property
    def index(self) -> pd.Index:
        """``account_ids`` as the index of every measure's rows (built once, not twenty
        times)."""
        return pd.Index(self.account_ids, name="account_id")


# --- colour and score -------------------------------------------------------------------


def classify(values: pd.Series, t: Threshold) -> tuple[pd.Series, pd.Series]:
    """Colour and 0–100 score for each value, vectorised.

    Higher-is-worse (e.g. velocity): red at ``value >= red_at``, yellow at
    ``value >= yellow_at``. Lower-is-worse (e.g. utilisation) mirrors it: red at
    ``value <= red_at``, yellow at ``value <= yellow_at``. Inside each band the score moves
    linearly: green 70→100 from the yellow threshold to ``best``, yellow 69→40 across the
    band, red 39→0 over one more band-width past the red threshold.
    """
    color, score = _classify(values.to_numpy(dtype=float), t)
    return pd.Series(color, index=values.index), pd.Series(score, index=values.index)


def _classify(v: np.ndarray, t: Threshold) -> tuple[np.ndarray, np.ndarray]:
    # On plain arrays: pandas pays ~100 µs an operation, which dominates small recomputes.
    y, r, b = float(t.yellow_at), float(t.red_at), float(t.best)
    if not t.higher_is_worse:  # mirror so that larger always means worse
        v, y, r, b = -v, -y, -r, -b
    red = v >= r
    yellow = ~red & (v >= y)
    color = np.where(red, RED, np.where(yellow, YELLOW, GREEN)).astype(object)
    green_span = max(y - b, 1e-9)
    band = max(r - y, 1e-9)
    green_score = 70 + 30 * np.clip((y - v) / green_span, 0, 1)
    yellow_score = 40 + 29 * np.clip((r - v) / band, 0, 1)
    red_score = 39 * np.clip(1 - (v - r) / band, 0, 1)
    score = np.where(red, red_score, np.where(yellow, yellow_score, green_score))
    return color, np.round(score).astype(int)


class Refs(NamedTuple):
    """A measure's reason links: the kind of fact and, per account, its ids as text."""

    kind: str
    ids: pd.Series  # index account_id; "17,16,15"


MEASURE_COLUMNS = [
    "measure",
    "area",
    "value",
    "color",
    "score",
    "sentence",
    "threshold",
    "ref_type",
    "ref_ids",
    "no_data",
]


# The first character of a ``ref_ids`` signature whose ids are looked up when stored.
DEFERRED = "@"


def ref_links(ref_type: str, ref_ids: str) -> list[dict[str, Any]]:
    """A measure row's reason links as the stored reason reads them (none for a signature
    nobody looked up)."""
    if ref_ids.startswith(DEFERRED):
        return []
    return [{"type": ref_type, "id": int(i)} for i in ref_ids.split(",") if i]


def _result(
    frames: Frames,
    t: Threshold,
    values: pd.Series,
    sentences: pd.Series,
    refs: Refs | None = None,
    no_data: str | pd.Series = "No data on record.",
    *,
    absence_is_good: bool = False,
    thin: pd.Series | None = None,
) -> pd.DataFrame:
    """Assemble a measure's rows for every account; accounts without a value get no_data.

    An account without a value is green, score 100, with the ``no_data`` sentence. Its row's
    ``no_data`` flag says whether that is a reading ("no urgent ticket open":
    ``absence_is_good``) or a gap in the data ("no NPS answers in the window"), which the
    scorecard shows as "no data" (grey), never as risk. ``thin`` (bool per account) marks
    values too thin to judge (a trend on a handful of tickets): they keep their value and
    sentence but are green and flagged ``no_data`` as well; their score stays in the green band
    (70–100) but keeps its order (a thin +200% scores below a thin +10%), so rankings that read
    scores — the backtest's AUC, the risk model's features — still learn from thin evidence
    without it ever colouring anything.
    ``no_data`` may be a sentence per account (index account_id) when what is missing
    differs between accounts.
    """
    index = frames.index
    n = len(index)
    # Aligned on plain arrays, and not at all for a measure without values (most measures
    # of most single accounts): a reindex costs ~50–100 µs, a recompute of one account
    # made sixty of them.
    v = _aligned(values, index, np.nan, float) if len(values) else np.full(n, np.nan)
    has = ~np.isnan(v)
    gap = np.zeros(n, dtype=bool) if absence_is_good else ~has
    if thin is not None and len(thin):
        weak = _aligned(thin.astype(bool), index, False, bool) & has
        gap |= weak
        has = has & ~weak
    known = ~np.isnan(v)
    color, score = _classify(np.where(known, v, float(t.best)), t)
    text = _aligned(sentences, index, None, object) if len(sentences) else None
    missing = (
        _aligned(no_data, index, "No data on record.", object)
        if isinstance(no_data, pd.Series)
        else _repeat(no_data, n)
    )
    ref_ids = (
        _aligned(refs.ids, index, "", object)
        if refs is not None and len(refs.ids)
        else _repeat("", n)
    )
    return _frame(
        {
            "measure": np.full(n, t.code, dtype=object),
            "area": np.full(n, t.area, dtype=object),
            "value": v,
            "color": np.where(has, color, GREEN).astype(object),
            "score": np.where(has, score, np.where(known & gap, _green_band(v, t), 100)),
            "sentence": (
                np.where(has | gap & ~np.isnan(v), text, missing) if text is not None else missing
            ),
            "threshold": np.full(n, _threshold_text(t), dtype=object),
            "ref_type": np.full(n, refs.kind if refs is not None else "", dtype=object),
            "ref_ids": ref_ids,
            "no_data": gap,
        },
        index,
    )


def _green_band(v: np.ndarray, t: Threshold) -> np.ndarray:
    """Scores of thin values, squeezed into the green band (70–100) in the same order: 100
    at ``best``, 70 at one band-width past the red threshold or beyond."""
    y, r, b = float(t.yellow_at), float(t.red_at), float(t.best)
    x = np.nan_to_num(v, nan=b)
    if not t.higher_is_worse:
        x, r, b = -x, -r, -b
    far = r + max(abs(r - y), 1e-9)  # where the full scale reaches 0
    span = max(far - b, 1e-9)
    return np.round(70 + 30 * np.clip((far - x) / span, 0, 1)).astype(int)


def _aligned(series: pd.Series, index: pd.Index, fill: object, dtype: type) -> np.ndarray:
    """``series.reindex(index)`` as an array of ``dtype``, ``fill`` where it has no value
    (a missing or NaN text becomes ``fill`` too, as ``reindex().fillna(fill)`` did)."""
    at = series.index.get_indexer(index)
    values = series.to_numpy(dtype=dtype)
    out = np.full(len(index), fill, dtype=dtype)
    found = at >= 0
    out[found] = values[at[found]]
    if dtype is object and fill is not None:
        out[pd.isna(out)] = fill
    return out


def _frame(columns: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    """A DataFrame whose text columns stay plain Python objects. pandas 3 infers its ``str``
    dtype from object arrays of text (a scan of every value), and without pyarrow that
    dtype's every operation goes one Python object at a time: the measure rows' concat,
    sort, colour lookup and row hashes took about twice as long as on object columns. The
    row hashes are the same (hashing reads the same values)."""
    return frame_from_arrays(columns, index)


def _repeat(text: str, n: int) -> np.ndarray:
    return np.full(n, text, dtype=object)


def _threshold_text(t: Threshold) -> str:
    op = "≥" if t.higher_is_worse else "≤"
    return f"yellow {op} {_fmt(t.yellow_at)}, red {op} {_fmt(t.red_at)}"


def _fmt(x: float) -> str:
    return f"{x:g}"


def _refs(df: pd.DataFrame, kind: str, order: str, limit: int = 5) -> Refs:
    """Per account, the ids of its most recent ``limit`` rows as reason links."""
    if df.empty:
        return Refs(kind, pd.Series(dtype=object))
    top = df.sort_values(order, ascending=False).groupby("account_id").head(limit)
    # One pass over plain arrays: a groupby().apply() costs more than the whole measure.
    refs: dict[Any, list[str]] = {}
    for account_id, fact_id in zip(top["account_id"].tolist(), top["id"].tolist(), strict=True):
        refs.setdefault(account_id, []).append(str(int(fact_id)))
    return Refs(kind, pd.Series({a: ",".join(v) for a, v in refs.items()}, dtype=object))


def _id_refs(ids: pd.Series, kind: str) -> Refs:
    """Fact ids as the database lists them (newest first, "17,16,15") as reason links."""
    return Refs(kind, ids)


def _columns(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The per-account aggregate columns a measure reads (empty when none were loaded)."""
    if all(c in df.columns for c in columns):
        return df[columns]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _both(a: pd.Series, b: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The accounts with a value in both series (cheaper than concat + dropna)."""
    keep = a.index.intersection(b.index)
    a, b = a.reindex(keep), b.reindex(keep)
    known = a.notna().to_numpy() & b.notna().to_numpy()
    return a[known], b[known]


def _pct(x: float) -> str:
    return f"{x * 100:+.0f}%"


def _ago(days: int) -> str:
    return {0: "today", 1: "yesterday"}.get(days, f"{days} days ago")


def _days_ago(now: pd.Timestamp, days: int) -> pd.Timestamp:
    return now - pd.Timedelta(days=days)


# --- credibility ------------------------------------------------------------------------
#
# A rate or a trend on a handful of facts is mostly chance: 2 tickets after none is "+25%",
# one NPS answer of 6 is "red" (PRODUCT.md: "Trends on tiny counts are not alarms"). So a
# rate or trend measure judges only with enough facts (its ``min_…`` parameter) and, where
# its facts allow an exact test, only a change that chance explains too rarely: a one-sided
# test at ``params["confidence"]`` (0.9 for velocity, 0.95 for the CSAT fall). Otherwise its
# row is thin (``_result(thin=…)``): green, flagged no data, its value kept and its sentence
# saying why.

# Up to this many facts the tails below are summed exactly (integers, no rounding); past it
# the normal approximation is as good as exact at any confidence anyone configures, and the
# exact sum would cost milliseconds per account.
_EXACT_UP_TO = 2000


def rise_p_value(n1: int, n0: int) -> float:
    """How often chance alone gives a rise as large as n1 after n0 in two equal windows.

    Under "no change" each of the n1 + n0 facts falls in the latest window with probability
    ½, so n1 given n1 + n0 is Binomial(n1 + n0, ½); the one-sided p-value is P(X ≥ n1)
    = Σ_{k ≥ n1} C(n, k) / 2ⁿ (exact; the normal approximation past ``_EXACT_UP_TO``)."""
    n1, n0 = int(n1), int(n0)
    n = n1 + n0
    if n1 <= 0:
        return 1.0
    if n > _EXACT_UP_TO:
        z = (n1 - 0.5 - n / 2) / math.sqrt(n / 4)  # continuity-corrected
        return 0.5 * math.erfc(z / math.sqrt(2))
    term = math.comb(n, n1)
    tail = 0
    for k in range(n1, n + 1):  # C(n, k + 1) = C(n, k) · (n − k) / (k + 1), exactly
        tail += term
        term = term * (n - k) // (k + 1)
    return tail / 2**n


@lru_cache(maxsize=8192)
def rise_needed(n: int, alpha: float) -> int:
    """The fewest of n facts the latest window must hold for a credible rise: the smallest
    k with ``rise_p_value(k, n − k) ≤ alpha``. What the velocity measure asks, once per
    total instead of once per account: the tail is summed from the top down and stops at
    the first k whose tail passes alpha (the same sums, so the same answers — a test
    proves it against ``rise_p_value``)."""
    if n > _EXACT_UP_TO:  # the tail is monotone in k: bisect on the approximation
        low, high = 0, n + 1
        while low < high:
            mid = (low + high) // 2
            if rise_p_value(mid, n - mid) <= alpha:
                high = mid
            else:
                low = mid + 1
        return low
    whole = 2**n
    tail, term = 0, 1  # C(n, n)
    for k in range(n, 0, -1):  # C(n, k − 1) = C(n, k) · k / (n − k + 1), exactly
        tail += term
        if tail / whole > alpha:
            return k + 1
        term = term * k // (n - k + 1)
    return 1 if (tail + term) / whole > alpha else 0


def share_fall_p_value(k1: int, n1: int, k0: int, n0: int) -> float:
    """How often chance alone gives a share as low as k1 of n1 lately after k0 of n0 before
    (one-sided Fisher exact test): with the k0 + k1 "yes" answers of all n0 + n1 dealt at
    random, the chance that at most k1 land among the recent n1 (hypergeometric tail)."""
    k1, n1, k0, n0 = int(k1), int(n1), int(k0), int(n0)
    total, yes = n0 + n1, k0 + k1
    lowest = max(0, n1 - (total - yes))
    hits = sum(math.comb(yes, j) * math.comb(total - yes, n1 - j) for j in range(lowest, k1 + 1))
    return hits / math.comb(total, n1)


def _alpha(t: Threshold) -> float:
    """The chance a credible change may still be luck: 1 − ``params["confidence"]``
    (rounded so that 0.95 reads as 0.05, not 0.050000000000000044)."""
    return round(1 - float(t.params.get("confidence", 0.95)), 12)


def _confidence_text(t: Threshold) -> str:
    return f"{float(t.params.get('confidence', 0.95)) * 100:g}% confidence"


def _change(x: float, unit: str = "points", digits: int = 0) -> str:
    """ "down 4.5 points" / "up 3 points" / "no change" for a fall ``x`` (positive = down)."""
    if round(x, digits) == 0:
        return "no change"
    amount = f"{abs(x):.{digits}f}"
    if amount == "1" and unit.endswith("s"):  # "down 1 point", not "1 points"
        unit = unit[:-1]
    return f"{'down' if x > 0 else 'up'} {amount} {unit}"


def _s(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# --- habits -----------------------------------------------------------------------------


def usage_drop(f: Frames, t: Threshold) -> pd.DataFrame:
    """Active users, last 4 weeks vs the 8 weeks before: value = fall as a fraction.

    value = 1 - mean(active, weeks in (now-28d, now]) / mean(active, weeks in (now-84d, now-28d])
    (negative when usage grows); the database takes the two means per account
    (``selectors.usage_stats``); accounts without both, or with a zero baseline, have no value.
    A baseline under params["min_users"] (5) active users is too thin to judge: one user of
    three going quiet is "−33%".
    """
    recent_days = int(t.params.get("recent_days", 28))
    base_days = int(t.params.get("baseline_days", 56))
    least = float(t.params.get("min_users", 5))
    u = _columns(f.usage, ["u_recent", "u_base"]).astype(float)
    u = u[u["u_recent"].notna() & (u["u_base"] > 0)]
    recent, base = u["u_recent"], u["u_base"]
    value = 1 - recent / base
    few = base < least
    sentence = pd.Series(
        [
            f"Avg {rec:.0f} active users over the last {recent_days // 7} weeks vs {bas:.0f} "
            f"the {base_days // 7} weeks before ({_pct(rec / bas - 1)})"
            + (_too_few_users(least) if thin else "")
            for rec, bas, thin in zip(recent, base, few, strict=True)
        ],
        index=value.index,
        dtype=object,
    )
    return _result(f, t, value, sentence, no_data=_NO_USAGE, thin=few)


_NO_USAGE = "No usage data for the last 12 weeks."


def _too_few_users(least: float) -> str:
    return f": too few users to judge a trend, at least {least:g} needed"


def adoption_trend(f: Frames, t: Threshold) -> pd.DataFrame:
    """Key-feature adoption (the share of key features in use, 0–1, as the usage source
    reports it), the same two windows as ``usage_drop``: value = mean(adoption, last 4
    weeks) − mean(adoption, the 8 before) taken as a fall, in share points
    (0.12 = 12 points lower; negative when adoption grows). Weeks without an adoption
    figure are left out; accounts without one in each window have no value. Below
    params["min_users"] (5) active users in the earlier weeks the share is too thin to judge.
    """
    least = float(t.params.get("min_users", 5))
    u = _columns(f.usage, ["a_recent", "a_base", "u_base"]).astype(float)
    u = u[u["a_recent"].notna() & u["a_base"].notna()]
    recent, base = u["a_recent"], u["a_base"]
    value = base - recent
    few = ~(u["u_base"] >= least)  # no active-user baseline is no better than a small one
    sentence = pd.Series(
        [
            f"Key-feature adoption {rec * 100:.0f}% over the last 4 weeks vs {bas * 100:.0f}% "
            f"the 8 weeks before ({_change(v * 100)})" + (_too_few_users(least) if thin else "")
            for v, rec, bas, thin in zip(value, recent, base, few, strict=True)
        ],
        index=value.index,
        dtype=object,
    )
    return _result(f, t, value, sentence, no_data=_NO_ADOPTION, thin=few)


_NO_ADOPTION = "No feature-adoption figures for the last 12 weeks."


def license_utilization(f: Frames, t: Threshold) -> pd.DataFrame:
    """Share of licensed users active in the latest week on record (within 28 days). Fewer
    than params["min_users"] (5) licences are too thin to judge: 1 of 3 is "33%"."""
    least = int(t.params.get("min_users", 5))
    u = _columns(f.usage, ["l_week", "l_active", "l_licensed"])
    u = u[u["l_licensed"].notna()]
    licensed = u["l_licensed"].astype(int)
    active = u["l_active"].astype(float)
    value = active / licensed
    few = licensed < least
    sentence = pd.Series(
        [
            f"{act:.0f} of {lic} licensed users active in the week of {w}"
            + (
                f": too few licences to judge, at least {least} needed"
                if thin
                else f" ({v * 100:.0f}%)"
            )
            for v, act, lic, w, thin in zip(value, active, licensed, u["l_week"], few, strict=True)
        ],
        index=value.index,
        dtype=object,
    )
    return _result(f, t, value, sentence, no_data=_NO_USAGE, thin=few)


# --- sentiment --------------------------------------------------------------------------


def _answers(f: Frames, column: str) -> pd.DataFrame:
    """The responses that carry ``column`` (NPS and CSAT are separate surveys: an NPS
    measure never reads a CSAT answer, nor the reverse), with it as float ``points``: the
    id, account, time and points of each. Once per survey for the two measures that read
    it (the copy of every column cost ~0.4 ms a call on one account's few answers)."""
    key = f"answers:{column}"
    if key not in f.shared:
        s = f.sentiment
        points = s[column].to_numpy(dtype=float, na_value=np.nan)
        keep = ~np.isnan(points)
        answers = s.loc[keep, ["id", "account_id", "responded_at"]]
        answers.insert(3, "points", points[keep])
        f.shared[key] = answers
    return f.shared[key]


def _mean_count(accounts: pd.Series, points: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Per account (ascending, as groupby), the mean and the number of ``points``.

    What ``points.groupby(accounts).mean()`` and ``.count()`` give, on arrays: a groupby
    costs ~0.3 ms even on the few answers of one account, and the sentiment measures make
    seven. The points are answers on a 0–10 scale or satisfied flags, so every sum is exact
    and the mean is the same float as pandas' (compensated) one."""
    keys, at = np.unique(accounts.to_numpy(dtype=np.int64), return_inverse=True)
    count = np.bincount(at, minlength=len(keys))
    total = np.bincount(at, weights=points.to_numpy(dtype=float), minlength=len(keys))
    index = pd.Index(keys, name="account_id")
    return pd.Series(total / count, index=index), pd.Series(count.astype(np.int64), index=index)


def nps_level(f: Frames, t: Threshold) -> pd.DataFrame:
    """Average NPS score (0–10) of the NPS answers in the last ``window_days`` (180). Fewer
    than params["min_answers"] (2) answers are too thin to judge: one answer of 6 is one
    person's mood, not the account's sentiment."""
    s = _answers(f, "nps")
    if s.empty:
        return _result(f, t, pd.Series(dtype=float), pd.Series(dtype=str), no_data=_NO_NPS)
    least = int(t.params.get("min_answers", 2))
    s = s[s["responded_at"] > _days_ago(f.now, t.window_days)]
    value, count = _mean_count(s["account_id"], s["points"])
    few = count < least
    sentence = pd.Series(
        [
            f"{_s(n, 'NPS answer')} in the last {t.window_days} days (average {v:.1f}): too few "
            f"to judge, at least {least} needed"
            if thin
            else f"{_s(n, 'NPS answer')} in the last {t.window_days} days, average {v:.1f}"
            for v, n, thin in zip(value, count, few, strict=True)
        ],
        index=value.index,
        dtype=object,
    )
    refs = _refs(s, "sentiment", "responded_at")
    return _result(f, t, value, sentence, refs, no_data=_NO_NPS, thin=few)


_NO_NPS = "No NPS responses in the window."


def nps_drop(f: Frames, t: Threshold) -> pd.DataFrame:
    """Fall of the average NPS score: last ``window_days`` (90) vs the ``window_days``
    before, in points (before − recent). Needs at least params["min_answers"] (2) answers in
    each window to judge."""
    s = _answers(f, "nps")
    if s.empty:
        return _result(f, t, pd.Series(dtype=float), pd.Series(dtype=str), no_data=_NO_TREND)
    least = int(t.params.get("min_answers", 2))
    w = t.window_days
    cut, start = _days_ago(f.now, w), _days_ago(f.now, 2 * w)
    recent_rows = s[s["responded_at"] > cut]
    recent, n1 = _mean_count(recent_rows["account_id"], recent_rows["points"])
    before_rows = s[(s["responded_at"] > start) & (s["responded_at"] <= cut)]
    before, n0 = _mean_count(before_rows["account_id"], before_rows["points"])
    recent, before = _both(recent, before)
    n1, n0 = n1.reindex(recent.index), n0.reindex(recent.index)
    value = before - recent
    few = (n1 < least) | (n0 < least)
    sentence = pd.Series(
        [
            f"{_s(a, 'NPS answer')} in the last {w} days vs {b} before: too few to judge a trend"
            if thin
            else f"{_s(a, 'NPS answer')} in the last {w} days averaging {r:.1f} vs {b} before "
            f"averaging {m0:.1f} ({_change(v, digits=1)})"
            for v, r, m0, a, b, thin in zip(value, recent, before, n1, n0, few, strict=True)
        ],
        index=value.index,
        dtype=object,
    )
    return _result(f, t, value, sentence, no_data=_NO_TREND, thin=few)


_NO_TREND = "Not enough NPS responses to see a trend."

# CSAT: the usual score is the share of answers that are satisfied, 4 or 5 on the 1–5 scale.
CSAT_SATISFIED = 4


def _satisfied(
    s: pd.DataFrame, since: pd.Timestamp, until: pd.Timestamp
) -> tuple[pd.Series, pd.Series, pd.Series, pd.DataFrame]:
    """Per account with CSAT answers in (since, until]: the satisfied share, the number of
    satisfied answers and of answers; and the answers of the window."""
    window = s[(s["responded_at"] > since) & (s["responded_at"] <= until)]
    share, count = _mean_count(window["account_id"], window["points"] >= CSAT_SATISFIED)
    # share × count is a sum of 0/1 flags divided and multiplied back: round, not truncate
    satisfied = (share * count).round().astype(np.int64)
    return share, satisfied, count, window


def csat_level(f: Frames, t: Threshold) -> pd.DataFrame:
    """CSAT: the share of CSAT answers in the last ``window_days`` (90) that are satisfied
    (4 or 5 of 5). Fewer than ``params["min_answers"]`` (5) answers are too thin to judge:
    on a handful of answers the share is mostly noise (a healthy 80% account answers 3 of 5
    satisfied one time in five), so the bands sit low too: yellow at 55%, red at 40%."""
    s = _answers(f, "csat")
    least = int(t.params.get("min_answers", 5))
    share, yes, count, window = _satisfied(s, _days_ago(f.now, t.window_days), f.now)
    few = count < least
    sentence = pd.Series(
        [
            f"{k} of {n} CSAT answers satisfied (4–5 of 5) in the last {t.window_days} days"
            + (f": too few to judge, at least {least} needed" if thin else f" ({v * 100:.0f}%)")
            for v, k, n, thin in zip(share, yes, count, few, strict=True)
        ],
        index=share.index,
        dtype=object,
    )
    refs = _refs(window, "sentiment", "responded_at")
    no_answer = f"No CSAT answers in the last {t.window_days} days."
    return _result(f, t, share.astype(float), sentence, refs, no_data=no_answer, thin=few)


def csat_drop(f: Frames, t: Threshold) -> pd.DataFrame:
    """Fall of the CSAT satisfied share, in points of 100: the ``window_days`` (90) before
    minus the last ``window_days``. Judged only with at least ``params["min_answers"]`` (5)
    answers in each window, and a fall only when chance explains it less often than
    1 − params["confidence"] (0.95) — a one-sided Fisher exact test (``share_fall_p_value``):
    4 of 5 satisfied, then 2 of 5, happens one time in four by chance alone."""
    s = _answers(f, "csat")
    least = int(t.params.get("min_answers", 5))
    alpha = _alpha(t)
    w = t.window_days
    cut, start = _days_ago(f.now, w), _days_ago(f.now, 2 * w)
    recent, k1, n1, _ = _satisfied(s, cut, f.now)
    before, k0, n0, _ = _satisfied(s, start, cut)
    recent, before = _both(recent.astype(float), before.astype(float))
    k1, n1, k0, n0 = (x.reindex(recent.index) for x in (k1, n1, k0, n0))
    value = before - recent
    few = (n1 < least) | (n0 < least)
    chance = pd.Series(
        [
            not thin and v > 0 and share_fall_p_value(a, n, b, m) > alpha
            for v, a, n, b, m, thin in zip(value, k1, n1, k0, n0, few, strict=True)
        ],
        index=value.index,
        dtype=bool,
    )
    sentence = pd.Series(
        [
            f"{_s(n, 'CSAT answer')} in the last {w} days vs {m} before: too few to judge a trend"
            if thin
            else f"{a} of {n} CSAT answers satisfied in the last {w} days vs {b} of {m} before "
            f"({r * 100:.0f}% vs {p * 100:.0f}%, {_change(v * 100)})"
            + (f": not a credible fall at {_confidence_text(t)}" if luck else "")
            for v, r, p, a, n, b, m, thin, luck in zip(
                value, recent, before, k1, n1, k0, n0, few, chance, strict=True
            )
        ],
        index=value.index,
        dtype=object,
    )
    return _result(f, t, value, sentence, no_data=_NO_CSAT_TREND, thin=few | chance)


_NO_CSAT_TREND = "Not enough CSAT answers to see a trend."


# --- company (people) -------------------------------------------------------------------

EDM, CHAMPION = "edm", "champion"
# The values of ``key_contact_left``: who left.
EDM_LEFT, CHAMPION_LEFT = 2, 1


def key_role(roles: Any) -> str | None:
    """The key role among a person's roles: ``EDM`` before ``CHAMPION``; None for neither."""
    roles = roles if isinstance(roles, list) else []
    if EDM in roles:
        return EDM
    if CHAMPION in roles:
        return CHAMPION
    return None


def key_contact_left(f: Frames, t: Threshold) -> pd.DataFrame:
    """Executive Decision Maker (value 2, ``EDM_LEFT``) or Champion (value 1) left within
    the window: a key contact marked gone, or a departure among the people changes. The
    one definition of "the decision maker left": the escalation suggestions and the
    executive summary read this measure (``selectors.measure_verdicts``)."""
    since = (f.now - pd.Timedelta(days=t.window_days)).date()
    events: list[tuple[int, int, str, str]] = []  # account, severity, sentence, date
    # Plain lists, not ``itertuples`` and a Series lookup a row: the executive summary
    # asks this measure about every account with a departure on record.
    c = f.contacts
    if not c.empty:
        gone = c[(~c["at_company"]) & c["left_on"].notna()]
        for account_id, roles, name, title, left_on in zip(
            *(gone[k].tolist() for k in ("account_id", "roles", "name", "title", "left_on")),
            strict=True,
        ):
            role = key_role(roles)
            if role and left_on >= since:
                events.append(_left_event(account_id, role, name, title, left_on))
    p = f.people
    if not p.empty:
        left = p[(p["change"] == "left") & (p["occurred_at"] > _days_ago(f.now, t.window_days))]
        known = {(e[0], e[2]) for e in events}
        names = dict(zip(c["id"].tolist(), c["name"].tolist(), strict=True)) if not c.empty else {}
        for account_id, roles, contact_id, old_title, occurred_at in zip(
            *(
                left[k].tolist()
                for k in ("account_id", "roles", "contact_id", "old_title", "occurred_at")
            ),
            strict=True,
        ):
            role = key_role(roles)
            if role:
                name = "" if pd.isna(contact_id) else str(names.get(int(contact_id), ""))
                ev = _left_event(account_id, role, name, old_title, occurred_at.date())
                if (ev[0], ev[2]) not in known:
                    events.append(ev)
    if not events:
        return _result(
            f,
            t,
            pd.Series(dtype=float),
            pd.Series(dtype=str),
            no_data=_NO_LEFT,
            absence_is_good=True,
        )
    df = pd.DataFrame(events, columns=["account_id", "severity", "sentence", "on"])
    df = df.sort_values(["severity", "on"], ascending=False).drop_duplicates("account_id")
    df = df.set_index("account_id")
    return _result(
        f, t, df["severity"].astype(float), df["sentence"], no_data=_NO_LEFT, absence_is_good=True
    )


_NO_LEFT = "No Executive Decision Maker or Champion left recently."


def _left_event(account_id: int, role: str, name: str, title: str, on: Any) -> tuple:
    label = "Executive Decision Maker" if role == EDM else "Champion"
    who = f"{name} ({title})" if name and title else (name or title or "someone")
    severity = EDM_LEFT if role == EDM else CHAMPION_LEFT
    return (account_id, severity, f"{label} {who} left on {on}", str(on))


_SENIORITY = [
    (5, re.compile(r"\b(chief|ceo|cfo|coo|cio|cto|cmo|cro|president|founder|owner)\b")),
    (4, re.compile(r"\b(vp|svp|evp|vice president)\b")),
    (3, re.compile(r"\b(head of|director)\b")),
    (2, re.compile(r"\b(manager|lead)\b")),
]


def seniority(title: str) -> int:
    """A rough rank of a job title: C-level 5, VP 4, head/director 3, manager 2, else 1."""
    text = (title or "").lower()
    for rank, pattern in _SENIORITY:
        if pattern.search(text):
            return rank
    return 1


def title_downgrade(f: Frames, t: Threshold) -> pd.DataFrame:
    """Key contacts (EDM, Champion, by their roles then) whose title dropped in seniority
    within the window. Reads the people changes: every title change is one of them
    (``accounts.services.people_changes_record``), known contact or not."""
    p = f.people
    if p.empty:
        return _result(
            f,
            t,
            pd.Series(dtype=float),
            pd.Series(dtype=str),
            no_data=_NO_DOWN,
            absence_is_good=True,
        )
    since = pd.Timestamp((f.now - pd.Timedelta(days=t.window_days)).date(), tz="UTC")
    tc = p[(p["change"] == "title_changed") & (p["occurred_at"] >= since)]
    tc = tc[tc["roles"].map(key_role).notna()]
    tc = tc[tc["old_title"].map(seniority) > tc["new_title"].map(seniority)]
    if tc.empty:
        return _result(
            f,
            t,
            pd.Series(dtype=float),
            pd.Series(dtype=str),
            no_data=_NO_DOWN,
            absence_is_good=True,
        )
    c = f.contacts
    names = dict(zip(c["id"].tolist(), c["name"].tolist(), strict=True)) if not c.empty else {}
    count = tc.groupby("account_id").size().astype(float)
    latest = (
        tc.sort_values("occurred_at")
        .groupby("account_id")
        .tail(1)
        .set_index("account_id")
        .reindex(count.index)
    )
    sentence = pd.Series(
        [
            f"{_name(names, contact_id)}: “{old}” → “{new}” on {at.date()}"
            + (f" (+{int(n) - 1} more)" if n > 1 else "")
            for n, contact_id, old, new, at in zip(
                count.tolist(),
                *(
                    latest[k].tolist()
                    for k in ("contact_id", "old_title", "new_title", "occurred_at")
                ),
                strict=True,
            )
        ],
        index=count.index,
        dtype=object,
    )
    return _result(
        f,
        t,
        count,
        sentence,
        _refs(tc, "people_change", "occurred_at"),
        _NO_DOWN,
        absence_is_good=True,
    )


def _name(names: Mapping[int, str], contact_id: Any) -> str:
    """A key contact's name, or a stand-in when the change names no contact on record."""
    if contact_id is None or pd.isna(contact_id):
        return "A key contact"
    return str(names.get(int(contact_id), "A key contact"))


_NO_DOWN = "No key contact lost seniority recently."


def no_edm(f: Frames, t: Threshold) -> pd.DataFrame:
    """0 when an Executive Decision Maker is on record at the company. Without one the CRM
    has a hole, not the customer a risk: the row is no data (never yellow), and its sentence
    says how to fill the hole (add the decision maker, or any contact at all)."""
    c = f.contacts
    has: set[int] = set()
    known: set[int] = set()
    if not c.empty:
        known = set(c["account_id"])
        active = c[c["at_company"]]
        has = set(active.loc[active["roles"].map(lambda r: EDM in (r or [])), "account_id"])
    ids = pd.Index(f.account_ids)
    on_record = ids[ids.isin(has)]
    value = pd.Series(0.0, index=on_record)
    sentence = pd.Series(_EDM_ON_RECORD, index=on_record, dtype=object)
    missing = pd.Series(
        [_NO_EDM if a in known else _NO_CONTACTS for a in ids], index=ids, dtype=object
    )
    return _result(f, t, value, sentence, no_data=missing)


_EDM_ON_RECORD = "Executive Decision Maker on record"
_NO_EDM = "No Executive Decision Maker on record: add one"
_NO_CONTACTS = "No contacts on record: add the decision maker"


def reorg(f: Frames, t: Threshold) -> pd.DataFrame:
    """Reorganisations reported within the window."""
    p = f.people
    if p.empty:
        return _result(
            f,
            t,
            pd.Series(dtype=float),
            pd.Series(dtype=str),
            no_data=_NO_REORG,
            absence_is_good=True,
        )
    r = p[(p["change"] == "reorg") & (p["occurred_at"] > _days_ago(f.now, t.window_days))]
    count = r.groupby("account_id").size().astype(float)
    last = r.groupby("account_id")["occurred_at"].max()
    sentence = pd.Series(
        [
            f"{int(n)} reorganisation{'s' if n > 1 else ''} reported, latest {last[a]:%Y-%m-%d}"
            for a, n in count.items()
        ],
        index=count.index,
        dtype=object,
    )
    return _result(
        f,
        t,
        count,
        sentence,
        _refs(r, "people_change", "occurred_at"),
        _NO_REORG,
        absence_is_good=True,
    )


_NO_REORG = "No reorganisation reported recently."


def competitor_executive(f: Frames, t: Threshold) -> pd.DataFrame:
    """A new executive who came from a competitor's customer base: people who joined in
    (now − W, now] with a ``from_company`` on the configured list —
    params["competitor_customers"] (companies known to run a competitor) plus
    params["competitors"] themselves. Case-insensitive; the list is configuration
    (Admin → Measure configs).
    """
    p = f.people
    known = {
        c.strip().lower()
        for c in [*t.params.get("competitor_customers", []), *t.params.get("competitors", [])]
        if c.strip()
    }
    if p.empty or not known:
        return _result(
            f,
            t,
            pd.Series(dtype=float),
            pd.Series(dtype=str),
            no_data=_NO_RIVAL,
            absence_is_good=True,
        )
    joined = p[
        (p["change"] == "joined")
        & (p["occurred_at"] > _days_ago(f.now, t.window_days))
        & p["from_company"].fillna("").str.strip().str.lower().isin(known)
    ]
    if joined.empty:
        return _result(
            f,
            t,
            pd.Series(dtype=float),
            pd.Series(dtype=str),
            no_data=_NO_RIVAL,
            absence_is_good=True,
        )
    value = joined.groupby("account_id").size().astype(float)
    last = joined.sort_values("occurred_at").groupby("account_id").tail(1).set_index("account_id")
    sentence = pd.Series(
        [
            f"{int(value[a])} new {'people' if value[a] > 1 else 'person'} from a competitor's "
            f"customer base, latest from {last.at[a, 'from_company']} "
            f"({_ago((f.now - last.at[a, 'occurred_at']).days)})"
            for a in value.index
        ],
        index=value.index,
        dtype=object,
    )
    return _result(
        f,
        t,
        value,
        sentence,
        _refs(joined, "people_change", "occurred_at"),
        _NO_RIVAL,
        absence_is_good=True,
    )


_NO_RIVAL = "No new executive from a competitor's customer base."


# --- support ----------------------------------------------------------------------------


def velocity(n1: Any, n0: Any, floor: float) -> Any:
    """The velocity of n1 tickets in the latest window after n0 in the one before:
    (n1 − n0) / max(n0, floor), so that 1 → 3 tickets is not "+200%". Scalars or arrays;
    the measure, the segment aggregates and every other reader take it from here."""
    return (n1 - n0) / np.maximum(n0, floor)


def velocity_floor(t: Threshold) -> float:
    """The floor of the velocity ``t`` configures (params["floor"], 8 by default)."""
    return float(t.params.get("floor", 8))


def critical_priorities(t: Threshold) -> list[str]:
    """The ticket priorities ``t`` calls critical (params["critical"], ["urgent"] by
    default): the velocity counts the others, a declared aggregate reads them its way."""
    return [str(c) for c in t.params.get("critical", ["urgent"])]


def noncritical_velocity(f: Frames, t: Threshold) -> pd.DataFrame:
    """Growth rate of non-critical support tickets, latest window vs the one before.

    n1 = non-critical tickets opened in (now - W, now], n0 = in (now - 2W, now - W],
    W = window_days (90). velocity = (n1 - n0) / max(n0, floor), floor = params["floor"] (8),
    so that 1 → 3 tickets is not "+200%". Non-critical = priority not in
    params["critical"] (["urgent"]). Judged only when credible: at least
    params["min_count"] (6) tickets in the two windows, and a rise only when chance gives
    one as large less often than 1 − params["confidence"] (0.9): under "no change" n1 given
    n1 + n0 is Binomial(n1 + n0, ½) (``rise_p_value``); otherwise the row is thin (no data,
    green), its sentence saying why. The database counts n1 and n0 per account
    (``selectors.ticket_stats``); accounts with no such ticket in either window have no value.
    The links are the five latest of the n1 tickets, deferred (``DEFERRED``): the database
    gives a signature of those tickets with the counts, and the ids only for the reasons a
    recompute stores — sorting every account's recent tickets for them cost more than the
    counts.
    """
    tk = _columns(f.tickets, ["v_n1", "v_n0", "v_refs"])
    floor = velocity_floor(t)
    least = int(t.params.get("min_count", 6))
    alpha = _alpha(t)
    w = t.window_days
    # On plain arrays: a pandas operation costs a few hundred µs on 10,000 accounts, and
    # this measure has ten of them for one line of arithmetic.
    n1 = np.nan_to_num(tk["v_n1"].to_numpy(dtype=float))
    n0 = np.nan_to_num(tk["v_n0"].to_numpy(dtype=float))
    seen = (n1 + n0) > 0
    index, n1, n0 = tk.index[seen], n1[seen], n0[seen]
    v = velocity(n1, n0, floor)
    # The sentence and whether the counts are credible follow from (n1, n0) alone, and a
    # book has far fewer pairs than accounts: each pair is judged and written once (a third
    # of this measure's time, and the exact test is a sum over the tickets).
    key = (n1.astype(np.int64) << 32) | n0.astype(np.int64)  # counts stay below 2**31
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    judged = [
        _velocity_judged(int(a), int(b), x, w, least, alpha, t, floor)
        for x, a, b in zip(v[first].tolist(), n1[first].tolist(), n0[first].tolist(), strict=True)
    ]
    texts = np.array([text for text, _ in judged], dtype=object)
    weak = np.array([thin for _, thin in judged], dtype=bool)
    at = inverse.reshape(-1)
    sentence = pd.Series(texts[at], index=index, dtype=object)
    thin = pd.Series(weak[at] if len(weak) else np.zeros(0, dtype=bool), index=index, dtype=bool)
    refs = pd.Series(tk["v_refs"].to_numpy(dtype=object)[seen], index=index, dtype=object)
    return _result(
        f,
        t,
        pd.Series(v, index=index),
        sentence,
        _id_refs(refs, "ticket"),
        _NO_TICKETS,
        thin=thin,
    )


def _velocity_judged(
    n1: int, n0: int, v: float, w: int, least: int, alpha: float, t: Threshold, floor: float
) -> tuple[str, bool]:
    """The velocity sentence of n1 tickets after n0, and whether they are too thin to judge:
    fewer than ``least`` in both windows, or a rise chance gives more often than ``alpha``.
    Below the floor the change is a share of the floor, and the sentence says so: "10 vs 3
    (+88%)" would read as a mistake."""
    counts = f"{_s(n1, 'non-critical ticket')} in the last {w} days vs {n0} before"
    change = _pct(v) + (f" against a floor of {floor:g}" if n0 < floor else "")
    if n1 + n0 < least:
        return f"{counts}: too few to judge a trend", True
    if n1 > n0 and n1 < rise_needed(n1 + n0, alpha):  # rise_p_value(n1, n0) > alpha
        return f"{counts} ({change}): not a credible rise at {_confidence_text(t)}", True
    return f"{counts} ({change})", False


_NO_TICKETS = "No support tickets in the last 180 days."


def urgent_open(f: Frames, t: Threshold) -> pd.DataFrame:
    """Open urgent support tickets right now (a ticket solved after ``now`` was open)."""
    tk = _columns(f.tickets, ["u_n", "u_oldest", "u_refs"])
    tk = tk[tk["u_n"].fillna(0) > 0]
    count = tk["u_n"].astype(float)
    sentence = pd.Series(
        [
            f"{int(n)} urgent ticket{'s' if n > 1 else ''} open, the oldest for "
            f"{(f.now - oldest).days} days"
            for n, oldest in zip(count, tk["u_oldest"], strict=True)
        ],
        index=count.index,
        dtype=object,
    )
    return _result(
        f, t, count, sentence, _id_refs(tk["u_refs"], "ticket"), _NO_URGENT, absence_is_good=True
    )


_NO_URGENT = "No urgent ticket open."


def resolution_time_trend(f: Frames, t: Threshold) -> pd.DataFrame:
    """How much slower support tickets get solved: the median resolution time (solved_at −
    opened_at, in days) of tickets solved in (now − W, now] against the median of those
    solved in the W before; value = (m1 − m0) / max(m0, floor_days), floor_days =
    params["floor_days"] (1), so a jump from 1 hour to 3 hours is not "+200%". Judged only
    with at least params["min_tickets"] (5) solved tickets in each window: the median of
    three tickets is any one of them. The database counts and takes the medians per account
    (``selectors.ticket_stats``).
    """
    tk = _columns(f.tickets, ["r_n1", "r_n0", "r_m1", "r_m0", "r_refs"])
    w = t.window_days
    floor = float(t.params.get("floor_days", 1))
    least = int(t.params.get("min_tickets", 5))
    # Links to the recently solved tickets even where there are too few for a trend.
    refs = _id_refs(tk["r_refs"], "ticket")
    tk = tk[(tk["r_n1"].fillna(0) > 0) & (tk["r_n0"].fillna(0) > 0)]
    m1, m0 = tk["r_m1"].astype(float), tk["r_m0"].astype(float)
    n1, n0 = tk["r_n1"].astype(int), tk["r_n0"].astype(int)
    value = (m1 - m0) / np.maximum(m0, floor)
    few = (n1 < least) | (n0 < least)
    sentence = pd.Series(
        [
            f"{_s(a, 'support ticket')} solved in the last {w} days vs {b} before"
            + (
                f": too few to judge a resolution-time trend, at least {least} in each needed"
                if thin
                else f", median {x:.1f} days vs {y:.1f} "
                f"({'slower' if v > 0 else 'faster' if v < 0 else 'the same'}, {_pct(v)})"
            )
            for v, x, y, a, b, thin in zip(value, m1, m0, n1, n0, few, strict=True)
        ],
        index=value.index,
        dtype=object,
    )
    return _result(f, t, value, sentence, refs, _NO_SOLVED, thin=few)


_NO_SOLVED = "Too few solved support tickets to see a resolution-time trend."


def recurrence(f: Frames, t: Threshold) -> pd.DataFrame:
    """The same issue again and again from the same team: the largest number of support
    tickets in (now − W, now] that share a tag and a requester group (the customer's team);
    tickets without a group count as one group. A steady stream of the same small ticket
    is a bigger signal than one P1 (PRODUCT.md). The database explodes the tags and counts
    per (account, group, tag); ties go to the first group, then tag, alphabetically.
    """
    tk = _columns(f.tickets, ["c_n", "c_group", "c_tag", "c_refs"])
    tk = tk[tk["c_n"].fillna(0) > 0]
    value = tk["c_n"].astype(float)
    sentence = pd.Series(
        [
            f"{int(n)} ticket{'s' if n != 1 else ''} tagged “{tag}” from {group} in "
            f"{t.window_days} days"
            for n, group, tag in zip(value, tk["c_group"], tk["c_tag"], strict=True)
        ],
        index=value.index,
        dtype=object,
    )
    return _result(
        f, t, value, sentence, _id_refs(tk["c_refs"], "ticket"), _NO_REPEAT, absence_is_good=True
    )


_NO_REPEAT = "No tagged support tickets recently."


def backlog_age(f: Frames, t: Threshold) -> pd.DataFrame:
    """How long the open non-critical support tickets have waited: the median age, in days
    at ``now``, of the support tickets open then whose priority is not in
    params["critical"] (["urgent"]). Needs at least params["min_open"] (3) of them: one old
    ticket is not a backlog. The database takes the median per account (the declaration's
    own ``TicketAggregate``); the links are the five oldest of those tickets."""
    tk = _columns(f.tickets, ["b_n", "b_age", "b_refs"])
    tk = tk[tk["b_n"].fillna(0).astype(float) >= float(t.params.get("min_open", 3))]
    value = tk["b_age"].astype(float)
    sentence = pd.Series(
        [
            f"{int(n)} open non-urgent tickets, waiting {age:.0f} days at the median"
            for n, age in zip(tk["b_n"].tolist(), value.tolist(), strict=True)
        ],
        index=value.index,
        dtype=object,
    )
    return _result(
        f, t, value, sentence, _id_refs(tk["b_refs"], "ticket"), _NO_BACKLOG, absence_is_good=True
    )


_NO_BACKLOG = "Fewer than three open non-urgent tickets: no backlog to age."


# --- implementation ---------------------------------------------------------------------


def late_milestones(f: Frames, t: Threshold) -> pd.DataFrame:
    """Days the most overdue open implementation milestone is late."""
    m = f.milestones
    if m.empty:
        return _result(
            f,
            t,
            pd.Series(dtype=float),
            pd.Series(dtype=str),
            no_data=_NO_LATE,
            absence_is_good=True,
        )
    today = f.now.date()
    late = m[m["completed_on"].isna() & (m["due_on"] < today)].copy()
    if late.empty:
        return _result(
            f,
            t,
            pd.Series(dtype=float),
            pd.Series(dtype=str),
            no_data=_NO_LATE,
            absence_is_good=True,
        )
    late["days"] = [(today - d).days for d in late["due_on"]]
    worst = late.sort_values("days").groupby("account_id").tail(1).set_index("account_id")
    count = late.groupby("account_id").size()
    value = worst["days"].astype(float)
    sentence = pd.Series(
        [
            f"{n} milestone{'s' if n > 1 else ''} late; “{name}” {int(v)} days overdue"
            for n, name, v in zip(
                count.reindex(value.index).tolist(),
                worst["name"].tolist(),
                value.tolist(),
                strict=True,
            )
        ],
        index=value.index,
        dtype=object,
    )
    return _result(
        f, t, value, sentence, _refs(late, "milestone", "days"), _NO_LATE, absence_is_good=True
    )


_NO_LATE = "No implementation milestone is late."


# --- readiness --------------------------------------------------------------------------


def readiness_assessment(f: Frames, t: Threshold) -> pd.DataFrame:
    """The weakest of data / skills / staffing (1–5) in the latest assessment."""
    r = f.readiness
    if r.empty:
        return _result(f, t, pd.Series(dtype=float), pd.Series(dtype=str), no_data=_NO_READY)
    latest = r.sort_values(["assessed_on", "id"]).groupby("account_id").tail(1)
    latest = latest.set_index("account_id")
    dims = latest[["data", "skills", "staffing"]]
    value = dims.min(axis=1).astype(float)
    weakest = dims.idxmin(axis=1)
    # Column lists zipped, not .at per account: ~10,000 lookups cost more than the measure.
    sentence = pd.Series(
        [
            f"Readiness {int(v)}/5 on {w} (assessed {on})"
            for v, w, on in zip(
                value.tolist(), weakest.tolist(), latest["assessed_on"].tolist(), strict=True
            )
        ],
        index=value.index,
        dtype=object,
    )
    return _result(f, t, value, sentence, no_data=_NO_READY)


_NO_READY = "No readiness assessment on record."


# --- product ----------------------------------------------------------------------------

ACTIVITY_WEIGHT = {"evaluation": 3.0, "engagement": 2.0, "mention": 1.0}


def competitor_exposure(f: Frames, t: Threshold) -> pd.DataFrame:
    """Recency-weighted competitor activity in the window.

    exposure = Σ weight(activity) × 0.5 ** (age_days / half_life), weights evaluation 3,
    engagement 2, mention 1, half_life = params["half_life_days"] (45).
    """
    c = f.competitors
    if c.empty:
        return _result(
            f,
            t,
            pd.Series(dtype=float),
            pd.Series(dtype=str),
            no_data=_NO_COMP,
            absence_is_good=True,
        )
    half = float(t.params.get("half_life_days", 45))
    c = c[c["occurred_at"] > _days_ago(f.now, t.window_days)].copy()
    if c.empty:
        return _result(
            f,
            t,
            pd.Series(dtype=float),
            pd.Series(dtype=str),
            no_data=_NO_COMP,
            absence_is_good=True,
        )
    age = (f.now - c["occurred_at"]).dt.total_seconds() / 86400
    c["w"] = c["activity"].map(ACTIVITY_WEIGHT).fillna(1.0) * np.power(0.5, age / half)
    value = c.groupby("account_id")["w"].sum()
    top = c.sort_values(["w"]).groupby("account_id").tail(1).set_index("account_id")
    top = top.reindex(value.index)
    count = c.groupby("account_id").size().reindex(value.index)
    days = (f.now - top["occurred_at"]).dt.days
    # Column lists zipped, not .at per account: ~10,000 lookups cost more than the measure.
    sentence = pd.Series(
        [
            f"{activity.capitalize()} of {competitor} ({_ago(int(d))}); {n} competitor "
            f"event{'s' if n > 1 else ''} in {t.window_days} days"
            for activity, competitor, d, n in zip(
                top["activity"].tolist(),
                top["competitor"].tolist(),
                days.tolist(),
                count.tolist(),
                strict=True,
            )
        ],
        index=value.index,
        dtype=object,
    )
    return _result(
        f,
        t,
        value,
        sentence,
        _refs(c, "competitor_event", "occurred_at"),
        _NO_COMP,
        absence_is_good=True,
    )


_NO_COMP = "No competitor activity recorded recently."


# --- defect -----------------------------------------------------------------------------

SEVERITY_WEIGHT = {"urgent": 3.0, "high": 2.0, "normal": 1.0, "low": 0.5}


def open_defects(f: Frames, t: Threshold) -> pd.DataFrame:
    """Open defects weighted by severity: urgent 3, high 2, normal 1, low 0.5 (another
    priority 1). A defect solved after ``now`` was open. The database counts per priority."""
    order = ["urgent", "high", "normal", "low"]
    cols = [f"d_{p}" for p in order]
    tk = _columns(f.tickets, [*cols, "d_other", "d_refs"])
    counts = tk[cols].fillna(0).astype(int)
    other = tk["d_other"].fillna(0).astype(int)
    keep = (counts.sum(axis=1) + other) > 0
    counts, other, tk = counts[keep], other[keep], tk[keep]
    weights = np.array([SEVERITY_WEIGHT[p] for p in order])
    value = pd.Series(counts.to_numpy() @ weights + other.to_numpy(), index=counts.index)
    total = counts.sum(axis=1)
    listed = [
        ", ".join(f"{n} {p}" for p, n in zip(order, nums, strict=True) if n)
        for nums in counts.to_numpy()
    ]
    sentence = pd.Series(
        [
            f"{n} open defect{'s' if n > 1 else ''}: {text}"
            for n, text in zip(total, listed, strict=True)
        ],
        index=value.index,
        dtype=object,
    )
    return _result(
        f, t, value, sentence, _id_refs(tk["d_refs"], "ticket"), _NO_DEF, absence_is_good=True
    )


_NO_DEF = "No open defects."


# --- declarations ------------------------------------------------------------------------
#
# Each measure is declared once, below. Everything else that must know about measures is
# derived from these declarations: the registry and the default thresholds here; in
# ``selectors``, which fact tables and ticket aggregates a recompute reads and how far back,
# which deferred links it looks up; the config seed (migrations); docs/measures.md
# (``manage.py measures_reference``). Adding a measure is one declaration, its tests and a
# migration that seeds its thresholds (see 0011_ticket_backlog_age).

MeasureFn = Callable[[Frames, Threshold], pd.DataFrame]

# The fact reads a measure may name (``Measure.reads``): the raw fact tables of ``Frames``,
# the ticket aggregates computed by the database ("tickets.<name>", ``selectors``), and
# weekly usage.
FACT_READS = (
    "sentiment",
    "contacts",
    "people",
    "competitors",
    "milestones",
    "readiness",
    "usage",
    "tickets.velocity",
    "tickets.state",
    "tickets.recurrence",
)


@dataclass(frozen=True)
class TicketAggregate:
    """A measure's own per-account aggregate over ``accounts_ticket``, computed by the
    database as of ``now`` (``selectors.declared_ticket_stats``), for a measure that none of
    the shared ticket aggregates serves.

    ``where`` keeps the rows it aggregates, over unqualified ticket columns; ``columns``
    names each output column and its aggregate: ``count``, ``median_age_days`` (median age
    at ``now`` in days), ``oldest`` (earliest opened_at), ``latest_ids`` or ``oldest_ids``
    (the five opened last or first, as reason links). Both may use ``{open}`` (open as of now),
    ``{noncritical}`` (priority not in the threshold's params["critical"]) and
    ``%(now)s``; tickets opened after ``now`` never count. ``oldest_ids`` gives the five
    opened first."""

    where: str
    columns: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Measure:
    """One measure, declared once: its thresholds by default (code, area, label, windows,
    parameters), its computation, the facts it reads, how much further back than its window
    it reads a dated table, the ticket aggregate whose windows its threshold sets, how its
    deferred reason links are looked up, and its own SQL aggregate if it has one."""

    default: Threshold
    compute: MeasureFn
    reads: tuple[str, ...]
    # dated table → how many of the measure's windows it reads back (the drops read two)
    reads_back: tuple[tuple[str, int], ...] = ()
    # the shared ticket aggregate whose windows and parameters this measure's threshold sets
    sets_windows_of: str = ""
    # the name of the lookup of its reason links when its rows carry a signature (DEFERRED)
    deferred_links: str = ""
    ticket_sql: TicketAggregate | None = None

    @property
    def code(self) -> str:
        return self.default.code

    @property
    def area(self) -> str:
        return self.default.area

    @property
    def label(self) -> str:
        return self.default.label


DECLARED: tuple[Measure, ...] = (
    Measure(
        Threshold(
            "habits.usage_drop",
            "habits",
            "Active-user trend",
            0.15,
            0.30,
            best=-0.2,
            params={"recent_days": 28, "baseline_days": 56, "min_users": 5},
        ),
        usage_drop,
        reads=("usage",),
    ),
    Measure(
        Threshold(
            "habits.license_utilization",
            "habits",
            "Licence utilisation",
            0.50,
            0.30,
            higher_is_worse=False,
            best=1.0,
            params={"min_users": 5},
        ),
        license_utilization,
        reads=("usage",),
    ),
    Measure(
        Threshold(
            "habits.adoption_trend",
            "habits",
            "Feature adoption trend",
            0.10,
            0.20,
            best=-0.1,
            params={"min_users": 5},
        ),
        adoption_trend,
        reads=("usage",),
    ),
    Measure(
        Threshold(
            "sentiment.nps_level",
            "sentiment",
            "NPS level",
            7.0,
            6.0,
            higher_is_worse=False,
            best=10.0,
            window_days=180,
            params={"min_answers": 2},
        ),
        nps_level,
        reads=("sentiment",),
        reads_back=(("sentiment", 1),),
    ),
    Measure(
        Threshold(
            "sentiment.nps_drop",
            "sentiment",
            "NPS drop",
            2.0,
            4.0,
            best=-1.0,
            window_days=90,
            params={"min_answers": 2},
        ),
        nps_drop,
        reads=("sentiment",),
        reads_back=(("sentiment", 2),),
    ),
    Measure(
        Threshold(
            "sentiment.csat_level",
            "sentiment",
            "CSAT (satisfied share)",
            0.55,
            0.40,
            higher_is_worse=False,
            best=1.0,
            window_days=90,
            params={"min_answers": 5},
        ),
        csat_level,
        reads=("sentiment",),
        reads_back=(("sentiment", 1),),
    ),
    Measure(
        Threshold(
            "sentiment.csat_drop",
            "sentiment",
            "CSAT drop",
            0.20,
            0.35,
            best=-0.05,
            window_days=90,
            params={"min_answers": 5, "confidence": 0.95},
        ),
        csat_drop,
        reads=("sentiment",),
        reads_back=(("sentiment", 2),),
    ),
    Measure(
        Threshold(
            "company.key_contact_left",
            "company",
            "Decision maker or champion left",
            1,
            2,
            window_days=180,
        ),
        key_contact_left,
        reads=("contacts", "people"),
    ),
    Measure(
        Threshold(
            "company.title_downgrade",
            "company",
            "Key contact title downgrade",
            1,
            2,
            window_days=180,
        ),
        title_downgrade,
        reads=("contacts", "people"),
    ),
    Measure(
        Threshold("company.no_edm", "company", "Executive Decision Maker on record", 1, 2),
        no_edm,
        reads=("contacts",),
    ),
    Measure(
        Threshold("company.reorg", "company", "Reorganisation", 1, 2, window_days=90),
        reorg,
        reads=("people",),
    ),
    Measure(
        Threshold(
            "company.competitor_executive",
            "company",
            "New executive from a competitor's customer base",
            1,
            2,
            window_days=180,
            params={"competitor_customers": [], "competitors": []},
        ),
        competitor_executive,
        reads=("people",),
    ),
    Measure(
        Threshold(
            "support.noncritical_velocity",
            "support",
            "Non-critical ticket velocity",
            0.5,
            1.0,
            best=-0.5,
            params={"floor": 8, "critical": ["urgent"], "min_count": 6, "confidence": 0.9},
        ),
        noncritical_velocity,
        reads=("tickets.velocity",),
        sets_windows_of="tickets.velocity",
        deferred_links="velocity",
    ),
    Measure(
        Threshold("support.urgent_open", "support", "Urgent tickets open", 1, 3),
        urgent_open,
        reads=("tickets.state",),
    ),
    Measure(
        Threshold(
            "support.resolution_time_trend",
            "support",
            "Resolution time trend",
            0.5,
            1.0,
            best=-0.5,
            window_days=90,
            params={"floor_days": 1, "min_tickets": 5},
        ),
        resolution_time_trend,
        reads=("tickets.state",),
        sets_windows_of="tickets.state",
    ),
    Measure(
        Threshold(
            "support.backlog_age",
            "support",
            "Ticket backlog age",
            30,
            60,
            params={"critical": ["urgent"], "min_open": 3},
            # Off until a team turns it on (Admin → Measure configs): a new colour source
            # and one more statement per recompute, which the demo book has not been
            # measured with.
            enabled=False,
        ),
        backlog_age,
        reads=(),
        ticket_sql=TicketAggregate(
            where="kind = 'support' AND {noncritical} AND {open}",
            columns=(("b_n", "count"), ("b_age", "median_age_days"), ("b_refs", "oldest_ids")),
        ),
    ),
    Measure(
        Threshold("support.recurrence", "support", "Same issue, same team", 4, 8, window_days=90),
        recurrence,
        reads=("tickets.recurrence",),
        sets_windows_of="tickets.recurrence",
    ),
    Measure(
        Threshold("implementation.late_milestones", "implementation", "Late milestones", 1, 30),
        late_milestones,
        reads=("milestones",),
    ),
    Measure(
        Threshold(
            "readiness.assessment",
            "readiness",
            "Readiness assessment",
            3,
            2,
            higher_is_worse=False,
            best=5.0,
        ),
        readiness_assessment,
        reads=("readiness",),
    ),
    Measure(
        Threshold(
            "product.competitor_exposure",
            "product",
            "Competitor exposure",
            1.0,
            2.5,
            window_days=180,
            params={"half_life_days": 45},
        ),
        competitor_exposure,
        reads=("competitors",),
        reads_back=(("competitors", 1),),
    ),
    Measure(
        Threshold("defect.open_defects", "defect", "Open defects by severity", 2, 4),
        open_defects,
        reads=("tickets.state",),
    ),
)

# Derived: the registry and the default thresholds, in declaration order.
DECLARATIONS: dict[str, Measure] = {m.code: m for m in DECLARED}
MEASURES: dict[str, MeasureFn] = {m.code: m.compute for m in DECLARED}
DEFAULT_THRESHOLDS: list[Threshold] = [m.default for m in DECLARED]


def as_of(f: Frames) -> Frames:
    """The facts as they stood at ``f.now``: nothing from the future leaks into a measure.

    Later tickets, answers, events and assessments are dropped; a ticket solved later was
    still open; a milestone completed later was still open; a contact who left later was
    still at the company. Tickets and usage arrive aggregated: ``selectors.ticket_stats`` and
    ``usage_stats`` apply the same rules in SQL.
    """
    return Frames(
        now=f.now,
        account_ids=f.account_ids,
        tickets=f.tickets,
        usage=f.usage,
        **{name: fact_as_of(name, getattr(f, name), f.now) for name in FACT_FRAMES},
    )


# The facts that arrive as rows (``Frames``' other fields arrive aggregated per account).
FACT_FRAMES = (
    "sentiment",
    "contacts",
    "people",
    "competitors",
    "milestones",
    "readiness",
)


def fact_as_of(name: str, df: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """One fact table of ``as_of``, as it stood at ``now`` (the same frame when nothing in it
    lies after ``now``, as in any recompute as of now: each copy or .loc assignment costs
    more than a small measure)."""
    if df.empty:
        return df
    today = now.date()
    if name == "contacts":
        later = df["left_on"].map(lambda d: d is not None and not pd.isna(d) and d > today)
        if later.any():
            df = df.copy()
            df.loc[later, "at_company"] = True
            df.loc[later, "left_on"] = None
        return df
    if name == "milestones":
        done_later = df["completed_on"].map(
            lambda d: d is not None and not pd.isna(d) and d > today
        )
        if done_later.any():
            df = df.copy()
            df.loc[done_later, "completed_on"] = None
        return df
    if name == "readiness":
        return _kept(df, df["assessed_on"].map(lambda d: d <= today))
    column = {"sentiment": "responded_at", "people": "occurred_at", "competitors": "occurred_at"}
    return _kept(df, df[column[name]] <= now)


def _kept(df: pd.DataFrame, keep: pd.Series) -> pd.DataFrame:
    """``df[keep]``, or ``df`` itself when every row is kept (nothing lies in the future,
    as in any recompute as of now): the copy cost more than a small measure. The measures
    never change a frame they are given."""
    return df if keep.all() else df[keep]


def run_measures(frames: Frames, thresholds: list[Threshold]) -> pd.DataFrame:
    """Every enabled measure for every account, as of ``frames.now``."""
    frames = as_of(frames)
    return measure_rows([MEASURES[t.code](frames, t) for t in enabled(thresholds)])


def enabled(thresholds: list[Threshold]) -> list[Threshold]:
    """The thresholds of the measures that run, in their order."""
    return [t for t in thresholds if t.enabled and t.code in MEASURES]


def measure_rows(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The measures' results (in the order of their thresholds) as one frame of rows."""
    if not parts:
        return pd.DataFrame(columns=MEASURE_COLUMNS)
    return pd.concat(parts).reset_index()
