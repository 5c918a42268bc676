"""A big recompute reads its facts on several connections at once (PostgreSQL, outside any
open transaction): it must read and write exactly what one connection reads and writes."""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd
import pytest
from django.conf import settings
from django.db import connection, transaction

from accounts.demo import build_demo_book
from accounts.models import Account
from csrisk import clock
from csrisk import db as csrisk_db
from csrisk.roles import Role
from scorecards import selectors, services
from scorecards.models import AreaScore, Scorecard
from scorecards.services import recomputation
from tests.factories import UserFactory

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
on_postgresql = pytest.mark.skipif(
    not settings.DATABASE_URL.startswith(("postgres", "pgsql")),
    reason="reads on several connections happen on PostgreSQL only (SQLite reads serially)",
)


def _book() -> list[int]:
    """A small demo book with a live override and a CTA floor, so every read has rows."""
    build_demo_book(accounts=40, months=8, seed=4)
    ids = selectors.active_account_ids()
    vp = UserFactory(username="vp-override", role=Role.VP_CS)
    services.override_set(
        account=Account.objects.get(pk=ids[0]),
        area="habits",
        color="red",
        reason="Board told us",
        expires_at=NOW + dt.timedelta(days=5),
        by=vp,
    )
    services.cta_pressure_set(
        account_id=ids[1],
        area="support",
        color="red",
        reasons=[{"id": 1, "sentence": "Flagged"}],
    )
    return ids


def _written() -> tuple[list, list]:
    areas = sorted(
        AreaScore.objects.values_list(
            "account_id", "area", "color", "score", "computed_color", "digest", "reasons"
        )
    )
    cards = sorted(
        Scorecard.objects.values_list(
            "account_id", "color", "score", "weighted_score", "reason", "worst_area"
        )
    )
    return areas, cards


def _backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_it_reads_on_one_connection_inside_a_transaction(db):
    # A test runs inside a transaction, as does any caller that wrote first: other
    # connections would not see those writes.
    assert transaction.get_connection().in_atomic_block
    assert not selectors.concurrent_reads_wanted(1_000_000)


def test_it_reads_on_one_connection_for_few_accounts_or_when_turned_off(settings, monkeypatch):
    monkeypatch.setattr(csrisk_db, "reads_may_run_concurrently", lambda: True)
    monkeypatch.setattr(selectors, "reads_may_run_concurrently", lambda: True)
    settings.SCORECARD_CONCURRENT_READS_MIN = 1000
    assert not selectors.concurrent_reads_wanted(999)
    assert selectors.concurrent_reads_wanted(1000)
    settings.SCORECARD_CONCURRENT_READS_MIN = 0
    assert not selectors.concurrent_reads_wanted(1_000_000)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_it_reads_on_several_connections_what_one_connection_reads():
    with clock.frozen(NOW):
        ids = _book()
        thresholds = selectors.thresholds()
        services.recompute(ids)  # stored scorecards to read
        one, (cards, floors, live) = selectors.load_frames_and_state(ids, NOW, thresholds)
        reads = selectors.recompute_reads(ids, NOW, thresholds)
        results = dict(
            csrisk_db.concurrent_reads(reads, workers=3, session_sql=selectors.READ_SETTINGS)
        )
        many = selectors.frames_from(ids, NOW, results)
        cards2, floors2, live2 = selectors.state_from(results)
    for name in ("tickets", "usage", "sentiment", "contacts", "people"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(many, name), obj=name)
    for name in ("competitors", "milestones", "readiness"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(many, name), obj=name)
    assert not one.tickets.empty and not one.sentiment.empty
    assert (cards, floors, live) == (cards2, floors2, live2)
    assert len(cards) == len(ids) and len(floors) == 1 and len(live) == 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_full_recompute_on_several_connections_writes_what_one_connection_writes(
    settings, monkeypatch
):
    calls = []
    real = recomputation.concurrent_reads

    def spy(*args, **kwargs):
        calls.append(len(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(recomputation, "concurrent_reads", spy)
    with clock.frozen(NOW):
        _book()
        settings.SCORECARD_CONCURRENT_READS_MIN = 1
        services.recompute()
        assert calls, "the recompute read on one connection"
        concurrent = _written()
        AreaScore.objects.all().delete()
        Scorecard.objects.all().delete()
        settings.SCORECARD_CONCURRENT_READS_MIN = 0
        services.recompute()
        assert len(calls) == 1
    assert _written() == concurrent
    assert {c[1] for c in concurrent[1]} >= {"green", "red"}


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_failed_read_raises_in_the_caller_and_every_connection_is_closed():
    before = _backends()

    def broken() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")

    def fine() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 41 + 1")
            return cursor.fetchone()[0]

    reads = [("fine", fine), ("broken", broken), ("fine too", fine)]
    with pytest.raises(Exception, match="division by zero"):
        list(csrisk_db.concurrent_reads(reads, workers=3))
    assert dict(csrisk_db.concurrent_reads([("a", fine), ("b", fine)], workers=2)) == {
        "a": 42,
        "b": 42,
    }
    # a closed connection's server process leaves pg_stat_activity a moment later
    deadline = time.monotonic() + 5
    while _backends() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _backends() == before


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_reads_run_without_jit_or_parallel_workers_on_every_connection():
    """Both paths of a recompute's reads take ``READ_SETTINGS``: a chunk's reads on several
    connections (and several worker processes) already fill the cores, so a parallel plan
    only adds its own cost."""
    shown = "SELECT current_setting('jit'), current_setting('max_parallel_workers_per_gather')"

    def settings_here() -> tuple:
        with connection.cursor() as cursor:
            cursor.execute(shown)
            return cursor.fetchone()

    results = dict(
        csrisk_db.concurrent_reads(
            [("a", settings_here), ("b", settings_here)],
            workers=2,
            session_sql=selectors.READ_SETTINGS,
        )
    )
    assert results == {"a": ("off", "0"), "b": ("off", "0")}
    with selectors._without_jit():
        assert settings_here() == ("off", "0")
    assert settings_here() != ("off", "0")  # local to the reads' transaction
