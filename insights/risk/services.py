"""Writes of the renewal-risk model: train it, and score the live accounts with it.

- ``risk_model_train`` learns from the book's past renewals, read point-in-time by the
  backtest (``insights.backtest.history``), or writes the documented prior when too few of
  them churned; the new model becomes the active one and every live account is scored.
- ``risk_score`` scores live accounts from measure rows: those a recompute just computed
  (the ``csrisk.events.measures_computed`` receiver), or rows it computes itself.
- ``rolling_origin_probabilities`` scores past renewals, each with a model trained only on
  the renewals that had happened before it was read (for the backtest).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet

from accounts.choices import LifecycleStage
from accounts.models import Account
from csrisk import audit, clock, events
from csrisk.db import (
    COPY_NULL,
    CopySource,
    among,
    copy_rows,
    copy_text,
    insert_rows,
    update_rows,
)
from csrisk.models import User
from insights import backtest
from insights.backtest import Row
from insights.models import RiskBand, RiskModel, RiskModelKind, RiskPrediction
from insights.risk import features, model, prior
from insights.risk.selectors import DEFAULT_PRIOR
from scorecards import selectors as sc_selectors
from scorecards.measures import run_measures

# Reasons shown: the signals that push the probability up the most, at least this much.
TOP_REASONS = 3
MIN_REASON_POINTS = 0.5
# A probability that moved less than this (and kept its band and model) is the same
# prediction: no history row is added (its reasons are refreshed in place if they moved).
SAME = 0.0005


# --- bands --------------------------------------------------------------------------------


def band(probability: float) -> str:
    """low below CSRISK_RISK_BAND_MEDIUM, high from CSRISK_RISK_BAND_HIGH, medium between."""
    if probability >= settings.CSRISK_RISK_BAND_HIGH:
        return RiskBand.HIGH
    if probability >= settings.CSRISK_RISK_BAND_MEDIUM:
        return RiskBand.MEDIUM
    return RiskBand.LOW


def _bands(probabilities: np.ndarray) -> list[str]:
    """``band`` of each probability, on the array."""
    return np.where(
        probabilities >= settings.CSRISK_RISK_BAND_HIGH,
        RiskBand.HIGH.value,
        np.where(
            probabilities >= settings.CSRISK_RISK_BAND_MEDIUM,
            RiskBand.MEDIUM.value,
            RiskBand.LOW.value,
        ),
    ).tolist()


CENT = Decimal("0.01")


# --- fitting ------------------------------------------------------------------------------


@dataclass
class Fit:
    kind: str
    params: model.Params
    n_renewals: int
    n_churned: int
    base_rate: float
    metrics: dict


def fit_rows(rows: Sequence[Row], feature_names: Sequence[str], x: np.ndarray | None = None) -> Fit:
    """The learned model when the rows hold enough churns, else the prior (the only place
    that choice is made: training and the rolling-origin backtest both come here). ``x``:
    the rows' features when the caller has them."""
    n, churned = len(rows), sum(r.churned for r in rows)
    rate = prior.base_rate(n, churned, settings.CSRISK_RISK_DEFAULT_BASE_RATE)
    if x is None and rows:
        x = features.from_rows(rows, feature_names)
    if churned < settings.CSRISK_RISK_MIN_CHURNS or churned == n:
        return Fit(RiskModelKind.PRIOR, prior.prior(feature_names, rate, x), n, churned, rate, {})
    y = np.array([r.churned for r in rows], dtype=int)
    params = model.fit(x, y, feature_names)
    return Fit(RiskModelKind.LEARNED, params, n, churned, rate, {})


