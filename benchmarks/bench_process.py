"""Signal processing end to end, from outside (PostgreSQL only).

Real services: gunicorn with 2 workers, ONE Celery worker process (``--pool=solo``, every
queue), Redis (``REDIS_URL`` when set — a scratch database, it is flushed — else a
redis-server this script starts) and the PostgreSQL database ``DATABASE_URL`` names (flushed).
The book: ``BENCH_PROCESS_ACCOUNTS`` (2,000) accounts with an owner and ten past tickets
each, analysed (planner statistics, as autovacuum keeps them) and recomputed once, so they
start in the steady state.

- ``process_end_to_end`` (signals/s): ``BENCH_PROCESS_SIGNALS`` (20,000) ticket signals
  ``POST``ed to ``/api/v1/signals/`` in batches of 500 by two clients; the clock stops when
  every one is processed (facts written, rules run) and every account they touched is
  recomputed (no ``PendingRecompute`` left). Baseline: a raw ``COPY`` of the same rows into
  ``signals_signal``, measured in the same run. Goal ratio >= 0.05. Also reported: seconds
  to accept, to process, to recompute, and the load average before and after.
- ``signal_to_colour_p95`` (s): a steady trickle of 100 signals/s (10 per request every
  0.1 s, open loop: four client threads keep the schedule whatever the answers take) for
  ``BENCH_TRICKLE_SECONDS`` (30) over the book; among them, every 0.5 s a third open urgent
  ticket for a fresh account, which turns it red (``support.urgent_open``, red at 3).
  Measured: the time from that request's 202 to the account's owner holding the "turned
  red" notification (written with the colour, in the same transaction). Baseline: the
  median of the same. Goal p95 <= 5 s.

``python benchmarks/bench_process.py`` prints ``BENCH-RESULT`` like the others (run.py);
on SQLite it prints why it measures nothing.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import (
    ROOT,
    emit,
    figure,
    free_port,
    raw_signal_copy,
    restore_configuration,
    setup_django,
    skip,
    timed,
    wait_port,
)

E2E_RATIO_GOAL = 0.05  # process_end_to_end / raw COPY
P95_GOAL_S = 5.0  # signal_to_colour_p95
SIGNALS = int(os.environ.get("BENCH_PROCESS_SIGNALS", 20_000))
ACCOUNTS = int(os.environ.get("BENCH_PROCESS_ACCOUNTS", 2_000))
HISTORY = 10  # past tickets an account
BATCH = 500
TRICKLE_SECONDS = float(os.environ.get("BENCH_TRICKLE_SECONDS", 30))
TRICKLE_RATE = 100  # signals per second
TRICKLE_BATCH = 10  # signals per request
PROBES_PER_SECOND = 2
SENDERS = 4  # trickle client threads
WORKER_LOG = os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING")  # INFO: each task's time
TIMEOUT = float(os.environ.get("BENCH_PROCESS_TIMEOUT", 1800))


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def tickets(n: int, now: dt.datetime, prefix: str) -> list[dict]:
    """Ticket signals spread over the book and the last 120 days."""
    prio = ["low", "normal", "normal", "high", "normal"]
    status = ["new", "open", "pending", "solved"]
    return [
        {
            "source": "bench",
            "external_id": f"{prefix}-{i}",
            "kind": "ticket",
            "account": {"external_id": f"BA-{i % ACCOUNTS}"},
            "occurred_at": (now - dt.timedelta(days=i % 120, hours=i % 24)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "attributes": {
                "priority": prio[i % 5],
                "status": status[i % 4],
                "tags": ["api", "latency"] if i % 3 else ["billing"],
                "subject": f"Ticket number {i}",
            },
        }
        for i in range(n)
    ]


class Client:
    """One keep-alive connection posting batches with the integration token."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        self.token = token

    def post(self, batch: list[dict], key: str) -> int:
        self.conn.request(
            "POST",
            "/api/v1/signals/",
            body=json.dumps(batch).encode(),
            headers={
                "Authorization": f"Token {self.token}",
                "Content-Type": "application/json",
                "Idempotency-Key": key,
            },
        )
        response = self.conn.getresponse()
        data = json.loads(response.read())
        assert response.status == 202, (response.status, str(data)[:300])
        return data["accepted"]


