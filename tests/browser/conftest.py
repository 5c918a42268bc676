"""Browser journeys: Playwright drives Debian's Chromium against a live csrisk server.

Screenshots of each step go to test-artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CSRISK_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are ordinary synchronous code all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the group (tests/conftest.py)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    missing = not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM))
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            # One worker runs the journeys one after the other, on one Chromium.
            item.add_marker(pytest.mark.xdist_group("browser"))
            if missing:
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"Chromium not found at {CHROMIUM}: apt-get install chromium "
                        "(.ci/run installs it)"
                    )
                )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


# Configuration the data migrations install (areas, measures, playbooks, escalation
# levels and meetings). A transactional test's flush empties those tables for whichever
# test runs next, so each browser test puts them back first.
DEFAULTS = [
    ("scorecards.migrations.0002_default_areas", "seed"),
    ("scorecards.migrations.0004_default_measures", "seed"),
    ("ctas.migrations.0003_default_playbooks", "seed"),
    ("escalation.migrations.0003_defaults", "forwards"),
    ("signals.migrations.0003_default_rules", "seed"),
]


@pytest.fixture(autouse=True)
def _configuration_defaults(request: pytest.FixtureRequest) -> None:
    if "transactional_db" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db")
    import importlib

    from django.apps import apps

    for module, function in DEFAULTS:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture
def shot(request: pytest.FixtureRequest):
    """shot(page, "step") saves a screenshot named after the test and the step."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 100))

    def take(page, step: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def log_in(live_server):
    def go(page, username: str, password: str) -> None:
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        # Each role lands on its own working page (csrisk.roles.home_page).
        page.wait_for_url(lambda url: url.startswith(live_server.url) and "/login/" not in url)

    return go