def _metrics(fit: Fit, rows: Sequence[Row]) -> dict:
    """In-sample and (learned models) cross-validated AUC, Brier and log loss."""
    # The churn threshold it was trained under: the prior's notice quotes it.
    if not rows:
        return {"base_rate": fit.base_rate, "min_churns": settings.CSRISK_RISK_MIN_CHURNS}
    x = features.from_rows(rows, fit.params.features)
    y = np.array([r.churned for r in rows], dtype=int)
    out: dict = {
        "min_churns": settings.CSRISK_RISK_MIN_CHURNS,
        "base_rate": round(fit.base_rate, 4),
        "in_sample": model.metrics(y, fit.params.probability(x)),
    }
    if fit.kind == RiskModelKind.LEARNED:
        oof = model.cross_validated(x, y, fit.params.features)
        out["cross_validated"] = model.metrics(y, oof) if oof is not None else None
        out["calibrated"] = fit.params.calibration is not None
    return out


# --- training -----------------------------------------------------------------------------


def risk_model_train(*, by: User | None = None, score: bool = True) -> RiskModel:
    """Fit the model on every past renewal (or write the prior), make it the active one and
    score the live accounts with it. Idempotent: the same renewals fit the same numbers
    (seeded folds), and then the active model stays as it is."""
    now = clock.now()
    horizon = settings.CSRISK_RISK_HORIZON_DAYS
    # Read and fitted outside any transaction: reading every renewal week takes a while.
    rows = backtest.history(horizon)
    names = features.names(features.measure_codes())
    fit = fit_rows(rows, names)
    fit.metrics = _metrics(fit, rows)
    risk_model = _activate(fit, rows, names, now, by)
    if score:
        risk_score()
    return risk_model


@transaction.atomic
def _activate(
    fit: Fit, rows: Sequence[Row], names: list[str], now: dt.datetime, by: User | None
) -> RiskModel:
    """Store the fitted model as the active one (the previous one stays, inactive: its
    predictions keep pointing at it)."""
    previous = RiskModel.objects.select_for_update().filter(active=True).first()
    parameters = fit.params.as_json()
    if previous is not None and (previous.parameters, previous.features, previous.kind) == (
        parameters,
        names,
        fit.kind,
    ):
        # The same renewals fit the same numbers (seeded folds): nothing new to activate.
        return previous
    if previous is not None:
        RiskModel.objects.filter(pk=previous.pk, active=True).update(active=False)
    dates = [r.renewal_date for r in rows]
    risk_model = RiskModel.objects.create(
        version=f"{fit.kind}-{now:%Y%m%d-%H%M%S-%f}",
        kind=fit.kind,
        trained_at=now,
        window_start=min(dates) if dates else None,
        window_end=max(dates) if dates else None,
        horizon_days=settings.CSRISK_RISK_HORIZON_DAYS,
        n_renewals=fit.n_renewals,
        n_churned=fit.n_churned,
        features=names,
        parameters=parameters,
        metrics=fit.metrics,
        active=True,
    )
    audit.record(
        actor=by,
        action="risk_model.train",
        target=risk_model,
        changes={"active": (previous.version if previous else None, risk_model.version)},
    )
    return risk_model


def active_model() -> RiskModel:
    """The active model; before any training, the prior with the default base rate (so a
    first recompute already has a probability, and says it is the prior)."""
    found = RiskModel.objects.filter(active=True).first()
    if found is not None:
        return found
    names = features.names(features.measure_codes())
    params = prior.prior(names, settings.CSRISK_RISK_DEFAULT_BASE_RATE)
    try:
        with transaction.atomic():
            return RiskModel.objects.create(
                version=f"{DEFAULT_PRIOR}-{len(names)}f",
                kind=RiskModelKind.PRIOR,
                trained_at=clock.now(),
                horizon_days=settings.CSRISK_RISK_HORIZON_DAYS,
                features=names,
                parameters=params.as_json(),
                metrics={
                    "base_rate": settings.CSRISK_RISK_DEFAULT_BASE_RATE,
                    "min_churns": settings.CSRISK_RISK_MIN_CHURNS,
                },
                active=True,
            )
    except IntegrityError:  # another process made one first (or the version exists)
        return RiskModel.objects.filter(active=True).first() or RiskModel.objects.get(
            version=f"{DEFAULT_PRIOR}-{len(names)}f"
        )


