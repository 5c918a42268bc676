"""Signal ingestion rows/s, the same signals three ways (PostgreSQL only).

- (a) baseline: raw ``COPY`` of the already-normalised rows into ``signals_signal`` — the
  limit of the table (its indexes included).
- (b) ``ingest_storage_path``: csrisk's storage path, ``signals_store`` in batches of 5,000
  in one transaction each — validation, account resolution, content digests, de-duplication
  (a probe of the stored keys, then ``COPY``; ``INSERT … ON CONFLICT`` when a concurrent
  sender collides). Goal b/a >= 0.6.
- (c) ``ingest_http_batch``: ``POST /api/v1/signals/`` with 5,000 signals per request to
  gunicorn (2 workers) with token auth, throttling, idempotency keys and a broker publish
  per 500 stored signals (to a redis-server this script starts). Two client threads.
  Goal c/a >= 0.25.

Each way starts from an empty signal table. (a) and (b) run in turns, ``BENCH_SIGNAL_REPEATS``
times each (default 3), and the figures are their medians: a single COPY of 100,000 rows
takes a second or two and moves with whatever else the machine does; taking turns exposes
both to the same conditions. (c) runs once. Processing (signals → facts) is not timed: it
runs later on the ingest workers. ``BENCH_SIGNAL_ROWS`` sets the size (default 100,000).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
from pathlib import Path

from _common import (
    ROOT,
    emit,
    figure,
    free_port,
    raw_signal_copy,
    setup_django,
    skip,
    timed,
    wait_port,
)

ROWS = int(os.environ.get("BENCH_SIGNAL_ROWS", 100_000))
ACCOUNTS = 1000
BATCH = 5000
REPEATS = max(1, int(os.environ.get("BENCH_SIGNAL_REPEATS", 3)))


def signals() -> list[dict]:
    prio = ["low", "normal", "normal", "high", "urgent"]
    status = ["new", "open", "pending", "solved"]
    return [
        {
            "source": "bench",
            "external_id": f"B-{i}",
            "kind": "ticket",
            "account": {"external_id": f"BA-{i % ACCOUNTS}"},
            "occurred_at": f"2026-{1 + i % 10:02d}-{1 + i % 28:02d}T{i % 24:02d}:15:00Z",
            "attributes": {
                "priority": prio[i % 5],
                "status": status[i % 4],
                "tags": ["api", "latency"] if i % 3 else ["billing"],
                "subject": f"Ticket number {i}",
            },
        }
        for i in range(ROWS)
    ]


def main() -> None:
    vendor = setup_django()
    if vendor != "postgresql":
        skip(
            "ingest_storage_path, ingest_http_batch",
            "PostgreSQL only: the storage path and its baseline are COPY and "
            "ON CONFLICT … RETURNING; "
            "set DATABASE_URL to a scratch PostgreSQL database",
        )
        emit([])
        return
    from django.db import connection, transaction

    from accounts.models import Account
    from csrisk import clock, tokens
    from csrisk.models import User
    from csrisk.roles import Role
    from signals import services
    from signals.models import Signal

    Account.objects.bulk_create(
        [Account(name=f"Bench {i}", crm_id=f"BA-{i}") for i in range(ACCOUNTS)]
    )
    ids = dict(Account.objects.values_list("crm_id", "pk"))
    raws = signals()

    def truncate() -> None:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE signals_signal, signals_signalversion")
            cursor.execute("VACUUM ANALYZE signals_signal")

    # (a) raw COPY of the rows the storage path would write, sender columns included
    now = clock.now()
    copy = raw_signal_copy(raws, ids, now)

    # (b) the storage path
    def store() -> int:
        n = 0
        for lo in range(0, ROWS, BATCH):
            with transaction.atomic():
                out = services.signals_store(raws[lo : lo + BATCH], publish=False)
            n += sum(o.status == "accepted" for o in out)
        return n

    copy_runs: list[float] = []
    store_runs: list[float] = []
    for _ in range(REPEATS):  # (a) and (b) in turns: the same conditions for both
        truncate()
        copy_s, _ = timed(copy)
        assert Signal.objects.count() == ROWS
        copy_runs.append(copy_s)
        truncate()
        store_s, accepted = timed(store)
        assert accepted == ROWS, accepted
        store_runs.append(store_s)
    copy_rate = ROWS / statistics.median(copy_runs)
    store_rate = ROWS / statistics.median(store_runs)
    dup_s, _ = timed(store)  # the same again: every one a duplicate
    dup_rate = ROWS / dup_s

    # (c) HTTP under gunicorn, token auth, idempotency keys
    truncate()
    user = User.objects.create(username="bench-integration", role=Role.INTEGRATION)
    token = tokens.token_create(user=user, by=None)[1]
    connection.close()
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    redis_port, web_port = free_port(), free_port()
    procs = []
    http_rate = 0.0
    try:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is needed for the HTTP figure")
        procs.append(
            subprocess.Popen(
                ["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no",
                 "--dir", str(tmp)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
        wait_port(redis_port)
        env = {
            **os.environ,
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "CSRISK_SIGNALS_RATE": "100000/minute",
            "DEBUG": "1",
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "csrisk.wsgi:application", "--workers", "2",
                 "--bind", f"127.0.0.1:{web_port}", "--timeout", "120"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
        wait_port(web_port)
        bodies = [json.dumps(raws[lo : lo + BATCH]).encode() for lo in range(0, ROWS, BATCH)]
        results: list[int] = []

        def client(mine: list[tuple[int, bytes]]) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", web_port, timeout=300)
            for n, body in mine:
                conn.request(
                    "POST",
                    "/api/v1/signals/",
                    body=body,
                    headers={
                        "Authorization": f"Token {token}",
                        "Content-Type": "application/json",
                        "Idempotency-Key": f"bench-{n}",
                    },
                )
                response = conn.getresponse()
                data = json.loads(response.read())
                assert response.status == 202, (response.status, str(data)[:300])
                results.append(data["accepted"])

        # warm up both workers (imports, connections) with a tiny request each
        warm = [(-1, json.dumps([{**raws[0], "external_id": "warm-1"}]).encode())]
        client(warm)
        client([(-2, json.dumps([{**raws[0], "external_id": "warm-2"}]).encode())])
        results.clear()
        jobs = list(enumerate(bodies))
        threads = [threading.Thread(target=client, args=(jobs[k::2],)) for k in range(2)]

        def run() -> None:
            for t in threads:
                t.start()
            for t in threads:
                t.join()

        http_s, _ = timed(run)
        assert sum(results) == ROWS, sum(results)
        http_rate = ROWS / http_s
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()

    baseline = "raw COPY of the same normalised rows into signals_signal"
    emit(
        [
            figure(
                "ingest_storage_path",
                store_rate,
                "rows/s",
                baseline,
                copy_rate,
                goal=">= 0.6",
                met=store_rate / copy_rate >= 0.6,
                database=vendor,
                rows=ROWS,
                duplicate_resend_rows_per_s=round(dup_rate),
                repeats=REPEATS,
                runs_s={
                    "copy": [round(t, 3) for t in copy_runs],
                    "store": [round(t, 3) for t in store_runs],
                },
            ),
            figure(
                "ingest_http_batch",
                http_rate,
                "rows/s",
                baseline,
                copy_rate,
                goal=">= 0.25",
                met=http_rate / copy_rate >= 0.25,
                database=vendor,
                rows=ROWS,
                batch=BATCH,
                gunicorn_workers=2,
            ),
        ]
    )


if __name__ == "__main__":
    main()
