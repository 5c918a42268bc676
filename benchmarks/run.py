"""Run every benchmarks/bench_*.py, print one table, write benchmarks/results/latest.json.

Each script runs in its own process against a fresh database (a temp SQLite file, or the
server DATABASE_URL names) and prints its figures as `BENCH-RESULT [json]`.

``run.py summary velocity`` runs only the scripts whose names contain one of the words
(``make bench BENCH="summary velocity"``); their figures replace those of the same name in
latest.json and the others are kept as they were.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(words: list[str]) -> int:
    figures: list[dict] = []
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
        if proc.returncode != 0 or not lines:
            failed.append(script.name)
            print(proc.stdout[-2000:], proc.stderr[-4000:], sep="\n")
            continue
        figures.extend(json.loads(lines[-1].removeprefix("BENCH-RESULT ")))
    out = HERE / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    if words and out.exists():  # a partial run: keep the figures it did not measure
        fresh = {f["name"] for f in figures}
        kept = [f for f in json.loads(out.read_text()) if f["name"] not in fresh]
        figures = kept + figures
    out.write_text(json.dumps(figures, indent=2) + "\n")
    header = (
        f"{'name':<32} {'value':>12} {'unit':<7} {'baseline value':>15} {'ratio':>7}  goal  met"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for f in figures:
        print(
            f"{f['name']:<32} {f['value']:>12,.2f} {f['unit']:<7} {f['baseline_value']:>15,.2f} "
            f"{f['ratio']:>7.3f}  {f['goal']}  {'yes' if f['met'] else 'NO'}"
        )
        print(f"{'':<32} baseline: {f['baseline']}")
    print(f"\nwritten to {out.relative_to(HERE.parent)}")
    if failed:
        print("benchmarks that failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
