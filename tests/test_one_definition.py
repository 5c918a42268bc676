"""One definition per signal (STYLE.md, "One concept, one place"): the signals — ticket
velocity, a key contact left, a title downgrade — are defined once, as measure declarations
in ``scorecards/measures.py``; the rules, the summary, the agendas and the backtest read
their verdicts (``scorecards.selectors.measure_verdicts``). This test reads the code (its
syntax trees, so comments and docstrings do not count) and fails when a second definition
appears: the arithmetic or the role and title tests of a signal outside its home.

A new home needs a reason: add it to the allowance below with one.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "scorecards", "ctas", "escalation", "sponsors", "signals", "insights", "csrisk")
MEASURES = "scorecards/measures.py"


def modules() -> Iterator[tuple[str, ast.AST]]:
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(), str(path))


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def ranks_titles(node: ast.AST) -> bool:
    """Ranks job titles (``seniority``): the title-downgrade signal's own test."""
    return isinstance(node, ast.Name | ast.Attribute) and _name(node) == "seniority"


def reads_title_history(node: ast.AST) -> bool:
    """The contact title history, which only ``accounts`` writes; the measure reads the
    people changes (``PeopleChange``) instead."""
    return isinstance(node, ast.Name | ast.Attribute) and _name(node) == "ContactTitleChange"


KEY_ROLES = {"EDM", "CHAMPION", "edm", "champion", "KEY_ROLES"}


def checks_a_key_role(node: ast.AST) -> bool:
    """``EDM in roles`` / ``"champion" in roles``: who counts as a key contact."""
    if not isinstance(node, ast.Compare) or not any(
        isinstance(op, ast.In | ast.NotIn) for op in node.ops
    ):
        return False
    sides = [node.left, *node.comparators]
    return any(
        _name(s) in KEY_ROLES or (isinstance(s, ast.Constant) and s.value in KEY_ROLES)
        for s in sides
    )


def divides_by_a_floor(node: ast.AST) -> bool:
    """``max(n0, floor)``: the velocity's denominator."""
    return (
        isinstance(node, ast.Call)
        and _name(node.func) in ("max", "maximum")
        and any(_name(a) == "floor" for a in node.args)
    )


# pattern → the modules allowed to hold it, each with its reason
ALLOWED: dict[Callable[[ast.AST], bool], dict[str, str]] = {
    ranks_titles: {MEASURES: "the definition"},
    reads_title_history: {
        "accounts/models.py": "the record",
        "accounts/services/people.py": "written with every title change (people_changes_record)",
        "accounts/admin.py": "shown to admins",
    },
    checks_a_key_role: {
        MEASURES: "the definition",
        # "The executive decision maker changed role" (PRODUCT.md, level 2): any title
        # change of the EDM, promotions too — no measure defines it (title_downgrade counts
        # losses of seniority only).
        "escalation/services/suggestions.py": "EDM title change, not a measure's signal",
        "accounts/demo_activity.py": "the demo seed picks whom its story changes",
    },
    divides_by_a_floor: {
        MEASURES: "the definition",
        # The weekly segment series, vectorised over every week end; proven equal to the
        # measure by tests/signals/test_signal_definitions.py.
        "insights/aggregates.py": "the segment series' fast path",
    },
}


@pytest.mark.parametrize("pattern", list(ALLOWED), ids=lambda p: p.__name__)
def test_it_finds_each_signal_defined_in_one_place(pattern: Callable[[ast.AST], bool]) -> None:
    found = {
        f"{path}:{node.lineno}"
        for path, tree in modules()
        for node in ast.walk(tree)
        if pattern(node) and path not in ALLOWED[pattern]
    }
    assert not found, f"{pattern.__doc__.strip()} — defined again at {sorted(found)}"


@pytest.mark.parametrize("pattern", list(ALLOWED), ids=lambda p: p.__name__)
def test_it_still_finds_each_definition(pattern: Callable[[ast.AST], bool]) -> None:
    """The patterns still match their home: a renamed definition must not turn the test
    above into one that cannot fail."""
    homes = {path for path, tree in modules() for node in ast.walk(tree) if pattern(node)}
    assert homes and homes <= set(ALLOWED[pattern]), homes
