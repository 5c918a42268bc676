"""Load: csm1's cockpit, the account list and the signal batch endpoint, at once, for a
bounded time, on gunicorn with 2 workers over loopback; then no signal may be lost.

    DATABASE_URL=postgres://…/scratch make load        # LOAD_SECONDS=60 by default

The database DATABASE_URL names is a scratch database: it is flushed, migrated and seeded
with the demo book (``seed_demo``). The script starts its own redis-server (broker and
cache), a Celery worker and gunicorn, then runs locust headless in its own process (locust
monkey-patches with gevent at import; benchmarks/load_locustfile.py holds the users).

It prints, per endpoint and in total, requests/s, p50/p95/p99 and errors, writes them to
benchmarks/results/load.json (``LOAD_RESULT`` to put it elsewhere), waits for the queue to
drain and checks that every signal the API accepted (202) is stored once and processed.
Exit status 1 on any error or lost signal, 2 when PostgreSQL or redis-server is missing.

Knobs: LOAD_SECONDS (60), LOAD_USERS (8: three CSMs for every integration), LOAD_BATCH
(100 signals a request), LOAD_ACCOUNTS (300, the demo book's size), LOAD_DRAIN_SECONDS
(180, the longest wait for processing).
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from _common import ROOT, free_port

HERE = Path(__file__).resolve().parent
SECONDS = int(os.environ.get("LOAD_SECONDS", 60))
USERS = int(os.environ.get("LOAD_USERS", 8))
BATCH = int(os.environ.get("LOAD_BATCH", 100))
ACCOUNTS = int(os.environ.get("LOAD_ACCOUNTS", 300))
DRAIN_SECONDS = int(os.environ.get("LOAD_DRAIN_SECONDS", 180))
RESULT = Path(os.environ.get("LOAD_RESULT") or HERE / "results" / "load.json")
ENDPOINTS = ("/cockpit/", "/accounts/", f"/api/v1/signals/ ({BATCH} signals)", "login")


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"{proc.args[2:4]} exited at start-up") from None
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def start_redis(tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.1)
    raise SystemExit("redis-server did not start")


def prepare() -> tuple[str, list[str]]:
    """Fresh schema, the demo book, an integration token; the CRM ids to send signals to."""
    from _common import restore_configuration, setup_django

    setup_django()
    restore_configuration()
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Account
    from csrisk import tokens
    from csrisk.models import User
    from csrisk.roles import Role

    started = time.perf_counter()
    call_command("seed_demo", accounts=ACCOUNTS, verbosity=0)
    print(f"seeded the demo book ({ACCOUNTS} accounts) in {time.perf_counter() - started:.1f} s")
    bot = User.objects.create(username="load-bot", role=Role.INTEGRATION)
    token = tokens.token_create(user=bot, by=None)[1]
    crm_ids = list(
        Account.objects.exclude(crm_id=None).order_by("pk").values_list("crm_id", flat=True)[:200]
    )
    connection.close()
    return token, crm_ids


def read_stats(prefix: Path) -> dict[str, dict[str, float]]:
    """locust's ``--csv`` stats, per request name (and "Aggregated")."""
    rows: dict[str, dict[str, float]] = {}
    with open(f"{prefix}_stats.csv", newline="") as f:
        for row in csv.DictReader(f):
            rows[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "errors": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50_ms": float(row["50%"] or 0),
                "p95_ms": float(row["95%"] or 0),
                "p99_ms": float(row["99%"] or 0),
            }
    return rows


def failures(prefix: Path) -> list[str]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [
            f"{row['Occurrences']}× {row['Method']} {row['Name']}: {row['Error']}"
            for row in csv.DictReader(f)
        ]


def check_signals(source: str, accepted: set[str]) -> dict[str, Any]:
    """Wait for the queue to drain (nudging the sweeper as beat would), then compare."""
    from django.db import connection
    from django.db.models import Count

    from csrisk.celery import app as celery_app
    from signals.models import Signal

    ours = Signal.objects.filter(source=source)
    started = nudged = time.monotonic()
    deadline = started + DRAIN_SECONDS
    while ours.exclude(status="processed").exists() and time.monotonic() < deadline:
        if time.monotonic() - nudged > 15:
            celery_app.send_task("signals.tasks.sweep_signals_task")
            nudged = time.monotonic()
        time.sleep(1)
    drain = time.monotonic() - started
    stored = set(ours.values_list("external_id", flat=True))
    doubled = (
        ours.values("external_id").annotate(n=Count("id")).filter(n__gt=1).count()
    )  # the unique constraint forbids it; counted anyway
    processed = ours.filter(status="processed").count()
    connection.close()
    return {
        "accepted": len(accepted),
        "stored": len(stored & accepted),
        "processed": processed,
        "lost": len(accepted - stored),
        "doubled": doubled,
        "unprocessed": len(stored) - processed,
        "drain_seconds": round(drain, 1),  # after the load stopped, until all were processed
    }


