"""The executive summary of two code trees, each against its own database, in turns.

Issue 17's "Measured" clause compares the code before a change with the code after it on
the same book. The schema may differ between the two (migrations), so each tree gets its
own database, built by that tree's own demo builders exactly as ``bench_summary.py`` builds
its book (same size and seed):

    # once per side (DATABASE_URL: a scratch PostgreSQL database; flushed first)
    PYTHONPATH=/path/to/tree python benchmarks/summary_ab.py build

    # then, in turns: each turn runs every side in its own process (RUNS renders and
    # RUNS /healthz each, after one warm-up, the clock frozen at the same moment)
    python benchmarks/summary_ab.py ab --turns 3 \\
        before=/work/wt/summary_old,postgresql://postgres@127.0.0.1:5432/csrisk_summary_old \\
        after=/work/wt/summary,postgresql://postgres@127.0.0.1:5432/csrisk_summary

Per side and turn it prints the median wall time of a render, of ``/healthz``, their ratio
(the bench's), Python's CPU time per render (``time.process_time``: what the machine's load
disturbs least) and the queries of one render; then the medians over the turns. Run it under
``nice``; ``BENCH_SUMMARY_ACCOUNTS`` (default 2,000 here) sizes the book. The trees are
imported through ``PYTHONPATH`` alone: the site directory in ``AB_SITE`` (default the one
that drops the venv's editable finder) keeps a tree from importing another's code.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ACCOUNTS = int(os.environ.get("BENCH_SUMMARY_ACCOUNTS", 2_000))
RUNS = int(os.environ.get("BENCH_SUMMARY_RUNS", 15))
SITE = os.environ.get("AB_SITE", "/work/wt/_brief/site")


def _tree() -> Path:
    """The code tree on PYTHONPATH (its first entry)."""
    return Path(os.environ["PYTHONPATH"].split(os.pathsep)[0]).resolve()


def build() -> None:
    """Flush and migrate DATABASE_URL, then build ``bench_summary.py``'s book with this
    tree's code (its ``bench_summary.build_book``: a tree from before it has none; build
    with a newer tree, whose book an older one renders)."""
    sys.path.insert(0, str(_tree() / "benchmarks"))
    from _common import setup_django
    from bench_summary import build_book

    vendor = setup_django()
    start = time.perf_counter()
    build_book(ACCOUNTS, vendor)
    print(f"built {ACCOUNTS} accounts in {time.perf_counter() - start:.0f} s", flush=True)


def render(at: str) -> None:
    """RUNS renders of the VP's ``/summary/`` and RUNS ``/healthz`` at the moment ``at``
    (ISO), in turns; one JSON line of figures."""
    sys.path.insert(0, str(_tree()))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csrisk.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    import csrisk
    from csrisk import clock
    from csrisk.models import User

    assert Path(csrisk.__file__).resolve().is_relative_to(_tree()), csrisk.__file__
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username="vp"))

    def page() -> None:
        assert client.get("/summary/").status_code == 200

    def health() -> None:
        assert client.get("/healthz").status_code == 200

    wall, cpu, healthz = [], [], []
    with clock.frozen(dt.datetime.fromisoformat(at)):
        page()  # warm-up
        executed: list[str] = []

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            page()
        for _ in range(RUNS):
            c, w = time.process_time(), time.perf_counter()
            page()
            wall.append((time.perf_counter() - w) * 1000)
            cpu.append((time.process_time() - c) * 1000)
            w = time.perf_counter()
            health()
            healthz.append((time.perf_counter() - w) * 1000)
    median = statistics.median(wall)
    print(
        json.dumps(
            {
                "wall_ms": round(median, 1),
                "healthz_ms": round(statistics.median(healthz), 3),
                "ratio": round(median / statistics.median(healthz), 1),
                "cpu_ms": round(statistics.median(cpu), 1),
                "queries": len(executed),
                "load": round(os.getloadavg()[0], 1),
            }
        ),
        flush=True,
    )


def ab(sides: list[str], turns: int) -> None:
    """``name=tree,database_url`` per side; every side once a turn, in the same order."""
    at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    parsed = [(s.split("=", 1)[0], *s.split("=", 1)[1].split(",", 1)) for s in sides]
    results: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in parsed}
    for turn in range(turns):
        for name, tree, url in parsed:
            env = {
                **os.environ,
                "PYTHONPATH": os.pathsep.join([tree, SITE]),
                "DATABASE_URL": url,
                "DJANGO_SETTINGS_MODULE": "csrisk.settings",
            }
            env.pop("REDIS_URL", None)
            out = subprocess.run(
                [sys.executable, __file__, "render", at],
                env=env,
                cwd=tree,  # nothing of another tree on the path, whatever the caller's cwd
                capture_output=True,
                text=True,
            )
            if out.returncode:
                sys.exit(f"{name} failed:\n{out.stderr[-3000:]}")
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            results[name].append(figures)
            print(f"turn {turn + 1} {name:>8}: {json.dumps(figures)}", flush=True)
    print(f"at {at}, {ACCOUNTS} accounts, {RUNS} renders a turn; medians over {turns} turns:")
    for name, runs in results.items():
        summary = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{name:>8}: {json.dumps(summary)}")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "build":
        build()
    elif command == "render":
        render(sys.argv[2])
    elif command == "ab":
        turns = 3
        args = sys.argv[2:]
        if args[:1] == ["--turns"]:
            turns, args = int(args[1]), args[2:]
        ab(args, turns)
    else:
        sys.exit(__doc__)