def main() -> None:
    vendor = setup_django()
    if vendor != "postgresql":
        skip(
            "process_end_to_end, signal_to_colour_p95",
            "PostgreSQL only: a real worker, gunicorn and the COPY baseline are the point; "
            "set DATABASE_URL to a scratch PostgreSQL database",
        )
        emit([])
        return
    restore_configuration()
    from django.db import connection

    from accounts.models import Account, Ticket
    from csrisk import clock, tokens
    from csrisk.db import analyze, insert_rows
    from csrisk.models import Notification, User
    from csrisk.roles import Role
    from scorecards.models import PendingRecompute
    from scorecards.services import recompute
    from signals.choices import SignalStatus
    from signals.models import Signal

    owner = User.objects.create(username="bench-csm", role=Role.CSM)
    probes_needed = int(TRICKLE_SECONDS * PROBES_PER_SECOND) + 10
    Account.objects.bulk_create(
        [Account(name=f"Bench {i}", crm_id=f"BA-{i}", owner=owner) for i in range(ACCOUNTS)]
        + [Account(name=f"Probe {i}", crm_id=f"PR-{i}", owner=owner) for i in range(probes_needed)]
    )
    ids = dict(Account.objects.values_list("crm_id", "pk"))
    # A live book has history: HISTORY tickets an account over the last year.
    history_at = clock.now()
    insert_rows(
        Ticket,
        ("account_id", "source", "external_id", "kind", "subject", "priority", "status", "tags",
         "requester_group", "opened_at", "solved_at"),
        (
            (pk, "history", f"H-{pk}-{j}", "support", "Old", "normal", "solved", ["api"], "",
             history_at - dt.timedelta(days=3 + 36 * j), history_at - dt.timedelta(days=2 + 36 * j))
            for pk in ids.values()
            for j in range(HISTORY)
        ),
    )  # fmt: skip
    # Planner statistics, as autovacuum keeps them on a live server (a server run with
    # autovacuum off plans the recompute's reads of never-analysed tables as nested loops).
    analyze()
    recompute()  # the steady state: every account has its scorecard
    now = clock.now()
    raws = tickets(SIGNALS, now, "E")

    # The baseline: raw COPY of the rows the storage path would write.
    copy = raw_signal_copy(raws, ids, now)

    def truncate() -> None:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE signals_signal, signals_signalversion")
            cursor.execute("VACUUM ANALYZE signals_signal")

    truncate()
    copy_s, _ = timed(copy)
    truncate()
    copy_rate = SIGNALS / copy_s

    user = User.objects.create(username="bench-integration", role=Role.INTEGRATION)
    token = tokens.token_create(user=user, by=None)[1]
    connection.close()

    tmp = Path(tempfile.mkdtemp(prefix="csrisk-process-"))
    procs: list[subprocess.Popen] = []
    log = open(tmp / "services.log", "w+")  # noqa: SIM115
    try:
        redis_url = os.environ.get("REDIS_URL", "")
        if redis_url:
            import redis

            redis.Redis.from_url(redis_url).flushdb()
        else:
            if shutil.which("redis-server") is None:
                raise RuntimeError("redis-server or REDIS_URL is needed")
            port = free_port()
            procs.append(
                subprocess.Popen(
                    ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--dir", str(tmp)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
            )  # fmt: skip
            wait_port(port)
            redis_url = f"redis://127.0.0.1:{port}/0"
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "PYTHONPATH": path,
            "CSRISK_SIGNALS_RATE": "100000/minute",
            "DEBUG": "1",
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "csrisk", "worker", "--pool=solo",
                 "-Q", "ingest,recompute,notify,default", f"--loglevel={WORKER_LOG}",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        )  # fmt: skip
        web_port = free_port()
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "csrisk.wsgi:application", "--workers", "2",
                 "--bind", f"127.0.0.1:{web_port}", "--timeout", "120", "--log-level", "warning"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        )  # fmt: skip
        wait_port(web_port)
        clients = [Client(web_port, token) for _ in range(2)]
        for k, c in enumerate(clients):  # warm both gunicorn workers
            c.post([{**raws[0], "external_id": f"warm-{k}"}], f"warm-{k}")
        time.sleep(2)

        # --- process_end_to_end -------------------------------------------------------
        load_before = loadavg()
        accepted: list[int] = []
        batches = [raws[lo : lo + BATCH] for lo in range(0, SIGNALS, BATCH)]

        def send(k: int) -> None:
            for n in range(k, len(batches), 2):
                accepted.append(clients[k].post(batches[n], f"e2e-{n}"))

        start = time.perf_counter()
        threads = [threading.Thread(target=send, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        accepted_s = time.perf_counter() - start
        assert sum(accepted) == SIGNALS, sum(accepted)
        processed_s = recomputed_s = None
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            pending = Signal.objects.filter(status=SignalStatus.PENDING).count()
            if pending == 0 and processed_s is None:
                processed_s = time.perf_counter() - start
            if processed_s is not None and not PendingRecompute.objects.exists():
                recomputed_s = time.perf_counter() - start
                break
            connection.close()
            time.sleep(0.2)
        if recomputed_s is None:
            raise RuntimeError(f"not all processed and recomputed after {TIMEOUT} s")
        processed = Signal.objects.filter(status=SignalStatus.PROCESSED).count()
        failed = Signal.objects.filter(status=SignalStatus.FAILED).count()
        assert processed == SIGNALS + 2, (processed, failed)
        e2e_rate = SIGNALS / recomputed_s
        load_after = loadavg()
        print(
            f"process_end_to_end: {SIGNALS} signals accepted in {accepted_s:.1f} s, processed "
            f"in {processed_s:.1f} s, recomputed in {recomputed_s:.1f} s: {e2e_rate:.0f}/s; "
            f"raw COPY {copy_rate:.0f} rows/s; load {load_before} -> {load_after}",
            flush=True,
        )

        # --- signal_to_colour_p95 ------------------------------------------------------
        probe_at: dict[int, float] = {}  # account id -> when its red-turning request got 202
        seen_at: dict[int, float] = {}
        stop = threading.Event()
        trickle_now = clock.now()
        fill = tickets(int(TRICKLE_SECONDS * TRICKLE_RATE) + TRICKLE_RATE, trickle_now, "T")
        # Two urgent open tickets per probe account first: each is yellow, not yet red.
        primers = [
            {
                "source": "bench",
                "external_id": f"U-{p}-{j}",
                "kind": "ticket",
                "account": {"external_id": f"PR-{p}"},
                "occurred_at": (trickle_now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "attributes": {"priority": "urgent", "status": "open", "subject": "Down"},
            }
            for p in range(probes_needed)
            for j in range(3)
        ]
        first_two = [s for s in primers if not s["external_id"].endswith("-2")]
        for lo in range(0, len(first_two), BATCH):
            clients[0].post(first_two[lo : lo + BATCH], f"primer-{lo}")
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and (
            Signal.objects.filter(status=SignalStatus.PENDING).exists()
            or PendingRecompute.objects.exists()
        ):
            connection.close()
            time.sleep(0.2)
        third = [s for s in primers if s["external_id"].endswith("-2")]
        red_before = set(
            Notification.objects.filter(kind="scorecard_red").values_list("dedupe_key", flat=True)
        )
        connection.close()

        def watch() -> None:
            from django.db import connection as conn

            last = 0
            while not stop.is_set():
                for pk, key in Notification.objects.filter(
                    kind="scorecard_red", pk__gt=last
                ).values_list("pk", "dedupe_key"):
                    last = max(last, pk)
                    if key in red_before:
                        continue
                    account_id = int(key.split(":")[1])
                    seen_at.setdefault(account_id, time.perf_counter())
                conn.close()
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        trickle_load = loadavg()
        requests = int(TRICKLE_SECONDS * TRICKLE_RATE / TRICKLE_BATCH)
        every = TRICKLE_BATCH / TRICKLE_RATE
        per_probe = int(TRICKLE_RATE / TRICKLE_BATCH / PROBES_PER_SECOND)
        # Open loop: request r is due at t0 + r * every whatever the answers take, sent by
        # one of SENDERS threads (each its own connection), so a slow answer does not lower
        # the rate.
        senders = [Client(web_port, token) for _ in range(SENDERS)]
        late: list[int] = []
        t0 = time.perf_counter()

        def trickle(k: int) -> None:
            for r in range(k, requests, SENDERS):
                wait = t0 + r * every - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                else:
                    late.append(r)
                batch = fill[r * TRICKLE_BATCH : (r + 1) * TRICKLE_BATCH]
                probe = r // per_probe if r % per_probe == 0 else None
                if probe is not None:
                    batch = [*batch[:-1], third[probe]]
                senders[k].post(batch, f"trickle-{r}")
                if probe is not None:
                    probe_at[ids[f"PR-{probe}"]] = time.perf_counter()

        pool = [threading.Thread(target=trickle, args=(k,)) for k in range(SENDERS)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        sent_s = time.perf_counter() - t0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not probe_at.keys() <= seen_at.keys():
            time.sleep(0.2)
        stop.set()
        watcher.join()
        latencies = sorted(seen_at[a] - t for a, t in probe_at.items() if a in seen_at)
        missing = len(probe_at) - len(latencies)
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else 0
        median = statistics.median(latencies) if latencies else 0
        print(
            f"signal_to_colour: {len(probe_at)} probes over {sent_s:.1f} s "
            f"({requests * TRICKLE_BATCH / sent_s:.0f} signals/s, {len(late)} requests late), "
            f"p95 {p95:.2f} s, median {median:.2f} s, max {latencies[-1] if latencies else 0:.2f}"
            f" s, {missing} never turned red; load {trickle_load} -> {loadavg()}",
            flush=True,
        )
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        log.seek(0)
        tail = log.read()[-3000:]
        if tail.strip():
            print(f"services log ({log.name}), its tail:\n" + tail)

    emit(
        [
            figure(
                "process_end_to_end",
                e2e_rate,
                "rows/s",
                "raw COPY of the same normalised rows into signals_signal",
                copy_rate,
                goal=f">= {E2E_RATIO_GOAL}",
                met=e2e_rate / copy_rate >= E2E_RATIO_GOAL,
                database=vendor,
                signals=SIGNALS,
                accounts=ACCOUNTS,
                batch=BATCH,
                accepted_s=round(accepted_s, 2),
                processed_s=round(processed_s, 2),
                recomputed_s=round(recomputed_s, 2),
                worker_processes=1,
                gunicorn_workers=2,
                loadavg=[load_before, load_after],
            ),
            figure(
                "signal_to_colour_p95",
                p95,
                "s",
                "median of the same latencies",
                median,
                goal=f"<= {P95_GOAL_S:g} s",
                met=bool(latencies) and p95 <= P95_GOAL_S and missing == 0,
                ratio=p95 / median if median else 0,
                probes=len(probe_at),
                never_red=missing,
                trickle_signals_per_s=TRICKLE_RATE,
                trickle_s=round(sent_s, 1),
                max_s=round(latencies[-1], 2) if latencies else None,
                loadavg=trickle_load,
            ),
        ]
    )


if __name__ == "__main__":
    main()
