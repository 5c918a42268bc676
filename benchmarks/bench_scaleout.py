"""Scale out: a full recompute shared by 1 and by 2 worker processes, and a bigger book.

The book is the demo book (``accounts.demo.build_demo_book``, its inserts sent through
PostgreSQL's COPY here for speed) with its tickets topped up to ``BENCH_SCALE_TICKETS``
with older closed support tickets (generated inside PostgreSQL), then analysed and
scored twice in-process (the first compute writes every row; steady state follows).
Timed: the nightly job as it runs in production — ``recompute_all_task``'s run of chunks
(``scorecards.services.runs``) queued as one Celery group to a redis-server this script
starts, and taken by W worker processes (``celery worker --pool=solo``, queue
``recompute``), from the queueing to the run's last chunk marked done. Worker start-up is
not timed (each round waits for the workers to be ready). The worker counts run in turns,
``BENCH_SCALE_RUNS`` rounds; figures are medians, every run is in ``runs_s``.

Figures:
- ``recompute_workers_2_vs_1_{N}``: seconds with 2 workers; baseline: the same with 1
  worker, same book, same run. Goal: 2 workers at least 1.6x faster (ratio <= 0.625).
  Beside it, each run's ``busy_cores`` (the machine's CPU seconds over the run's seconds,
  from /proc/stat), the workers' own and the machine's CPU seconds, and
  ``speedup_bound``: the median busy cores of 2 workers over those of 1, the most a second
  worker can gain when PostgreSQL shares the cores with the workers.
- ``recompute_scale_{N}_vs_{B}``: seconds of the 2-worker recompute of the N-account book;
  baseline: the same on a B-account book (B = N / 10 unless ``BENCH_SCALE_BASE_ACCOUNTS``;
  0 skips it) built the same way with as many tickets per account, in the same run. Goal:
  ratio <= 1.2 x N / B (12 for ten times the book).
- ``recompute_worker_peak_rss_{N}``: the highest peak resident memory (``VmHWM``) of any
  worker process over the N-book runs, MB; baseline: a ready worker's before any task.
  Goal: <= 2048 MB.

Sizes: ``BENCH_SCALE_ACCOUNTS`` (10,000), ``BENCH_SCALE_TICKETS`` (200 a account),
``BENCH_SCALE_MONTHS`` (32), ``BENCH_SCALE_BASE_ACCOUNTS``, ``BENCH_SCALE_RUNS`` (3),
``BENCH_SCALE_CHUNK`` (``SCORECARD_RECOMPUTE_CHUNK``). PostgreSQL only.
``BENCH_SCALE_BASE_DATABASE_URL`` puts the smaller book in a database of its own, so that
``BENCH_SCALE_KEEP_BOOK=1`` keeps both books and a re-run measures without rebuilding.
The 100,000-account, 20,000,000-ticket run is opt-in (docs/scaling.md says how).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

from _common import (
    ROOT,
    emit,
    figure,
    free_port,
    restore_configuration,
    setup_django,
    timed,
    wait_port,
)

ACCOUNTS = int(os.environ.get("BENCH_SCALE_ACCOUNTS", 10_000))
TICKETS = int(os.environ.get("BENCH_SCALE_TICKETS", 200 * ACCOUNTS))
MONTHS = int(os.environ.get("BENCH_SCALE_MONTHS", 32))
BASE = int(os.environ.get("BENCH_SCALE_BASE_ACCOUNTS", ACCOUNTS // 10))
RUNS = int(os.environ.get("BENCH_SCALE_RUNS", 3))
CHUNK = os.environ.get("BENCH_SCALE_CHUNK", "")
# 1: measure again on the book a previous run left (same sizes) instead of building it.
KEEP_BOOK = os.environ.get("BENCH_SCALE_KEEP_BOOK") == "1"
# The smaller book in a database of its own, so that both books can be kept between runs
# (with BENCH_SCALE_KEEP_BOOK=1) and the scaling figure measured again without rebuilding.
BASE_DATABASE_URL = os.environ.get("BENCH_SCALE_BASE_DATABASE_URL", "")
WORKERS = (1, 2)
# One process each (solo pool), on the queue the nightly job's chunks go to.
WORKER = [
    *(sys.executable, "-m", "celery", "-A", "csrisk", "worker", "--pool=solo", "-Q", "recompute"),
    *("--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"),
]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- the book, through COPY ---------------------------------------------------------------


def _copy_value(value: Any) -> str:
    from csrisk.db import COPY_NULL, copy_text

    if value is None:
        return COPY_NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str):
        return copy_text(value)
    if isinstance(value, (list, dict)):
        return copy_text(json.dumps(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()  # naive datetimes are UTC: the session's time zone
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    return copy_text(str(value))


def copy_insert(model: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]], **_: Any) -> int:
    """``csrisk.db.insert_rows`` through COPY: the same rows, 3-5x faster for big books."""
    from django.db import connection

    from csrisk.db import CopySource, copy_rows

    fields = [model._meta.get_field(c) for c in columns]
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    count = 0

    def lines() -> Iterator[str]:
        nonlocal count
        for row in rows:
            count += 1
            yield "\t".join(map(_copy_value, row)) + "\n"

    with connection.cursor() as cursor:
        assert copy_rows(cursor, model._meta.db_table, names, CopySource(lines()))
    return count


@contextmanager
def copied_inserts() -> Iterator[None]:
    with (
        mock.patch("accounts.demo.insert_rows", copy_insert),
        mock.patch("accounts.demo_activity.insert_rows", copy_insert),
    ):
        yield


def build_book(accounts: int, tickets: int) -> dict[str, Any]:
    """The demo book of ``accounts`` with ``tickets`` tickets in all; scored twice."""
    from django.core.management import call_command
    from django.db import connection

    from accounts.demo import build_demo_book
    from accounts.models import Account, Ticket
    from csrisk import clock
    from csrisk.notifications import quiet
    from scorecards import services

    started = time.perf_counter()
    kept = KEEP_BOOK and Account.objects.count() == accounts and Ticket.objects.count() >= tickets
    if not kept:
        call_command("flush", "--noinput", verbosity=0)
        restore_configuration()
        with quiet(), copied_inserts():
            build_demo_book(accounts=accounts, months=MONTHS, seed=11)
    demo_tickets = Ticket.objects.count()
    extra = max(0, tickets - demo_tickets)
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM accounts_account")
        low, high = cursor.fetchone()
        # Older closed tickets over the history, spread evenly over the accounts.
        cursor.execute(
            """
            INSERT INTO accounts_ticket (account_id, source, external_id, kind, subject,
                priority, status, tags, requester_group, opened_at, solved_at)
            SELECT %s + (g %% %s), 'bench', NULL, 'support', 'Old ticket',
                   (ARRAY['low','normal','normal','high'])[1 + (g %% 4)], 'closed',
                   '[]'::jsonb, '', t, t + interval '2 days'
            FROM generate_series(1::bigint, %s) g,
                 LATERAL (SELECT %s - ((g * 7919) %% (%s * 30)) * interval '1 day'
                          - (g %% 86400) * interval '1 second' AS t) o
            """,
            [low, high - low + 1, extra, clock.now(), MONTHS],
        )
        # As autovacuum leaves a production book: planner statistics, and a visibility map
        # (without it no read is index-only, and the first reads write hint bits).
        cursor.execute("VACUUM ANALYZE")
    built_s = time.perf_counter() - started
    first_s, _ = timed(services.recompute)  # writes every row
    steady_s, report = timed(services.recompute)
    in_process_s, _ = timed(services.recompute)
    return {
        "accounts": accounts,
        "book_kept": kept,
        "live_accounts": report.accounts,
        "tickets": Ticket.objects.count(),
        "build_s": round(built_s, 1),
        "first_recompute_s": round(first_s, 2),
        "in_process_recompute_s": round(min(steady_s, in_process_s), 2),
    }


def kept_django() -> str:
    """``setup_django`` without its flush: the book a previous run left stays."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csrisk.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", "--noinput", verbosity=0)
    return connection.vendor