def table(stats: dict[str, dict[str, float]], signals: dict[str, Any]) -> str:
    header = f"{'endpoint':<32} {'requests':>9} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>7}"  # noqa: E501
    lines = [header, "-" * len(header)]
    for name in [*ENDPOINTS, "Aggregated"]:
        s = stats.get(name)
        if s is None:
            continue
        label = "total" if name == "Aggregated" else name
        lines.append(
            f"{label:<32} {s['requests']:>9,} {s['rps']:>7.1f} {s['p50_ms']:>7.0f} "
            f"{s['p95_ms']:>7.0f} {s['p99_ms']:>7.0f} {s['errors']:>7}"
        )
    lines.append(
        "signals: {accepted:,} accepted, {stored:,} stored, {processed:,} processed, "
        "{lost} lost, {doubled} doubled; queue drained {drain_seconds} s after the load".format(
            **signals
        )
    )
    return "\n".join(lines)


def main() -> int:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql")):
        print("load.py needs DATABASE_URL naming a scratch PostgreSQL database (it is flushed)")
        return 2
    if shutil.which("redis-server") is None:
        print("load.py needs redis-server (its own broker and cache)")
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="csrisk-load-"))
    processes: list[subprocess.Popen] = []
    log = open(tmp / "services.log", "w+")  # noqa: SIM115
    finished = False
    try:
        redis, redis_url = start_redis(tmp)
        processes.append(redis)
        # This process and every child use our own Redis (broker, cache, throttle counts).
        os.environ["REDIS_URL"] = redis_url
        token, crm_ids = prepare()
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        env = {**os.environ, "PYTHONPATH": path, "DEBUG": os.environ.get("DEBUG", "1")}
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "csrisk", "worker", "--pool=solo",
             "-Q", "ingest,recompute,notify,default", "--loglevel=WARNING",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        processes.append(worker)
        port = free_port()
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "csrisk.wsgi:application", "--workers", "2",
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        processes.append(gunicorn)
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/healthz", gunicorn)

        source = f"load-{secrets.token_hex(3)}"
        prefix = tmp / "locust"
        accepted_file = tmp / "accepted.json"
        locust_env = {
            **env,
            "LOAD_TOKEN": token,
            "LOAD_SOURCE": source,
            "LOAD_ACCOUNTS": ",".join(crm_ids),
            "LOAD_BATCH": str(BATCH),
            "LOAD_ACCEPTED_FILE": str(accepted_file),
        }
        print(f"locust: {USERS} users for {SECONDS} s against gunicorn (2 workers) on {base}")
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(HERE / "load_locustfile.py"),
             "--headless", "--users", str(USERS), "--spawn-rate", str(USERS),
             "--run-time", f"{SECONDS}s", "--stop-timeout", "30", "--host", base,
             "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"],
            cwd=ROOT, env=locust_env, capture_output=True, text=True,
            timeout=SECONDS + 180,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        if not Path(f"{prefix}_stats.csv").exists() or not accepted_file.exists():
            print(run.stdout[-3000:], run.stderr[-3000:], sep="\n")
            return 1
        stats = read_stats(prefix)
        problems = failures(prefix)
        accepted = set(json.loads(accepted_file.read_text()))
        signals = check_signals(source, accepted)
        finished = True
    finally:
        for proc in reversed(processes):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        log.seek(0)
        service_log = log.read()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
        if not finished:
            print("services log (tail):\n" + service_log[-3000:])

    print(table(stats, signals))
    errors = int(stats.get("Aggregated", {}).get("errors", 0))
    ok = (
        errors == 0
        and signals["lost"] == 0
        and signals["doubled"] == 0
        and signals["unprocessed"] == 0
        and signals["processed"] == signals["accepted"]
    )
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(
        json.dumps(
            {
                "seconds": SECONDS,
                "elapsed_seconds": round(elapsed, 1),
                "users": USERS,
                "batch": BATCH,
                "accounts": ACCOUNTS,
                "gunicorn_workers": 2,
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "endpoints": {
                    ("total" if name == "Aggregated" else name): figures
                    for name, figures in stats.items()
                },
                "signals": signals,
                "failures": problems,
                "ok": ok,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written to {RESULT}")
    if problems:
        print("failures:\n  " + "\n  ".join(problems[:20]))
    if "Traceback" in service_log:
        print("services log (tail):\n" + service_log[-3000:])
    if not ok:
        print("FAILED: errors or lost / unprocessed signals (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