# --- scoring ------------------------------------------------------------------------------


@dataclass
class ScoreReport:
    accounts: int = 0
    new: int = 0
    refreshed: int = 0  # same prediction, reasons reworded


def risk_score(
    account_ids: Iterable[int] | None = None,
    *,
    measured: pd.DataFrame | None = None,
    now: dt.datetime | None = None,
) -> ScoreReport:
    """Score the live (not churned) accounts among ``account_ids`` (all when None) with the
    active model. ``measured``: the measure rows of those accounts as of now (a recompute's);
    without them the measures are run here."""
    now = now or clock.now()
    wanted = None if account_ids is None else set(account_ids)
    qs = Account.objects.exclude(lifecycle_stage=LifecycleStage.CHURNED)
    live = list(_among(qs, "pk", wanted).order_by("pk").values_list("pk", "arr", "renewal_date"))
    report = ScoreReport(accounts=len(live))
    if not live:
        return report
    ids = [a for a, _, _ in live]
    if measured is None:
        thresholds = sc_selectors.thresholds()
        measured = run_measures(
            sc_selectors.load_frames(ids, now, thresholds, links=False), thresholds
        )
    risk_model = active_model()
    params = model.Params.from_json(risk_model.parameters)
    arr = [float(a) for _, a, _ in live]
    x = features.from_measured(ids, measured, arr, params.features)
    p, points = params.contributions(x)
    reasons = _reasons(ids, measured, arr, params, x, points)
    today = now.date()
    probabilities = np.round(p, 4)
    bands = _bands(probabilities)
    rows = []
    for i, (account_id, account_arr, renewal) in enumerate(live):
        prob = float(probabilities[i])
        horizon = max((renewal - today).days, 0) if renewal else risk_model.horizon_days
        loss = (account_arr * Decimal(str(prob))).quantize(CENT)
        rows.append((account_id, prob, loss, bands[i], horizon, renewal, i))
    _write(rows, reasons, risk_model.pk, now, report, wanted=wanted)
    return report


# Up to this many new rows a write goes through ``insert_rows``; past it, through COPY.
BIG = 2000


def _among(qs: QuerySet, field: str, wanted: set[int] | None) -> QuerySet:
    """``qs`` for the wanted accounts (all when None), the ids sent as one parameter: a
    chunk of a full recompute reads its own rows, not the book's."""
    return qs if wanted is None else among(qs, field, wanted)


def _reasons(
    ids: list[int],
    measured: pd.DataFrame,
    arr: list[float],
    params: model.Params,
    x: np.ndarray,
    points: np.ndarray,
) -> Reasons:
    """Per account, the signals that push its probability up most, in words: only features
    above the book's typical level that raise the probability (a learned weight can run
    against intuition, e.g. "has data" raising risk; that is not a reason one can read)."""
    parsed = [features.parse(f) for f in params.features]
    labels = {t.code: t.label for t in sc_selectors.thresholds()}
    # Each (account, measure) reading's sentence, by position, without a per-row dict.
    codes = pd.Index(sorted({f.measure for f in parsed if f.measure}))
    width = max(len(codes), 1)
    row = pd.Index(ids).get_indexer(measured["account_id"].to_numpy())
    col = codes.get_indexer(measured["measure"].to_numpy(dtype=object))
    keep = (row >= 0) & (col >= 0)
    sentences = np.full(len(ids) * width, "", dtype=object)
    sentences[row[keep] * width + col[keep]] = measured["sentence"].to_numpy(dtype=object)[keep]
    readable = np.where(x > np.asarray(params.mean), points, 0.0)
    # Missing data is not risk (PRODUCT.md): a learned model may weigh a gap, but a gap is
    # never given as a reason to act; the account's data coverage says what to add.
    readable[:, [f.kind == features.GAP for f in parsed]] = 0.0
    k = min(TOP_REASONS, points.shape[1])
    top = np.argsort(-readable, axis=1)[:, :k]
    top_points = np.take_along_axis(readable, top, axis=1) * 100
    # Per feature once: its label, how it reads, and its measure's column of sentences.
    label = [labels.get(f.measure, f.measure) if f.measure else "ARR" for f in parsed]
    at = [codes.get_loc(f.measure) if f.measure else -1 for f in parsed]
    out: list[list[tuple[int, float, str]]] = [[] for _ in ids]
    # Only the (account, reason) pairs that pass the floor, ranks in order, as plain lists:
    # a numpy scalar per pair cost more than the sentences.
    pair_i, pair_r = np.nonzero(top_points >= MIN_REASON_POINTS)
    js = top[pair_i, pair_r]
    pts_list = top_points[pair_i, pair_r].tolist()
    cells = pair_i * width + np.maximum(np.asarray(at)[js], 0)
    said = sentences[cells].tolist()
    kinds = [f.kind for f in parsed]
    for i, j, pts, sentence in zip(pair_i.tolist(), js.tolist(), pts_list, said, strict=True):
        text = f"ARR {arr[i]:,.0f}" if kinds[j] == features.LOG_ARR else sentence or label[j]
        out[i].append((j, pts, f"{text}: {points_text(pts)}"))
    return Reasons(list(params.features), label, out)