# --- workers ------------------------------------------------------------------------------


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Workers:
    """W ``celery worker --pool=solo`` processes on the recompute queue, ready to work."""

    def __init__(self, count: int, env: dict[str, str], tmp: Path) -> None:
        self.logs = [open(tmp / f"worker-{count}-{i}.log", "w+") for i in range(count)]  # noqa: SIM115
        self.procs = [
            subprocess.Popen(
                [*WORKER, "-n", f"bench{i}@%h"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for i, log in enumerate(self.logs)
        ]
        deadline = time.monotonic() + 120
        while not all(self._ready(log) for log in self.logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                tail = self.tail()
                self.stop()
                raise RuntimeError("a worker did not start:\n" + tail)
            time.sleep(0.2)

    @staticmethod
    def _ready(log: Any) -> bool:
        log.flush()
        log.seek(0)
        return "ready" in log.read()

    def peak_mb(self) -> float:
        return max(vm_hwm_mb(p.pid) for p in self.procs)

    def tail(self) -> str:
        out = []
        for log in self.logs:
            log.seek(0)
            out.append(log.read()[-2000:])
        return "\n---\n".join(out)

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        for log in self.logs:
            log.close()


# Clock ticks a second of /proc's CPU times.
TICK = os.sysconf("SC_CLK_TCK")


def busy_cpu_s() -> float:
    """CPU seconds the machine has spent busy (every core, every process) since boot."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / TICK


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user and system) process ``pid`` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def timed_run(workers: Workers, timeout: float = 7200) -> tuple[float, float, float]:
    """Queue the nightly job's run of chunks: seconds until its last chunk is done, and the
    CPU seconds the machine and the workers' own processes spent in them (what is left is
    PostgreSQL's share, and the bench polling its end)."""
    from scorecards.models import RecomputeRun
    from scorecards.services import recompute_run_start

    busy = busy_cpu_s()
    own = sum(process_cpu_s(p.pid) for p in workers.procs)
    start = time.perf_counter()
    run = recompute_run_start()  # autocommit: the group is published at once
    while RecomputeRun.objects.filter(pk=run.pk, finished_at=None).exists():
        if time.perf_counter() - start > timeout:
            raise RuntimeError("the run did not finish:\n" + workers.tail())
        if any(p.poll() is not None for p in workers.procs):
            raise RuntimeError("a worker died:\n" + workers.tail())
        time.sleep(0.05)
    wall = time.perf_counter() - start
    own = sum(process_cpu_s(p.pid) for p in workers.procs) - own
    return wall, busy_cpu_s() - busy, own


def measure(env: dict[str, str], tmp: Path) -> dict[str, Any]:
    """Rounds of the run with 1 then 2 workers on the current book."""
    runs: dict[int, list[float]] = {w: [] for w in WORKERS}
    cpu: dict[int, list[tuple[float, float]]] = {w: [] for w in WORKERS}
    peak, idle = 0.0, 0.0
    for _ in range(RUNS):
        for count in WORKERS:
            workers = Workers(count, env, tmp)
            try:
                idle = max(idle, workers.peak_mb())
                wall, busy, own = timed_run(workers)
                runs[count].append(wall)
                cpu[count].append((busy, own))
                peak = max(peak, workers.peak_mb())
            finally:
                workers.stop()
    return {"runs": runs, "cpu": cpu, "peak_mb": peak, "idle_mb": idle}


@contextmanager
def on_database(url: str, env: dict[str, str]) -> Iterator[dict[str, str]]:
    """This process and the workers it starts on the database ``url`` names (migrated);
    the default database again afterwards. An empty ``url`` changes nothing."""
    if not url:
        yield env
        return
    import environ
    from django.core.management import call_command
    from django.db import connection

    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(environ.Env.db_url_config(url))
    try:
        call_command("migrate", "--noinput", verbosity=0)
        yield {**env, "DATABASE_URL": url}
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def main() -> None:
    vendor = kept_django() if KEEP_BOOK else setup_django()
    if vendor != "postgresql":
        print("bench_scaleout: PostgreSQL only (worker processes share one database); "
              "set DATABASE_URL to a scratch PostgreSQL database")  # fmt: skip
        emit([])
        return
    if shutil.which("redis-server") is None:
        print("bench_scaleout: needs redis-server (the workers' broker)")
        emit([])
        return
    from django.conf import settings

    from csrisk.celery import app as celery_app

    # Stopped with SIGTERM, still stop the workers and the redis-server (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="csrisk-bench-scale-"))
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
         "--bind", "127.0.0.1", "--dir", str(tmp)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    env = {**os.environ, "REDIS_URL": url, "DEBUG": "1"}
    if CHUNK:
        env["SCORECARD_RECOMPUTE_CHUNK"] = CHUNK
        settings.SCORECARD_RECOMPUTE_CHUNK = int(CHUNK)
    celery_app.conf.broker_url = url
    celery_app.conf.task_always_eager = False
    figures = []
    load_before = loadavg()
    try:
        wait_port(port)
        per_account = TICKETS / ACCOUNTS
        base: dict[str, Any] | None = None
        if BASE:
            with on_database(BASE_DATABASE_URL, env) as base_env:
                base = build_book(BASE, int(per_account * BASE))
                base |= measure(base_env, tmp)
        book = build_book(ACCOUNTS, TICKETS)
        book |= measure(env, tmp)
    finally:
        redis.kill()
        redis.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = loadavg()

    def median(result: dict[str, Any], workers: int) -> float:
        return statistics.median(result["runs"][workers])

    def busy_cores(result: dict[str, Any], workers: int) -> list[float]:
        """Cores kept busy during each run: the machine's CPU seconds over the run's."""
        runs = zip(result["runs"][workers], result["cpu"][workers], strict=True)
        return [busy / wall for wall, (busy, _) in runs]

    def about(result: dict[str, Any]) -> dict[str, Any]:
        hidden = ("runs", "cpu", "peak_mb", "idle_mb")
        return {k: v for k, v in result.items() if k not in hidden} | {
            "runs_s": {str(w): [round(x, 2) for x in xs] for w, xs in result["runs"].items()},
            # Cores kept busy during each run (machine CPU seconds / wall seconds) and the
            # workers' own CPU seconds: a second worker can gain at most cores / busy cores.
            "busy_cores": {
                str(w): [round(c, 2) for c in busy_cores(result, w)] for w in result["runs"]
            },
            "worker_cpu_s": {
                str(w): [round(o, 1) for _, o in cs] for w, cs in result["cpu"].items()
            },
            "machine_cpu_s": {
                str(w): [round(b, 1) for b, _ in cs] for w, cs in result["cpu"].items()
            },
        }

    one, two = median(book, 1), median(book, 2)
    # The most a second worker can gain here: the cores 2 workers keep busy over the cores
    # one keeps busy (PostgreSQL runs on the same cores as the workers).
    busy = {w: statistics.median(busy_cores(book, w)) for w in WORKERS}
    common = {
        "database": vendor,
        "chunk": settings.SCORECARD_RECOMPUTE_CHUNK,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "cores": os.cpu_count(),
    }
    figures.append(
        figure(
            f"recompute_workers_2_vs_1_{ACCOUNTS}",
            two,
            "s",
            "the same run of chunks taken by 1 worker process",
            one,
            goal="ratio <= 0.625 (2 workers >= 1.6x faster)",
            met=two / one <= 0.625,
            speedup=round(one / two, 3),
            speedup_bound=round(busy[2] / busy[1], 3),
            **about(book),
            **common,
        )
    )
    if base is not None:
        base_two = median(base, 2)
        goal = 1.2 * ACCOUNTS / BASE
        figures.append(
            figure(
                f"recompute_scale_{ACCOUNTS}_vs_{BASE}",
                two,
                "s",
                f"the same 2-worker run on a {BASE}-account book, same tickets an account",
                base_two,
                goal=f"ratio <= {goal:g}",
                met=two / base_two <= goal,
                base=about(base),
                **common,
            )
        )
    figures.append(
        figure(
            f"recompute_worker_peak_rss_{ACCOUNTS}",
            book["peak_mb"],
            "MB",
            "a ready worker process before its first task",
            book["idle_mb"],
            goal="value <= 2048 MB",
            met=book["peak_mb"] <= 2048,
            **common,
        )
    )
    emit(figures)


if __name__ == "__main__":
    main()
