"""benchmarks/run.py keeps each engine's figures in latest.json apart."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


@pytest.fixture
def run() -> Any:
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fig(name: str, database: str, value: float = 1.0) -> dict[str, Any]:
    return {"name": name, "value": value, "database": database}


def test_it_keeps_the_other_engines_figures_after_a_full_run(run: Any) -> None:
    old = [fig("a", "postgresql"), fig("a", "sqlite"), fig("gone", "sqlite")]
    fresh = [fig("a", "sqlite", 2.0)]
    kept = run.merged(old, fresh, partial=False)
    assert fig("a", "postgresql") in kept
    assert fig("a", "sqlite", 2.0) in kept
    # A full run is the whole truth for its engine: a figure it no longer measures goes.
    assert fig("gone", "sqlite") not in kept
    assert fig("a", "sqlite") not in kept


def test_it_replaces_only_what_a_partial_run_measured(run: Any) -> None:
    old = [fig("a", "postgresql"), fig("b", "postgresql"), fig("a", "sqlite")]
    fresh = [fig("a", "postgresql", 3.0)]
    kept = run.merged(old, fresh, partial=True)
    assert sorted((f["name"], f["database"], f["value"]) for f in kept) == [
        ("a", "postgresql", 3.0),
        ("a", "sqlite", 1.0),
        ("b", "postgresql", 1.0),
    ]


def test_it_lists_skipped_figures_and_demo_goals_in_the_table(run: Any) -> None:
    figure = {
        **fig("seed", "sqlite", 90.0),
        "unit": "s",
        "baseline": "raw",
        "baseline_value": 60.0,
        "ratio": 1.5,
        "goal": "ratio <= 2.0",
        "met": True,
        "demo_goal": "<= 60 s",
        "demo_goal_met": False,
    }
    text = run.table([figure], ["velocity: PostgreSQL only"])
    assert "== sqlite" in text
    assert "the demo's own goal: <= 60 s  NO" in text
    assert "- velocity: PostgreSQL only" in text
