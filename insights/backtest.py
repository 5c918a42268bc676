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
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from accounts.choices import RenewalOutcomeKind
from accounts.models import RenewalOutcome
from insights import metrics
from insights.metrics import Interval
from scorecards import selectors as sc_selectors
from scorecards.compute import combine
from scorecards.measures import GREEN, Frames, run_measures

COMPOSITE = "composite"
HORIZONS = (30, 60, 90, 180)
SCORE, PROBABILITY = "score", "probability"

# A signal given as a probability per Row (0..1, or None where it cannot say): its label
# and the function that gives one per row, trained only on outcomes known at each row.
ProbabilitySource = Callable[[list["Row"]], list[float | None]]


RISK_MODEL = "risk_model"


def probability_signals() -> dict[str, tuple[str, ProbabilitySource]]:
    """Signals scored as probabilities, after the measures and the composite: the
    renewal-risk model, scored by rolling origin (each renewal by a model trained only on
    the outcomes known before the day it is read: ``risk.rolling_origin_probabilities``)."""
    from insights import risk  # the model reads the backtest's rows: import it late

    return {RISK_MODEL: ("Renewal-risk model", risk.rolling_origin_probabilities)}


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
    # Each probability signal's value, filled after history() (the risk model's, say).
    probabilities: dict[str, float | None] = field(default_factory=dict)


@dataclass
class Result:
    """How one signal did at one horizon; every figure None where it is not defined."""

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
    precision_ci: Interval | None
    recall_ci: Interval | None
    auc_ci: Interval | None
    kind: str = SCORE
    pr_auc: float | None = None
    pr_auc_ci: Interval | None = None
    brier: float | None = None
    brier_ci: Interval | None = None
    arr_recall: float | None = None
    arr_recall_ci: Interval | None = None
    calibration: list[dict[str, Any]] = field(default_factory=list)
    # Across the horizons of one run: the median days before a churned renewal that the
    # signal first flagged it, and over how many churned renewals it flagged at all.
    lead_days: float | None = None
    lead_n: int = 0

    def as_contract(self) -> dict:
        """The CONTRACT shape of ``manage.py backtest --json``: the seven keys, then
        ``pr_auc`` (every signal) and ``brier`` (probabilities only)."""
        out = {
            "signal": self.signal,
            "horizon_days": self.horizon_days,
            "auc": _round(self.auc),
            "precision": _round(self.precision),
            "recall": _round(self.recall),
            "lift": _round(self.lift),
            "n": self.n,
            "pr_auc": _round(self.pr_auc),
        }
        if self.kind == PROBABILITY:
            out["brier"] = _round(self.brier)
        return out

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in (
            "precision_ci",
            "recall_ci",
            "auc_ci",
            "pr_auc_ci",
            "brier_ci",
            "arr_recall_ci",
        ):
            if values.get(name) is not None:
                values[name] = tuple(values[name])  # JSON gave a list
        return cls(**values)

    @property
    def thin(self) -> bool:
        """Flagged too few renewals for its precision or lift to mean anything."""
        return self.flagged < min_flagged()


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def min_flagged() -> int:
    """The fewest flagged renewals a signal needs before a sentence may praise it."""
    from django.conf import settings

    return int(settings.CSRISK_BACKTEST_MIN_FLAGGED)


def probability_flag_at() -> float:
    """A probability signal flags a renewal at this probability or above."""
    from django.conf import settings

    return float(settings.CSRISK_BACKTEST_PROBABILITY_FLAG)


# --- scoring one signal -----------------------------------------------------------------------


