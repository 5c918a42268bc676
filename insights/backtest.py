"""The signal backtest: how well each measure and the composite health predicted churn.

For every recorded renewal outcome (``accounts.RenewalOutcome``) the measures are run as
they stood ``horizon_days`` before the renewal (on the Monday of that week: at most six
days earlier, never later), point-in-time: the facts are loaded once,
then ``scorecards.measures.run_measures`` applies ``as_of`` at each renewal's own date, and
tickets and usage are aggregated by the database as of that date (``selectors``),
so a ticket, answer or departure recorded after that date never reaches the measure (no
leakage). The composite is ``scorecards.compute.combine`` over those measure rows
(overall colour not green; its weighted score for the ranking). CTA floors and overrides
are left out: the book keeps no history of them, and using today's would leak.

A signal *flags* a renewal when its colour was yellow or red. A renewal is *positive* when
it churned (downsold and renewed are negatives). Per signal:

- precision = churned among flagged / flagged,
- recall    = churned flagged / churned,
- lift      = precision / the base churn rate,
- AUC       = P(risk of a churned renewal > risk of a kept one), ties count ½, with
              risk = 100 − the measure's 0–100 score (Mann–Whitney),

with Wilson 95% intervals for precision and recall and a seeded bootstrap 95% interval for
the AUC.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

import pandas as pd

from accounts.choices import RenewalOutcomeKind
from accounts.models import RenewalOutcome
from scorecards import selectors as sc_selectors
from scorecards.compute import combine
from scorecards.measures import GREEN, Frames, run_measures

COMPOSITE = "composite"
HORIZONS = (30, 90, 180)
BOOTSTRAP = 200


@dataclass
class Row:
    """One renewal as the signals saw it ``horizon`` days before."""

    account_id: int
    renewal_date: dt.date
    churned: bool
    flags: dict[str, bool]
    risks: dict[str, float]
    # Whether each measure had no data then (a gap, not a reading): the risk model's input.
    no_data: dict[str, bool] = field(default_factory=dict)
    # The day the signals were read (``as_of_date``): what a point-in-time model may know.
    as_of: dt.date | None = None
    # The ARR at stake: the outcome's arr_before, else the account's ARR on record.
    arr: float = 0.0


@dataclass
class Result:
    signal: str
    label: str
    horizon_days: int
    n: int
    positives: int
    flagged: int
    true_positives: int
    precision: float | None
    recall: float | None
    lift: float | None
    auc: float | None
    precision_ci: tuple[float, float] | None
    recall_ci: tuple[float, float] | None
    auc_ci: tuple[float, float] | None

    def as_contract(self) -> dict:
        """The CONTRACT shape of ``manage.py backtest --json``."""
        return {
            "signal": self.signal,
            "horizon_days": self.horizon_days,
            "auc": _round(self.auc),
            "precision": _round(self.precision),
            "recall": _round(self.recall),
            "lift": _round(self.lift),
            "n": self.n,
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


# --- the arithmetic ---------------------------------------------------------------------------


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """Wilson score interval of a proportion; None when n is 0."""
    if n == 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def auc(labels: list[bool], risks: list[float]) -> float | None:
    """ROC AUC by Mann–Whitney: the chance a positive outranks a negative (ties ½)."""
    pos = [r for r, y in zip(risks, labels, strict=True) if y]
    neg = [r for r, y in zip(risks, labels, strict=True) if not y]
    if not pos or not neg:
        return None
    # Rank-sum with average ranks for ties: O(n log n).
    s = pd.Series(risks).rank(method="average")
    rank_sum = float(s[[i for i, y in enumerate(labels) if y]].sum())
    return (rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def auc_interval(
    labels: list[bool], risks: list[float], rounds: int = BOOTSTRAP, seed: int = 7
) -> tuple[float, float] | None:
    """Bootstrap 95% interval of the AUC (resampling renewals); seeded, so reproducible."""
    if auc(labels, risks) is None:
        return None
    rng = random.Random(seed)
    n = len(labels)
    values = []
    for _ in range(rounds):
        idx = [rng.randrange(n) for _ in range(n)]
        value = auc([labels[i] for i in idx], [risks[i] for i in idx])
        if value is not None:
            values.append(value)
    if not values:
        return None
    values.sort()
    return (values[int(0.025 * (len(values) - 1))], values[int(0.975 * (len(values) - 1))])


def evaluate(rows: list[Row], signal: str, label: str, horizon_days: int) -> Result:
    """Precision, recall, lift and AUC of one signal over the renewals."""
    n = len(rows)
    labels = [r.churned for r in rows]
    flags = [r.flags.get(signal, False) for r in rows]
    risks = [r.risks.get(signal, 0.0) for r in rows]
    positives = sum(labels)
    flagged = sum(flags)
    tp = sum(1 for y, f in zip(labels, flags, strict=True) if y and f)
    precision = tp / flagged if flagged else None
    recall = tp / positives if positives else None
    base = positives / n if n else 0
    lift = precision / base if precision is not None and base else None
    return Result(
        signal=signal,
        label=label,
        horizon_days=horizon_days,
        n=n,
        positives=positives,
        flagged=flagged,
        true_positives=tp,
        precision=precision,
        recall=recall,
        lift=lift,
        auc=auc(labels, risks),
        precision_ci=wilson(tp, flagged),
        recall_ci=wilson(tp, positives),
        auc_ci=auc_interval(labels, risks),
    )


# --- point-in-time rows -----------------------------------------------------------------------


def _subset(
    frames: Frames, ids: list[int], now: pd.Timestamp, tickets: pd.DataFrame, usage: pd.DataFrame
) -> Frames:
    """The facts of ``ids`` for a run at ``now``; ``tickets`` and ``usage`` are their
    aggregates as of now."""
    keep = set(ids)

    def cut(df: pd.DataFrame) -> pd.DataFrame:
        return df[df["account_id"].isin(keep)] if not df.empty else df

    return Frames(
        now=now,
        account_ids=ids,
        tickets=tickets,
        usage=usage,
        sentiment=cut(frames.sentiment),
        contacts=cut(frames.contacts),
        people=cut(frames.people),
        competitors=cut(frames.competitors),
        milestones=cut(frames.milestones),
        readiness=cut(frames.readiness),
    )


def as_of_date(renewal: dt.date, horizon_days: int) -> dt.date:
    """The day a renewal is read: ``horizon_days`` before it, moved back to that week's
    Monday. Earlier, never later, so nothing leaks; and renewals of one week share a run
    of the measures (a run costs the same for one account or fifty)."""
    day = renewal - dt.timedelta(days=horizon_days)
    return day - dt.timedelta(days=day.weekday())


def history(horizon_days: int = 90) -> list[Row]:
    """Every recorded renewal with each signal's flag and risk ``horizon_days`` before it."""
    records = list(
        RenewalOutcome.objects.order_by("renewal_date", "pk").values_list(
            "account_id", "renewal_date", "outcome", "arr_before", "account__arr"
        )
    )
    if not records:
        return []
    arr_at = {(a, d): float(b if b is not None else now) for a, d, _, b, now in records}
    outcomes = [(a, d, o) for a, d, o, _, _ in records]
    thresholds = sc_selectors.thresholds()
    areas = sc_selectors.area_infos()
    first = min(d for _, d, _ in outcomes) - dt.timedelta(days=horizon_days)
    # Loaded once, from the earliest as-of date on: a superset of every window; each
    # renewal's run then drops what came after its own date (measures.as_of). Tickets and
    # usage are aggregated per run date by the database instead.
    frames = sc_selectors.load_frames(
        sorted({a for a, _, _ in outcomes}),
        dt.datetime.combine(first, dt.time.min, tzinfo=dt.UTC),
        thresholds,
        aggregates=False,
    )
    by_date: dict[dt.date, list[tuple[int, dt.date, str]]] = {}
    for account_id, renewal, outcome in outcomes:
        by_date.setdefault(as_of_date(renewal, horizon_days), []).append(
            (account_id, renewal, outcome)
        )
    rows: list[Row] = []
    for on, group in sorted(by_date.items()):
        ids = sorted({a for a, _, _ in group})
        now = pd.Timestamp(dt.datetime.combine(on, dt.time.min, tzinfo=dt.UTC))
        when = now.to_pydatetime()
        tickets = sc_selectors.ticket_stats(ids, when, thresholds)
        usage = sc_selectors.usage_stats(ids, when, thresholds)
        measured = run_measures(_subset(frames, ids, now, tickets, usage), thresholds)
        _, overall = combine(measured, account_ids=ids, areas=areas, cta_floors={}, overrides={})
        flags: dict[int, dict[str, bool]] = {a: {} for a in ids}
        risks: dict[int, dict[str, float]] = {a: {} for a in ids}
        gaps: dict[int, dict[str, bool]] = {a: {} for a in ids}
        for account_id, code, color, score, gap in measured[
            ["account_id", "measure", "color", "score", "no_data"]
        ].itertuples(index=False):
            flags[int(account_id)][code] = color != GREEN
            risks[int(account_id)][code] = 100.0 - float(score)
            gaps[int(account_id)][code] = bool(gap)
        for o in overall:
            flags[o.account_id][COMPOSITE] = o.color != GREEN
            risks[o.account_id][COMPOSITE] = 100.0 - float(o.weighted_score)
        for account_id, renewal, outcome in group:
            rows.append(
                Row(
                    account_id,
                    renewal,
                    outcome == RenewalOutcomeKind.CHURNED,
                    flags[account_id],
                    risks[account_id],
                    no_data=gaps[account_id],
                    as_of=on,
                    arr=arr_at[(account_id, renewal)],
                )
            )
    return rows


