"""A real Celery worker, on Redis and PostgreSQL, runs a queued task and changes the database.

Needs DATABASE_URL (PostgreSQL) and REDIS_URL; `.ci/run` sets both. Without them the test
is skipped and says why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts import services
from accounts.models import Account, ImportJob
from csrisk.celery import app as celery_app
from tests.processes import wait_for

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        not (settings.REDIS_URL and settings.DATABASE_URL.startswith(("postgres", "pgsql"))),
        reason="needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL); .ci/run provides both",
    ),
]


def _test_database_url() -> str:
    db = connection.settings_dict  # during the test this names the test database
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def _reroute() -> None:
    """Celery builds its router once from task_routes: build it again (each test's worker
    has a queue of its own)."""
    celery_app.amqp.flush_routes()
    celery_app.amqp.__dict__.pop("router", None)


@pytest.fixture
def worker_queue(tmp_path):
    """Start a worker on a queue of its own; route the import task there; stop it after."""
    queue = f"test-{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "REDIS_URL": settings.REDIS_URL}
    log = open(tmp_path / "worker.log", "w+")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "csrisk",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    routes = celery_app.conf.task_routes
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_routes = {"accounts.tasks.run_import_task": {"queue": queue}}
    _reroute()
    try:
        yield proc, log
    finally:
        celery_app.conf.task_routes = routes
        _reroute()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.django_db(transaction=True)
def test_it_imports_a_file_on_a_real_worker(org, worker_queue):
    proc, log = worker_queue
    rows = "".join(f"Worker Co {i},{1000 + i},W-{i}\n" for i in range(200))
    job = services.import_job_create(
        by=org.vp, filename="worker.csv", content=f"name,arr,crm_id\n{rows}".encode()
    )
    services.import_job_commit(job=job, by=org.vp)  # autocommit: on_commit fires at once

    finished = wait_for(
        lambda: ImportJob.objects.get(pk=job.pk).status not in ("queued", "running")
    )
    log.seek(0)
    worker_output = log.read()
    assert proc.poll() is None, f"the worker died:\n{worker_output}"
    assert finished, f"the worker did not finish the import in time:\n{worker_output}"
    job.refresh_from_db()
    assert job.status == "done", job.message
    assert Account.objects.filter(crm_id__startswith="W-").count() == 200
    assert "run_import_task" in worker_output


@pytest.mark.django_db(transaction=True)
def test_the_worker_logs_the_task_with_the_request_id_that_queued_it(org, worker_queue):
    """The id of the request that queued a task travels in the message (csrisk.logs) and the
    worker binds it into the task's log lines."""
    from csrisk import logs

    proc, log = worker_queue
    job = services.import_job_create(
        by=org.vp, filename="ids.csv", content=b"name,arr,crm_id\nTraced Co,1000,T-1\n"
    )
    tokens = logs.bind(request_id="worker-req-1")
    try:
        services.import_job_commit(job=job, by=org.vp)
    finally:
        logs.unbind(tokens)

    def logged() -> bool:
        log.seek(0)
        return any("succeeded" in line for line in log.read().splitlines())

    done = wait_for(logged)
    log.seek(0)
    output = log.read()
    assert done and proc.poll() is None, output
    line = next(
        line for line in output.splitlines() if "run_import_task" in line and "succeeded" in line
    )
    assert "request_id=worker-req-1" in line, output
