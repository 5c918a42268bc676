"""Two real Celery worker processes share the chunks of one full recompute.

Needs DATABASE_URL (PostgreSQL) and REDIS_URL, like tests/test_worker.py; skipped (with
the reason) otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from django.conf import settings
from django.db import connection

from csrisk.celery import app as celery_app
from scorecards import services
from scorecards.models import AreaScore, RecomputeRun, Scorecard
from tests.factories import AccountFactory
from tests.processes import reset_producer, stop, wait_for

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        not (settings.REDIS_URL and settings.DATABASE_URL.startswith(("postgres", "pgsql"))),
        reason="needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL); .ci/run provides both",
    ),
]

WORKER = [
    *(sys.executable, "-m", "celery", "-A", "csrisk", "worker", "--pool=solo", "--loglevel=INFO"),
    *("--without-gossip", "--without-mingle", "--without-heartbeat"),
]


def _test_database_url() -> str:
    db = connection.settings_dict  # during the test this names the test database
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db.get('USER') or 'postgres'}{password}@{db.get('HOST') or '127.0.0.1'}"
        f":{db.get('PORT') or 5432}/{db['NAME']}"
    )


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[list[IO[str]]]:
    """Two worker processes on a queue of their own; the chunk task is routed there."""
    queue = f"test-{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "REDIS_URL": settings.REDIS_URL}
    logs = [open(tmp_path / f"worker{i}.log", "w+") for i in range(2)]  # noqa: SIM115
    procs = [
        subprocess.Popen(
            [*WORKER, "-n", f"w{i}-{queue}@%h", "-Q", queue],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for i, log in enumerate(logs)
    ]
    routes = celery_app.conf.task_routes
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_routes = {"scorecards.tasks.recompute_chunk_task": {"queue": queue}}
    reset_producer()
    try:
        # Both consume before anything is queued, so neither takes every chunk alone.
        assert wait_for(lambda: all("ready" in _read(log) for log in logs), 60), [
            _read(log)[-2000:] for log in logs
        ]
        yield logs
    finally:
        celery_app.conf.task_routes = routes
        reset_producer()
        for proc in procs:
            stop(proc, timeout=20)
        for log in logs:
            log.close()


def _read(log: IO[str]) -> str:
    log.flush()
    log.seek(0)
    return log.read()


@pytest.mark.django_db(transaction=True)
def test_it_spreads_a_full_recompute_over_two_workers(org, two_workers) -> None:
    live = [AccountFactory(team=org.team_a, owner=org.csm_a).pk for _ in range(40)]
    run = services.recompute_run_start(size=2)  # autocommit: queued at once, 20 chunks

    finished = wait_for(
        lambda: RecomputeRun.objects.get(pk=run.pk).finished_at is not None, timeout=180
    )
    outputs = [_read(log) for log in two_workers]
    assert finished, "the run did not finish:\n" + "\n---\n".join(o[-3000:] for o in outputs)
    chunks = list(run.chunks.values_list("accounts", "attempts"))
    assert len(chunks) == 20 and all(c == (2, 1) for c in chunks), chunks
    assert Scorecard.objects.filter(account_id__in=live).count() == 40
    assert AreaScore.objects.filter(account_id__in=live).count() == 40 * 8
    done = [o.count("recompute_chunk_task") for o in outputs]
    assert all(n > 0 for n in done), f"one worker took every chunk: {done}"