def labels() -> dict[str, str]:
    out = {t.code: t.label for t in sc_selectors.thresholds() if t.enabled}
    out[COMPOSITE] = "Composite health (overall colour)"
    return out


def backtest(horizon_days: int = 90, rows: list[Row] | None = None) -> list[Result]:
    """One result per signal (each enabled measure, then the composite)."""
    rows = history(horizon_days) if rows is None else rows
    return [evaluate(rows, code, label, horizon_days) for code, label in labels().items()]


def reading(results: list[Result]) -> list[str]:
    """Plain-language sentences: what flagged how many of the churned renewals."""
    if not results or results[0].n == 0:
        return ["No renewal outcomes on record yet: import them with manage.py import_outcomes."]
    composite = next((r for r in results if r.signal == COMPOSITE), None)
    h, p = results[0].horizon_days, results[0].positives
    ranked = sorted(
        (r for r in results if r.signal != COMPOSITE and r.true_positives),
        key=lambda r: (-(r.auc or 0), -r.true_positives),
    )
    out = [
        f"{results[0].n} renewals on record, {p} churned "
        f"({p / results[0].n:.0%} base rate), read at T-{h} days."
    ]
    for r in ranked[:3]:
        out.append(
            f"{r.label} flagged {r.true_positives} of {p} churned accounts at T-{h}"
            + (f" (precision {r.precision:.0%}, lift {r.lift:.1f}×)" if r.lift else "")
            + (f"; AUC {r.auc:.2f}." if r.auc is not None else ".")
        )
    if composite is not None:
        out.append(
            f"The composite flagged {composite.true_positives} of {p}"
            + (f"; AUC {composite.auc:.2f}." if composite.auc is not None else ".")
        )
    if p < 10:
        out.append("Fewer than 10 churned renewals: treat every figure as a hint, not proof.")
    return out


def cached_backtest(horizon_days: int) -> list[Result]:
    """The page's backtest, kept for a day: recomputing means re-running the measures at
    every renewal week. A new or changed outcome (count, latest id) or a new day misses."""
    from django.core.cache import cache
    from django.db.models import Count, Max

    from csrisk import clock

    stamp = RenewalOutcome.objects.aggregate(n=Count("pk"), last=Max("pk"))
    # "insights-": entries pickled before the move name signals.backtest, which is gone.
    key = f"insights-backtest:{horizon_days}:{stamp['n']}:{stamp['last']}:{clock.today()}"
    results = cache.get(key)
    if results is None:
        results = backtest(horizon_days)
        cache.set(key, results, 24 * 3600)
    return results
