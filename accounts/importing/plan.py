"""What an import would do (``Plan``), and the helpers every planner shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from csrisk.csvfiles import RowError

if TYPE_CHECKING:
    from accounts.importing.outcomes import OutcomePlan


PROGRESS_EVERY = 1000  # rows between progress reports while checking a file
ProgressFn = Callable[[int], None]


@dataclass
class Plan:
    """What an import would do: rows to create and update, or the errors that stop it."""

    kind: str
    total_rows: int
    columns: dict[str, str]  # field -> header used
    ignored_columns: list[str]
    errors: list[RowError] = field(default_factory=list)
    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def column_lists(
    frame: pd.DataFrame, columns: dict[str, str], known: dict[str, tuple[str, ...]]
) -> dict[str, list[str]]:
    """Every known field as a list of strings ("" where the file has no such column)."""
    blank = [""] * len(frame)
    return {f: frame[columns[f]].tolist() if f in columns else blank for f in known}


def add_cell_errors(plan: Plan | OutcomePlan, found: list[RowError]) -> None:
    """Control characters anywhere in the file stop the import like any other bad cell."""
    if found:
        plan.errors = sorted([*plan.errors, *found], key=lambda e: (e.row, e.column))
