"""The cockpit of a CSM with 2,000 open CTAs in a 10,000-account book, under load.

gunicorn (2 workers) serves the same database; 10 client threads request the cockpit
page (its first page, as the CSM sees it: ``ctas.views.PAGE_SIZE`` rows) for a bounded
number of rounds over loopback. Baseline: ``/healthz`` (the framework's floor: routing,
middleware, a response) under the same load in the same run.

The figure is the **server time** per request, as the issue asks: gunicorn's own request
time (its access log's ``%(D)s``, from the worker taking the request to the response
written). With 10 clients on 2 workers a request also waits in the listen queue for the
ones ahead of it; that client-observed latency is reported beside it (``client_p95_ms``).
Goal: the ratio of the two server-time p95s <= ``RATIO_GOAL``. Also reported: SQL queries
per cockpit request. Runs on PostgreSQL and on SQLite.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from _common import ROOT, emit, figure, free_port, setup_django

ACCOUNTS = int(os.environ.get("BENCH_COCKPIT_ACCOUNTS", 10_000))
CTAS = int(os.environ.get("BENCH_COCKPIT_CTAS", 2_000))
CLIENTS = 10
ROUNDS = int(os.environ.get("BENCH_COCKPIT_ROUNDS", 30))
# Set from the code of 2026-12-05 on PostgreSQL: see docs/performance.md.
RATIO_GOAL = 50


def load(url: str, cookie: str) -> list[float]:
    """CLIENTS threads × ROUNDS requests; per-request latency in ms."""
    samples: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def client() -> None:
        for _ in range(ROUNDS):
            request = urllib.request.Request(url, headers={"Cookie": cookie})
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
                    if response.status != 200:
                        errors.append(str(response.status))
            except Exception as exc:
                errors.append(repr(exc))
                continue
            with lock:
                samples.append((time.perf_counter() - start) * 1000)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, e.g. {errors[:3]}")
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


def server_times(log: Path) -> dict[str, list[float]]:
    """Per path, gunicorn's request times in ms, in the order the requests finished."""
    times: dict[str, list[float]] = {}
    for line in log.read_text().splitlines():
        path, status, micros = line.split()
        if status != "200":
            raise SystemExit(f"{path} answered {status}")
        times.setdefault(path, []).append(int(micros) / 1000)
    return times


def main() -> None:
    vendor = setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.demo import build_demo_book
    from accounts.models import Account
    from csrisk import clock
    from csrisk.models import User
    from ctas.models import Cta
    from ctas.views import PAGE_SIZE

    build_demo_book(accounts=ACCOUNTS, months=32, seed=4)
    csm = User.objects.get(username="csm1")
    accounts = list(Account.objects.filter(owner=csm).values_list("pk", flat=True)) or list(
        Account.objects.values_list("pk", flat=True)[:200]
    )
    now, today = clock.now(), clock.today()
    Cta.objects.bulk_create(
        [
            Cta(
                account_id=accounts[i % len(accounts)],
                reason=f"Risk review {i}",
                area=("habits", "support", "company", "product")[i % 4],
                owner=csm,
                due_date=today + dt.timedelta(days=(i % 60) - 20),
                created_at=now,
                updated_at=now,
                flagged=i % 25 == 0,
                flag_reason="help" if i % 25 == 0 else "",
            )
            for i in range(CTAS)
        ],
        batch_size=1000,
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(csm)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/cockpit/").status_code == 200
    query_count = len(queries)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    connection.close()

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    access_log = Path(tempfile.mkdtemp()) / "access.log"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "csrisk.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(U)s %(s)s %(D)s",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        load(f"{base}/cockpit/", cookie)  # warm up both workers
        health = load(f"{base}/healthz", cookie)
        cockpit = load(f"{base}/cockpit/", cookie)
    finally:
        server.terminate()
        try:  # a graceful stop can take gunicorn's 30 s on a loaded machine
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    served = server_times(access_log)
    warm = len(cockpit)  # the warm-up round finished before the measured ones started
    cockpit_server = served["/cockpit/"][warm:]
    health_server = served["/healthz"][1:]  # the first one was the wait for start-up
    emit(
        [
            figure(
                "cockpit_p95_2000_ctas",
                p95(cockpit_server),
                "ms",
                f"/healthz server-time p95 under the same load ({CLIENTS} clients)",
                p95(health_server),
                goal=f"ratio <= {RATIO_GOAL}",
                met=p95(cockpit_server) / p95(health_server) <= RATIO_GOAL,
                database=vendor,
                median_ms=round(statistics.median(cockpit_server), 1),
                client_p95_ms=round(p95(cockpit), 1),
                client_median_ms=round(statistics.median(cockpit), 1),
                client_healthz_p95_ms=round(p95(health), 1),
                requests=len(cockpit),
                queries_per_request=query_count,
                rows_per_page=PAGE_SIZE,
                clients=CLIENTS,
            ),
        ]
    )


if __name__ == "__main__":
    Path(ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    main()