def _columns(
    rows: list[Row], signal: str, kind: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(churned, risk, flagged, arr) of the rows the signal speaks for: every row for a
    measure or the composite; for a probability, the rows it gave a value."""
    if kind == PROBABILITY:
        at = probability_flag_at()
        kept = [(r, r.probabilities.get(signal)) for r in rows]
        kept = [(r, p) for r, p in kept if p is not None]
        y = [r.churned for r, _ in kept]
        s = [float(p) for _, p in kept]
        f = [p >= at for p in s]
        w = [r.arr for r, _ in kept]
    else:
        y = [r.churned for r in rows]
        s = [r.risks.get(signal, 0.0) for r in rows]
        f = [r.flags.get(signal, False) for r in rows]
        w = [r.arr for r in rows]
    return (
        np.asarray(y, dtype=bool),
        np.asarray(s, dtype=float),
        np.asarray(f, dtype=bool),
        np.asarray(w, dtype=float),
    )


def evaluate(
    rows: list[Row], signal: str, label: str, horizon_days: int, kind: str = SCORE
) -> Result:
    """Every figure of one signal over the renewals it speaks for."""
    y, s, f, w = _columns(rows, signal, kind)
    n = len(y)
    positives = int(y.sum())
    flagged = int(f.sum())
    tp = int((y & f).sum())
    precision = tp / flagged if flagged else None
    recall = tp / positives if positives else None
    base = positives / n if n else 0
    lift = precision / base if precision is not None and base else None
    is_probability = kind == PROBABILITY
    weights = metrics.resample_weights(n)
    auc = metrics.auc(y, s)
    pr_auc = metrics.average_precision(y, s)
    brier = metrics.brier(y, s) if is_probability else None
    arr_recall = metrics.weighted_recall(y, f, w)
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
        auc=auc,
        precision_ci=metrics.wilson(tp, flagged),
        recall_ci=metrics.wilson(tp, positives),
        auc_ci=metrics.interval(metrics.auc_many(y, s, weights), auc),
        kind=kind,
        pr_auc=pr_auc,
        pr_auc_ci=metrics.interval(metrics.average_precision_many(y, s, weights), pr_auc),
        brier=brier,
        brier_ci=metrics.interval(metrics.brier_many(y, s, weights), brier),
        arr_recall=arr_recall,
        arr_recall_ci=metrics.interval(metrics.weighted_recall_many(y, f, w, weights), arr_recall),
        calibration=metrics.calibration(y, s, probability=is_probability),
    )


def flagged(row: Row, signal: str, kind: str = SCORE) -> bool:
    """Whether ``signal`` flagged ``row`` (the rule ``evaluate`` counts by)."""
    if kind == PROBABILITY:
        p = row.probabilities.get(signal)
        return p is not None and p >= probability_flag_at()
    return row.flags.get(signal, False)


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


def history(horizon_days: int = 90, on_step: Callable[[int, int], None] | None = None) -> list[Row]:
    """Every recorded renewal with each signal's flag and risk ``horizon_days`` before it.
    ``on_step(done, total)`` hears of each reading date done (a job's progress)."""
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
    for step, (on, group) in enumerate(sorted(by_date.items()), start=1):
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
        if on_step is not None:
            on_step(step, len(by_date))
    return rows


def labels() -> dict[str, str]:
    out = {t.code: t.label for t in sc_selectors.thresholds() if t.enabled}
    out[COMPOSITE] = "Composite health (overall colour)"
    return out


def backtest(
    horizon_days: int = 90,
    rows: list[Row] | None = None,
    sources: dict[str, tuple[str, ProbabilitySource]] | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> list[Result]:
    """One result per signal: each enabled measure, the composite, then each probability
    signal (``probability_signals()`` unless ``sources`` is given)."""
    if rows is None:
        rows = history(horizon_days, on_step=on_step)
    sources = probability_signals() if sources is None else sources
    for code, (_, source) in sources.items():
        for row, p in zip(rows, source(rows), strict=True):
            row.probabilities[code] = p
    results = [evaluate(rows, code, label, horizon_days) for code, label in labels().items()]
    results += [
        evaluate(rows, code, label, horizon_days, PROBABILITY)
        for code, (label, _) in sources.items()
    ]
    return results


def lead_times(rows_by_horizon: dict[int, list[Row]], signal: str, kind: str = SCORE) -> list[int]:
    """Days before each churned renewal that ``signal`` first flagged it, over the horizons
    read (its earliest flagged reading); churned renewals it never flagged are left out."""
    first: dict[tuple[int, dt.date], int] = {}
    for horizon, rows in rows_by_horizon.items():
        for row in rows:
            if row.churned and flagged(row, signal, kind):
                days = (row.renewal_date - as_of_date(row.renewal_date, horizon)).days
                key = (row.account_id, row.renewal_date)
                first[key] = max(days, first.get(key, 0))
    return sorted(first.values())


def backtest_all(
    horizons: tuple[int, ...] = HORIZONS,
    on_progress: Callable[[float], None] | None = None,
    sources: dict[str, tuple[str, ProbabilitySource]] | None = None,
) -> dict[int, list[Result]]:
    """Every horizon's results, each signal with its median lead time across them.
    ``on_progress(fraction)`` hears how far the reading has got."""
    sources = probability_signals() if sources is None else sources
    rows_by_horizon: dict[int, list[Row]] = {}
    results: dict[int, list[Result]] = {}
    for i, horizon in enumerate(horizons):

        def step(done: int, total: int, i: int = i) -> None:
            if on_progress is not None:
                on_progress((i + done / total) / len(horizons))

        rows = history(horizon, on_step=step)
        results[horizon] = backtest(horizon, rows=rows, sources=sources)
        rows_by_horizon[horizon] = rows
    kinds = {r.signal: r.kind for rs in results.values() for r in rs}
    for signal, kind in kinds.items():
        leads = lead_times(rows_by_horizon, signal, kind)
        for rs in results.values():
            for r in rs:
                if r.signal == signal:
                    r.lead_days = statistics.median(leads) if leads else None
                    r.lead_n = len(leads)
    return results


def reading(results: list[Result]) -> list[str]:
    """Plain-language sentences: what flagged how many of the churned renewals. Only a
    signal that flagged at least ``min_flagged()`` renewals is named as a leader: one
    lucky hit has 100% precision and a large lift, and means nothing."""
    if not results or results[0].n == 0:
        return ["No renewal outcomes on record yet: import them with manage.py import_outcomes."]
    composite = next((r for r in results if r.signal == COMPOSITE), None)
    first = composite or results[0]
    h, n, p = first.horizon_days, first.n, first.positives
    floor = min_flagged()
    candidates = [r for r in results if r.signal != COMPOSITE and r.true_positives]
    ranked = sorted(
        (r for r in candidates if not r.thin),
        key=lambda r: (-(r.auc or 0), -r.true_positives),
    )
    out = [f"{n} renewals on record, {p} churned ({p / n:.0%} base rate), read at T-{h} days."]
    for r in ranked[:3]:
        out.append(
            f"{r.label} flagged {r.true_positives} of {r.positives} churned accounts at T-{h}"
            + (f" (precision {r.precision:.0%}, lift {r.lift:.1f}×)" if r.lift else "")
            + (f"; AUC {r.auc:.2f}." if r.auc is not None else ".")
        )
    thin = [r.label for r in candidates if r.thin]
    if thin:
        out.append(
            f"{', '.join(thin)} flagged fewer than {floor} renewals each: too few to judge "
            "their precision or lift."
        )
    if composite is not None:
        out.append(
            f"The composite flagged {composite.true_positives} of {p}"
            + (f"; AUC {composite.auc:.2f}." if composite.auc is not None else ".")
        )
    if p < 10:
        out.append("Fewer than 10 churned renewals: treat every figure as a hint, not proof.")
    return out


def outcomes_stamp() -> str:
    """A digest of what a backtest depends on besides the facts: every recorded outcome
    and every measure's configuration. A result with another stamp is stale."""
    import hashlib

    from scorecards.models import MeasureConfig

    digest = hashlib.sha256()
    for row in RenewalOutcome.objects.order_by("pk").values_list(
        "pk", "account_id", "renewal_date", "outcome", "arr_before"
    ):
        digest.update(repr(row).encode())
    for row in MeasureConfig.objects.order_by("code").values_list(
        "code", "yellow_at", "red_at", "higher_is_worse", "best", "window_days", "params", "enabled"
    ):
        digest.update(repr(row).encode())
    return digest.hexdigest()
