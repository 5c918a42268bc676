"""The recompute: run the measures over the facts and write colours, scores and reasons.

Vectorised over the book in chunks; only the rows that changed are written, and each colour
change is recorded (``ColorChange``) and emitted as ``events.color_changed``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass

import pandas as pd
from django.db import transaction

from csrisk import clock, events, metrics
from csrisk.db import concurrent_reads, gc_paused, insert_rows, update_rows
from scorecards import selectors
from scorecards.compute import combine
from scorecards.measures import (
    FACT_FRAMES,
    MEASURES,
    Threshold,
    enabled,
    fact_as_of,
    measure_rows,
    run_measures,
)
from scorecards.models import AreaScore, ColorChange, Scorecard

# Accounts per transaction of a full recompute. Each chunk pays every fact query and the
# pandas set-up once: on the 10,000-account book, chunks of 10,000 took ~4.5 s where
# chunks of 2,000 took ~6.5 s (same machine, same load). 10,000 accounts' facts and rows
# fit in a few hundred MB.
CHUNK = 10_000
BATCH = 1000


@dataclass
class RecomputeReport:
    accounts: int = 0
    area_changes: int = 0
    overall_changes: int = 0


def recompute(
    account_ids: Iterable[int] | None = None, *, cause: str = "measures"
) -> RecomputeReport:
    """Recompute colours for these accounts (all active accounts when None), in chunks.

    Vectorised: each chunk loads its facts with one query per table, runs every measure
    over all its accounts at once (pandas), and writes only the rows that changed.
    """
    ids = sorted(set(account_ids)) if account_ids is not None else selectors.active_account_ids()
    report = RecomputeReport()
    thresholds = selectors.thresholds()
    areas = selectors.area_infos()
    concurrent = selectors.concurrent_reads_wanted(len(ids))
    with metrics.recompute_timed():
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            # No cyclic garbage collection while a chunk is computed: it allocates millions
            # of objects (rows, sentences, frames) that live until its end (csrisk.db.gc_paused).
            with transaction.atomic(), gc_paused():
                _recompute_chunk(chunk, thresholds, areas, cause, report, concurrent=concurrent)
    return report


def _recompute_chunk(
    ids: list[int],
    thresholds: list,
    areas: list,
    cause: str,
    report: RecomputeReport,
    *,
    concurrent: bool,
) -> None:
    now = clock.now()
    if concurrent:
        measured, (cards, floors, live) = _measured_while_reading(ids, now, thresholds)
    else:
        frames, (cards, floors, live) = selectors.load_frames_and_state(ids, now, thresholds)
        measured = run_measures(frames, thresholds)
    events.emit_on_commit(events.measures_computed, account_ids=ids, rows=measured, at=now)
    compared: list[pd.DataFrame] = []  # the stored areas of the accounts whose areas moved

    def stored_areas(account_ids: list[int]) -> pd.DataFrame:
        compared.append(selectors.stored_areas(account_ids))
        return compared[-1]

    # Plain tuples, not model instances: building 16,000 instances a chunk cost more than
    # the measures. Only the rows that changed become instances (for bulk_update).
    # The stored reasons are never read back: their digest (``compute.AreaResult.digest``)
    # says what changed, and ``combine`` builds reasons only for the areas whose digest moved.
    # It compares each account's digest of its areas first (``Scorecard.areas_digest``):
    # only the accounts whose digest moved have their areas' digests read and compared.
    area_results, overall_results = combine(
        measured,
        account_ids=ids,
        areas=areas,
        cta_floors=floors,
        overrides=live,
        stored=stored_areas,
        stored_accounts={a: card[-1] for a, card in cards.items()},
        links=lambda code, account_ids: selectors.deferred_links(
            code, account_ids, now=now, measure_thresholds=thresholds
        ),
    )
    # The stored rows of the areas that changed (few in steady state), by (account, area).
    scores = compared[0] if compared else selectors.stored_areas([])
    mine = scores[scores["account_id"].isin({r.account_id for r in area_results})]
    existing = dict(
        zip(
            zip(mine["account_id"].tolist(), mine["area"].tolist(), strict=True),
            zip(mine["pk"].tolist(), mine["color"].tolist(), mine["digest"].tolist(), strict=True),
            strict=True,
        )
    )
    new_scores: list[tuple] = []
    changed_scores: list[AreaScore] = []
    new_cards: list[tuple] = []
    changed_cards: list[Scorecard] = []
    history: list[tuple] = []  # COLOR_CHANGE_COLUMNS

    news: list[dict[str, object]] = []  # sent after the commit, as one batch

    def changed(account_id: int, area: str, old: str, new: str, score: int, why: str) -> None:
        history.append((account_id, area, old, new, score, now, cause, why[:500]))
        if old:  # a first colour is not news
            news.append(
                {
                    "account_id": account_id,
                    "area": area,
                    "old": old,
                    "new": new,
                    "at": now,
                    "cause": cause,
                    "reason": why,
                }
            )

    for r in area_results:
        old = existing.get((r.account_id, r.area))
        state = (r.color, r.score, r.computed_color, r.computed_score, r.reasons, r.no_data)
        digest = r.digest
        if old is None:
            new_scores.append((r.account_id, r.area, *state, digest, now, now))
            changed(r.account_id, r.area, "", r.color, r.score, first_reason(r.reasons))
            continue
        pk, old_color, old_digest = old
        if old_digest == digest:
            continue
        score = AreaScore(
            pk=pk, computed_at=now, digest=digest, **dict(zip(AREA_STATE, state, strict=True))
        )
        if old_color != r.color:
            changed(r.account_id, r.area, old_color, r.color, r.score, first_reason(r.reasons))
            score.changed_at = now
            report.area_changes += 1
        changed_scores.append(score)
    for o in overall_results:
        card = cards.get(o.account_id)
        state = (
            o.color,
            o.score,
            o.weighted_score,
            o.reason,
            o.worst_area,
            o.no_data,
            o.areas_digest,
        )
        if card is None:
            new_cards.append((o.account_id, *state, now, now))
            changed(o.account_id, ColorChange.OVERALL, "", o.color, o.score, o.reason)
            continue
        old_state = card
        if old_state == state:
            continue
        updated = Scorecard(
            account_id=o.account_id, computed_at=now, **dict(zip(CARD_STATE, state, strict=True))
        )
        if old_state[0] != o.color:
            changed(o.account_id, ColorChange.OVERALL, old_state[0], o.color, o.score, o.reason)
            updated.changed_at = now
            report.overall_changes += 1
        changed_cards.append(updated)
    insert_rows(AreaScore, AREA_SCORE_COLUMNS, new_scores)
    _bulk_update(AreaScore, changed_scores, [*AREA_STATE, "digest", "computed_at"])
    insert_rows(Scorecard, SCORECARD_COLUMNS, new_cards)
    _bulk_update(Scorecard, changed_cards, [*CARD_STATE, "computed_at"])
    insert_rows(ColorChange, COLOR_CHANGE_COLUMNS, history)
    events.emit_all_on_commit(events.color_changed, news)
    report.accounts += len(ids)


AREA_STATE = ("color", "score", "computed_color", "computed_score", "reasons", "no_data")
# areas_digest last: a recompute reads it as ``card[-1]``.
CARD_STATE = (
    "color",
    "score",
    "weighted_score",
    "reason",
    "worst_area",
    "no_data",
    "areas_digest",
)


# Connections a big recompute reads on at once: with the server's cores busy, Python
# converts what has arrived and runs the measures whose facts are in.
CONCURRENT_READS = 3


def _measured_while_reading(
    ids: list[int], now: dt.datetime, thresholds: list[Threshold]
) -> tuple[pd.DataFrame, selectors.RecomputeState]:
    """``run_measures`` over the facts of ``selectors.recompute_reads``, read on
    ``CONCURRENT_READS`` connections: each measure runs as soon as the reads it needs are
    in, while the server answers the others (the ticket aggregates take longest). The
    rows are those of ``run_measures`` over ``load_frames``, in the same order."""
    waiting = {t.code: (t, selectors.measure_reads(t.code)) for t in enabled(thresholds)}
    parts: dict[str, pd.DataFrame] = {}
    results: dict[str, object] = {}
    at = pd.Timestamp(now).tz_convert("UTC")
    reads = selectors.recompute_reads(ids, now, thresholds)
    arrivals = concurrent_reads(
        reads, workers=CONCURRENT_READS, session_sql=selectors.READ_SETTINGS
    )
    with closing(arrivals):  # a measure that fails stops the reads not yet started
        for name, result in arrivals:
            # Each fact table as of ``now`` once, as ``run_measures`` would (``as_of``).
            results[name] = fact_as_of(name, result, at) if name in FACT_FRAMES else result
            ready = [code for code, (_, needs) in waiting.items() if needs <= results.keys()]
            if ready:
                frames = selectors.frames_from(ids, now, results)
                for code in ready:
                    t, _ = waiting.pop(code)
                    parts[code] = MEASURES[code](frames, t)
    return (
        measure_rows([parts[t.code] for t in enabled(thresholds)]),
        selectors.state_from(results),
    )


def _bulk_update(model: type[AreaScore | Scorecard], rows: list, fields: list[str]) -> None:
    """Write the changed rows in two groups: rows whose colour changed also write
    ``changed_at``. Through ``update_rows``, not ``bulk_update``: its CASE WHEN per row cost
    ~0.25 ms a row (a quarter of a steady-state full recompute when ~2,000 areas moved)."""
    pk = model._meta.pk.attname
    moved = [r for r in rows if r.changed_at is not None]
    kept = [r for r in rows if r.changed_at is None]
    for group, columns in ((moved, [*fields, "changed_at"]), (kept, fields)):
        update_rows(
            model,
            columns,
            [(getattr(r, pk), *(getattr(r, c) for c in columns)) for r in group],
            batch=BATCH,
        )


# New rows are tuples in these column orders, written through the fast insert path: a first
# full compute writes about 18 rows an account.
AREA_SCORE_COLUMNS = (
    "account_id",
    "area",
    "color",
    "score",
    "computed_color",
    "computed_score",
    "reasons",
    "no_data",
    "digest",
    "changed_at",
    "computed_at",
)
SCORECARD_COLUMNS = (
    "account_id",
    "color",
    "score",
    "weighted_score",
    "reason",
    "worst_area",
    "no_data",
    "areas_digest",
    "changed_at",
    "computed_at",
)
COLOR_CHANGE_COLUMNS = (
    "account_id",
    "area",
    "from_color",
    "to_color",
    "score",
    "at",
    "cause",
    "reason",
)


def first_reason(reasons: list[dict]) -> str:
    """The sentence a change is recorded with: the first reason, cut to fit."""
    return (reasons[0]["sentence"] if reasons else "")[:500]
