"""Run every benchmarks/bench_*.py, print one table, write benchmarks/results/latest.json.

Each script runs in its own process against a fresh database (a temp SQLite file, or the
server DATABASE_URL names) and prints its figures as `BENCH-RESULT [json]`, and, for a
figure it cannot measure on this engine, one `BENCH-SKIP name: why` line.

latest.json holds the figures of both engines: each figure names its ``database``
(``sqlite`` or ``postgresql``), and a run replaces only the figures of the engine it ran
on. ``run.py summary velocity`` runs only the scripts whose names contain one of the words
(``make bench BENCH="summary velocity"``); their figures replace those of the same name and
engine, and the others are kept as they were.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ENGINES = ("postgresql", "sqlite")


def engine() -> str:
    """The engine the scripts will run on: DATABASE_URL's, else the embedded SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    return "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"


def merged(old: list[dict[str, Any]], fresh: list[dict[str, Any]], *, partial: bool) -> list:
    """The figures to keep: the fresh ones, plus the old ones of the other engine (and, after
    a partial run, the old ones of this engine that it did not measure)."""
    here = {f.get("database") for f in fresh} or {engine()}
    measured = {(f["name"], f.get("database")) for f in fresh}
    kept = [
        f
        for f in old
        if f.get("database") not in here
        or (partial and (f["name"], f.get("database")) not in measured)
    ]
    return kept + fresh


def table(figures: list[dict[str, Any]], skipped: list[str]) -> str:
    header = (
        f"{'name':<32} {'value':>12} {'unit':<7} {'baseline value':>15} {'ratio':>8}  goal  met"
    )
    lines = []
    for db in [*ENGINES, None]:
        mine = [f for f in figures if f.get("database") == db]
        if not mine:
            continue
        lines += ["", f"== {db or 'engine not recorded'}", header, "-" * len(header)]
        for f in mine:
            lines.append(
                f"{f['name']:<32} {f['value']:>12,.2f} {f['unit']:<7} "
                f"{f['baseline_value']:>15,.2f} {f['ratio']:>8.3f}  {f['goal']}  "
                f"{'yes' if f['met'] else 'NO'}"
            )
            lines.append(f"{'':<32} baseline: {f['baseline']}")
            if "demo_goal" in f:
                met = "yes" if f["demo_goal_met"] else "NO"
                lines.append(f"{'':<32} the demo's own goal: {f['demo_goal']}  {met}")
    if skipped:
        lines += ["", f"== not measured on {engine()} in this run"]
        lines += [f"- {line}" for line in skipped]
    return "\n".join(lines)


def main(words: list[str]) -> int:
    figures: list[dict] = []
    skipped: list[str] = []
    failed: list[str] = []
    scripts = [
        s for s in sorted(HERE.glob("bench_*.py")) if not words or any(w in s.stem for w in words)
    ]
    if not scripts:
        print(f"no benchmark matches {' '.join(words)}")
        return 2
    for script in scripts:
        print(f"running {script.name} …", flush=True)
        proc = subprocess.run(
            [sys.executable, str(script)], cwd=HERE, capture_output=True, text=True
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH-RESULT ")]
        skips = [
            ln.removeprefix("BENCH-SKIP ")
            for ln in proc.stdout.splitlines()
            if ln.startswith("BENCH-SKIP ")
        ]
        for line in skips:
            print(f"  skipped: {line}", flush=True)
        skipped += skips
        if proc.returncode != 0 or not lines:
            failed.append(script.name)
            print(proc.stdout[-2000:], proc.stderr[-4000:], sep="\n")
            continue
        figures.extend(json.loads(lines[-1].removeprefix("BENCH-RESULT ")))
    out = HERE / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    old = json.loads(out.read_text()) if out.exists() else []
    everything = merged(old, figures, partial=bool(words))
    out.write_text(json.dumps(everything, indent=2) + "\n")
    print(table(figures, skipped))
    others = [f for f in everything if f not in figures]
    if others:
        print(f"\n(latest.json also keeps {len(others)} earlier figures: "
              + ", ".join(sorted({str(f.get("database")) for f in others})) + ")")  # fmt: skip
    print(f"\nwritten to {out.relative_to(HERE.parent)}")
    if failed:
        print("benchmarks that failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