def reasons_digest(texts: Iterable[str]) -> str:
    """What a prediction's reasons say, as a short digest of their texts in order: a
    steady-state recompute compares it with the stored one instead of reading every
    reasons document back (that read was half of scoring the book)."""
    return hashlib.blake2b("\x1f".join(texts).encode(), digest_size=8).hexdigest()


def points_text(pts: float) -> str:
    """A reason's weight as its sentence ends: "+12 points", "+1 point"."""
    shown = f"{pts:.0f}"
    return f"+{shown} point{'' if shown == '1' else 's'}"


@dataclass
class Reasons:
    """Each account's reasons as (feature index, points, text): compared by their texts
    with what is stored, and made into documents only for the rows written."""

    features: list[str]
    labels: list[str]
    items: list[list[tuple[int, float, str]]]

    def texts(self, i: int) -> list[str]:
        return [text for _, _, text in self.items[i]]

    def digest(self, i: int) -> str:
        return reasons_digest(self.texts(i))

    def documents(self, i: int) -> list[dict]:
        return [
            {
                "feature": self.features[j],
                "label": self.labels[j],
                "points": round(pts, 1),
                "text": text,
            }
            for j, pts, text in self.items[i]
        ]


def _lock() -> None:
    """Scoring writes one at a time: two scorings of one account would each mark their row
    the latest (the unique constraint would refuse the second)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('csrisk-risk-scoring'))")


PREDICTION_COLUMNS = (
    "account_id",
    "model_id",
    "computed_at",
    "probability",
    "expected_loss",
    "band",
    "horizon_days",
    "renewal_date",
    "reasons",
    "reasons_digest",
    "latest",
)


@transaction.atomic
def _write(
    rows: list[tuple],
    reasons: Reasons,
    model_id: int,
    now: dt.datetime,
    report: ScoreReport,
    *,
    wanted: set | None,
) -> None:
    """A new latest row where the prediction changed (model, band, renewal date or
    probability by SAME or more); the latest row's reasons refreshed in place where only
    their wording did; nothing where nothing did (a steady-state recompute writes nothing).
    ``rows``: (account, probability, loss, band, horizon, renewal date, index in reasons)."""
    _lock()
    current = _latest(wanted)
    new, refreshed, retired = [], [], []
    moved: list[dict] = []  # a band changed: news (a first prediction is not)
    for account_id, prob, loss, bnd, horizon, renewal, i in rows:
        old = current.get(account_id)
        if (
            old is not None
            and old[1] == model_id
            and old[3] == bnd
            and (old[4] == renewal and abs(old[2] - prob) < SAME)
        ):
            digest = reasons.digest(i)
            if old[5] != digest:
                refreshed.append((old[0], now, horizon, reasons.documents(i), digest))
            continue
        if old is not None:
            retired.append(old[0])
            if old[3] != bnd:
                moved.append(
                    {
                        "account_id": account_id,
                        "old_band": old[3],
                        "new_band": bnd,
                        "old_probability": old[2],
                        "probability": prob,
                        "expected_loss": f"{loss:.2f}",
                    }
                )
        new.append(
            (
                account_id,
                model_id,
                now,
                prob,
                loss,
                bnd,
                horizon,
                renewal,
                reasons.documents(i),
                reasons.digest(i),
                True,
            )
        )
    if retired:
        among(RiskPrediction.objects.filter(latest=True), "pk", retired).update(latest=False)
    _insert(new)
    update_rows(
        RiskPrediction, ("computed_at", "horizon_days", "reasons", "reasons_digest"), refreshed
    )
    report.new += len(new)
    report.refreshed += len(refreshed)
    if moved:
        events.emit(events.risk_changed, changes=moved, model_id=model_id, at=now)


def _latest(wanted: set | None) -> dict[int, tuple]:
    """Each account's latest prediction: (pk, model, probability, band, renewal date, the
    digest of its reasons' texts)."""
    qs = _among(RiskPrediction.objects.filter(latest=True), "account_id", wanted)
    found = qs.values_list(
        "account_id", "pk", "model_id", "probability", "band", "renewal_date", "reasons_digest"
    )
    return {a: (pk, m, p, b, d, digest) for a, pk, m, p, b, d, digest in found}


