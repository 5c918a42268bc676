"""Durability under failure, on PostgreSQL + Redis + a real Celery worker.

10,000 signals arrive over HTTP (in batches of 500) while the worker is killed with
SIGKILL mid-way and its Redis is killed and restarted empty (every queued message lost).
The API keeps accepting while Redis is down; the sweeper (what beat runs every 30 s)
finds what was left. At the end every accepted signal was processed exactly once in
effect: one signal row and one ticket per (source, external_id), all processed, none
missing, none doubled.

The test starts its OWN redis-server on a free port and its own worker, so it may kill
both; it never touches the shared Redis. Skipped (with the reason) without DATABASE_URL
(PostgreSQL) and REDIS_URL.
"""

from __future__ import annotations

import json
import shutil
import time

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import Ticket
from csrisk.celery import app as celery_app
from signals.models import Signal, SignalRule
from signals.tasks import sweep_signals_task
from tests.conftest import api
from tests.factories import AccountFactory
from tests.processes import Services, reset_producer, use_broker

TOTAL = 10_000
BATCH = 500
ACCOUNTS = 20

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        not (settings.REDIS_URL and settings.DATABASE_URL.startswith(("postgres", "pgsql"))),
        reason="needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL); .ci/run provides both",
    ),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


def _test_database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db.get('USER') or 'postgres'}{password}@{db.get('HOST') or '127.0.0.1'}:"
        f"{db.get('PORT') or 5432}/{db['NAME']}"
    )


def _processed() -> int:
    return Signal.objects.filter(status="processed").count()


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return predicate()


@pytest.mark.django_db(transaction=True)
def test_it_processes_every_accepted_signal_exactly_once_through_crashes(org, tmp_path):
    SignalRule.objects.update(active=False)  # CTAs are not what this test is about
    accounts = [AccountFactory(owner=org.csm_a, crm_id=f"CH-{i}") for i in range(ACCOUNTS)]
    svc = Services(tmp_path, _test_database_url())
    previous = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    client = api(org.integration, token=True)
    accepted: set[str] = set()
    sent_while_down = 0
    at_kill = 0

    def send(start: int, stop: int) -> None:
        for lo in range(start, stop, BATCH):
            batch = [
                {
                    "source": "chaos",
                    "external_id": f"C-{i}",
                    "kind": "ticket",
                    "account": {"external_id": accounts[i % ACCOUNTS].crm_id},
                    "occurred_at": "2026-10-01T09:30:00Z",
                    "attributes": {"priority": "normal", "status": "open"},
                }
                for i in range(lo, min(lo + BATCH, stop))
            ]
            response = client.post(
                "/api/v1/signals/", data=json.dumps(batch), content_type="application/json"
            )
            assert response.status_code == 202, response.content[:500]
            for r in response.json()["results"]:
                assert r["status"] in ("accepted", "duplicate"), r
                accepted.add(r["external_id"])

    try:
        svc.start_redis()
        use_broker(svc.url)
        svc.start_worker()
        send(0, 4000)
        assert _wait(lambda: _processed() >= 500, 60), "the worker processed nothing"

        # Crash: the worker dies mid-work, Redis dies and comes back empty.
        svc.kill(svc.worker)
        at_kill = _processed()
        svc.kill(svc.redis)
        down_from = len(accepted)
        send(4000, 6000)  # the API keeps accepting while the broker is down
        sent_while_down = len(accepted) - down_from
        svc.start_redis()
        svc.start_worker()
        send(6000, TOTAL)
        send(0, 1000)  # a sender retrying after the outage: duplicates, stored once

        # Beat's sweeper, every few seconds instead of every 30 s.
        def swept() -> bool:
            sweep_signals_task.apply_async()
            return _processed() == TOTAL

        done = _wait(swept, 120)
        svc.log.seek(0)
        assert done, (
            f"{_processed()} of {TOTAL} processed; worker log tail:\n{svc.log.read()[-3000:]}"
        )
    finally:
        svc.stop()
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = previous
        reset_producer()

    assert sent_while_down == 2000
    assert len(accepted) == TOTAL
    assert Signal.objects.filter(source="chaos").count() == TOTAL
    assert Signal.objects.exclude(status="processed").count() == 0
    tickets = list(Ticket.objects.filter(source="chaos").values_list("external_id", flat=True))
    assert len(tickets) == TOTAL == len(set(tickets))  # nothing doubled
    assert set(tickets) == accepted  # nothing missing
    print(
        f"\nchaos: worker killed with {at_kill} of 4000 processed; "
        f"{TOTAL} accepted ({sent_while_down} while Redis was down, 1000 resent), "
        f"{_processed()} processed, {len(tickets)} tickets, 0 missing, 0 doubled"
    )
