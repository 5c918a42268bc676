"""Services and tasks import each other one way only: tasks import services, never back.

A service that needs background work queues it by the task's name (``csrisk.jobs.queue``),
so the services stay importable without Celery's task modules and no import cycle can form.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "scorecards", "ctas", "escalation", "signals", "sponsors")


def _service_files(app: str) -> list[Path]:
    """The app's ``services.py``, or every module of its ``services/`` package."""
    module = ROOT / app / "services.py"
    package = ROOT / app / "services"
    files = [module] if module.exists() else []
    if package.is_dir():
        files += sorted(package.rglob("*.py"))
    return files


def _imported_modules(tree: ast.AST, package: str) -> list[tuple[int, str]]:
    """Every module an import statement names, anywhere in the file (lazy imports too),
    with ``from x import y`` counted as both ``x`` and ``x.y``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the file's package
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


@pytest.mark.parametrize("app", APPS)
def test_it_finds_no_services_module_importing_a_tasks_module(app):
    files = _service_files(app)
    assert files, f"{app} has no services module"
    offences = []
    for path in files:
        package = ".".join(path.relative_to(ROOT).parts[:-1])  # an __init__'s is its own
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, name in _imported_modules(tree, package):
            if "tasks" in name.split("."):
                offences.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not offences, "services import tasks (queue them with csrisk.jobs.queue):\n" + "\n".join(
        offences
    )