def _insert(rows: list[tuple]) -> None:
    """New prediction rows (``PREDICTION_COLUMNS``): through COPY on PostgreSQL, where a
    training or a first recompute writes one per live account (``executemany`` sends one
    statement per row)."""
    if connection.vendor != "postgresql" or len(rows) < BIG:
        insert_rows(RiskPrediction, PREDICTION_COLUMNS, rows)
        return

    def line(row: tuple) -> str:
        account_id, model_id, at, prob, loss, bnd, horizon, renewal, reasons, digest, latest = row
        day = renewal.isoformat() if renewal is not None else COPY_NULL
        text = copy_text(json.dumps(reasons))
        return (
            f"{account_id}\t{model_id}\t{at.isoformat()}\t{prob!r}\t{loss}\t{bnd}\t"
            f"{horizon}\t{day}\t{text}\t{digest}\t{'t' if latest else 'f'}\n"
        )

    with connection.cursor() as cursor:
        stored = copy_rows(
            cursor,
            RiskPrediction._meta.db_table,
            ", ".join(PREDICTION_COLUMNS),
            CopySource(line(r) for r in rows),
        )
    if not stored:  # the advisory lock makes this a bug, not a race
        raise IntegrityError("risk predictions: COPY broke a constraint")


# --- the backtest's point-in-time model -----------------------------------------------------


def rolling_origin_probabilities(rows: list[Row]) -> list[float | None]:
    """Each past renewal's probability from a model trained ONLY on the renewals whose
    renewal date came before that renewal was read (its ``as_of``): the outcomes known
    then. Fewer churns known than CSRISK_RISK_MIN_CHURNS: the prior, with the base rate of
    what was known. A row without an as-of date gets None."""
    names = features.names(features.measure_codes())
    x = features.from_rows(rows, names)
    out: list[float | None] = [None] * len(rows)
    by_day: dict[dt.date, list[int]] = {}
    for i, r in enumerate(rows):
        if r.as_of is not None:
            by_day.setdefault(r.as_of, []).append(i)
    fits: dict[tuple[int, ...], Fit] = {}  # scoring days with the same outcomes known
    for day, members in sorted(by_day.items()):
        known = [i for i, r in enumerate(rows) if r.renewal_date < day]
        fit = fits.get(tuple(known))
        if fit is None:
            fit = fits[tuple(known)] = fit_rows([rows[i] for i in known], names, x[known])
        for i, prob in zip(members, fit.params.probability(x[members]), strict=True):
            out[i] = float(prob)
    return out
