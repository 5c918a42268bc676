"""A short run of the load script (benchmarks/load.py): zero errors, no lost signals.

The script runs as a subprocess (locust monkey-patches with gevent at import; it must
never be imported here) against a scratch database of its own beside the test database,
which it seeds with the demo book; it starts its own redis-server, Celery worker and
gunicorn. Nothing about speed is asserted: the figures are printed, not judged.

Needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) like the other real-worker tests,
and redis-server; otherwise it is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
SECONDS = 15

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        not (settings.REDIS_URL and settings.DATABASE_URL.startswith(("postgres", "pgsql"))),
        reason="needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL); .ci/run provides both",
    ),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


def _server() -> dict[str, str]:
    db = settings.DATABASES["default"]
    return {
        "host": db.get("HOST") or "127.0.0.1",
        "port": str(db.get("PORT") or 5432),
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or "",
    }


def _admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(dbname="postgres", **_server())
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


@pytest.fixture
def scratch_database_url() -> Iterator[str]:
    """A database beside the test database (the script flushes and seeds it)."""
    db = settings.DATABASES["default"]
    name = f"{(db.get('TEST') or {}).get('NAME') or 'test_' + db['NAME']}_load"
    _admin(f'DROP DATABASE IF EXISTS "{name}"')
    _admin(f'CREATE DATABASE "{name}"')
    server = _server()
    password = f":{server['password']}" if server["password"] else ""
    try:
        yield f"postgres://{server['user']}{password}@{server['host']}:{server['port']}/{name}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_it_serves_the_load_with_no_error_and_loses_no_signal(scratch_database_url, tmp_path):
    result = tmp_path / "load.json"
    env = {
        **os.environ,
        "DATABASE_URL": scratch_database_url,
        "LOAD_SECONDS": str(SECONDS),
        "LOAD_ACCOUNTS": "100",  # a smaller demo book seeds faster; the run is what counts
        "LOAD_RESULT": str(result),
    }
    run = subprocess.run(
        [sys.executable, "benchmarks/load.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(run.stdout[-2500:])
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    figures = json.loads(result.read_text())
    assert figures["ok"] is True
    assert figures["endpoints"]["total"]["errors"] == 0
    for endpoint in ("/cockpit/", "/accounts/", "/api/v1/signals/ (100 signals)"):
        assert figures["endpoints"][endpoint]["requests"] > 0, endpoint
    signals = figures["signals"]
    assert signals["accepted"] > 0
    assert signals["lost"] == signals["doubled"] == signals["unprocessed"] == 0
    assert signals["stored"] == signals["processed"] == signals["accepted"]
