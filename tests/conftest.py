"""Shared fixtures: an organisation with every role, and clients logged in as each."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import reset_queries
from django.test import Client, TestCase, TransactionTestCase, override_settings
from rest_framework.test import APIClient

from csrisk import tokens
from csrisk.celery import app as celery_app
from csrisk.models import Team, User
from csrisk.roles import Role, TeamFunction
from tests.factories import AccountFactory, TeamFactory, UserFactory

# Tests log in with the MD5 hasher: Django's default runs PBKDF2 with a million
# iterations on every password check (each login, each wrong guess, even a guess for an
# unknown username), which made the lockout, login and browser tests the slowest in the
# suite. Production hashing is untouched; tests/csrisk/test_settings.py runs the real
# settings in subprocesses.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    with override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS):
        yield


@pytest.fixture(autouse=True)
def _in_process_tasks():
    """Tasks run in-process unless a test starts a real worker (tests/test_worker.py)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


# Parallel workers on one Redis (make test with REDIS_URL) keep apart: each writes its
# cache keys under a prefix of its own and clears only those, where cache.clear() would
# empty the database under the other workers' feet.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def pytest_configure(config: pytest.Config) -> None:
    cache = django_settings.CACHES["default"]
    if XDIST_WORKER and cache["BACKEND"].endswith("RedisCache"):
        cache["KEY_PREFIX"] = f"{cache.get('KEY_PREFIX', 'csrisk')}-{XDIST_WORKER}"


@pytest.fixture(autouse=True)
def _clean_cache():
    from django.core.cache import cache

    yield
    prefix = django_settings.CACHES["default"].get("KEY_PREFIX")
    if XDIST_WORKER and django_settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _empty_query_logs():
    """Each test starts with empty query logs: Django keeps the last 9,000 captured queries
    of a connection, and a count taken over a full log (``CaptureQueriesContext``) reads 0."""
    reset_queries()


def _counting_from_empty(assert_queries: Callable[..., Any]) -> Callable[..., Any]:
    @contextmanager
    def counting(*args: Any, **kwargs: Any) -> Iterator[Any]:
        reset_queries()
        with assert_queries(*args, **kwargs) as captured:
            yield captured

    return counting


@pytest.fixture
def django_assert_num_queries(django_assert_num_queries):
    """pytest-django's, counting from an emptied query log (``_empty_query_logs``)."""
    return _counting_from_empty(django_assert_num_queries)


@pytest.fixture
def django_assert_max_num_queries(django_assert_max_num_queries):
    """pytest-django's, counting from an emptied query log (``_empty_query_logs``)."""
    return _counting_from_empty(django_assert_max_num_queries)


@dataclass
class Org:
    """Two CS teams (A led by lead_a with csm_a, B led by lead_b with csm_b) and the rest."""

    team_a: Team
    team_b: Team
    lead_a: User
    lead_b: User
    csm_a: User
    csm_a2: User
    csm_b: User
    vp: User
    ceo: User
    executive: User
    support: User
    integration: User
    admin: User

    def by_role(self) -> dict[str, User]:
        return {
            "csm": self.csm_a,
            "team_lead": self.lead_a,
            "vp_cs": self.vp,
            "ceo": self.ceo,
            "executive": self.executive,
            "support": self.support,
        }


@pytest.fixture
def org(db) -> Org:
    team_a = TeamFactory(name="CS A")
    team_b = TeamFactory(name="CS B")
    lead_a = UserFactory(username="lead_a", role=Role.TEAM_LEAD, team=team_a)
    lead_b = UserFactory(username="lead_b", role=Role.TEAM_LEAD, team=team_b)
    team_a.lead, team_b.lead = lead_a, lead_b
    team_a.save()
    team_b.save()
    support_team = TeamFactory(name="Support", function=TeamFunction.SUPPORT)
    return Org(
        team_a=team_a,
        team_b=team_b,
        lead_a=lead_a,
        lead_b=lead_b,
        csm_a=UserFactory(username="csm_a", role=Role.CSM, team=team_a),
        csm_a2=UserFactory(username="csm_a2", role=Role.CSM, team=team_a),
        csm_b=UserFactory(username="csm_b", role=Role.CSM, team=team_b),
        vp=UserFactory(username="vp", role=Role.VP_CS),
        ceo=UserFactory(username="ceo", role=Role.CEO),
        executive=UserFactory(username="exec", role=Role.EXECUTIVE),
        support=UserFactory(username="support", role=Role.SUPPORT, team=support_team),
        integration=UserFactory(username="integration", role=Role.INTEGRATION),
        admin=UserFactory(username="admin", role=Role.EXECUTIVE, is_superuser=True, is_staff=True),
    )


@pytest.fixture
def account_a(org: Org):
    """An account owned by csm_a in team A."""
    return AccountFactory(owner=org.csm_a, name="Alpha Inc", crm_id="A-1")


@pytest.fixture
def account_b(org: Org):
    """An account owned by csm_b in team B."""
    return AccountFactory(owner=org.csm_b, name="Beta LLC", crm_id="B-1")


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(user: User | None = None, *, token: bool = False) -> APIClient:
    client = APIClient()
    if user is not None:
        if token:
            key = tokens.token_create(user=user, by=None, name="test")[1]
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        else:
            client.force_authenticate(user)
    return client


def configure_measure(code: str, **fields: object) -> None:
    """Configure measure ``code`` as an admin would: its defaults for what is not given."""
    from scorecards.models import MeasureConfig
    from scorecards.selectors import thresholds

    t = next(t for t in thresholds() if t.code == code)
    defaults = {
        "area": t.area,
        "label": t.label,
        "yellow_at": t.yellow_at,
        "red_at": t.red_at,
        "best": t.best,
        "window_days": t.window_days,
        "params": t.params,
        "enabled": t.enabled,
        **fields,
    }
    MeasureConfig.objects.update_or_create(code=code, defaults=defaults)


@pytest.fixture(scope="session")
def oidc_provider():
    """A real OpenID Connect provider process for the single sign-on tests (docs/sso.md)."""
    from tests.processes import OidcProvider

    provider = OidcProvider()
    yield provider
    provider.stop()


# --- How a parallel run (pytest-xdist, `--dist loadgroup` in pyproject.toml) schedules ------
# Tests marked `slow`, the browser journeys and the real-worker tests start first within
# their kind, so that none of them begins when the others are nearly done and keeps one
# worker busy alone at the end. The kinds keep pytest-django's order (tests on a
# rolled-back transaction, then transactional tests, whose flush empties the tables the
# data migrations fill, then tests without the database), and each worker runs them in
# that order. The browser journeys share one worker and its Chromium
# (tests/browser/conftest.py); the real-worker tests (`services`) share one worker too, as
# they share one broker.
def pytest_itemcollected(item: pytest.Item) -> None:
    if item.get_closest_marker("services"):
        item.add_marker(pytest.mark.xdist_group("services"))


def _database_kind(item: pytest.Item) -> int:
    """pytest-django's order: 0 rolled back, 1 transactional, 2 no database."""
    fixtures = getattr(item, "fixturenames", ())
    marker = item.get_closest_marker("django_db")
    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, TransactionTestCase):
        return 0 if issubclass(cls, TestCase) else 1
    if (
        "transactional_db" in fixtures
        or "live_server" in fixtures
        or (marker is not None and marker.kwargs.get("transaction"))
    ):
        return 1
    return 0 if marker is not None or "db" in fixtures else 2


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def first(item: pytest.Item) -> bool:
        return any(item.get_closest_marker(name) for name in ("slow", "browser", "services"))

    items.sort(key=lambda item: (_database_kind(item), not first(item)))


@pytest.fixture
def json_log():
    """Every log line written during the test, as production writes them (JSON, through
    csrisk.logs' formatter): call it for the lines so far, as dicts."""
    import io
    import json
    import logging

    import structlog

    from csrisk import logs

    config = logs.logging_config(logs.JSON, "INFO")["formatters"]["structured"]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=config["foreign_pre_chain"], processors=config["processors"]
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    lines.raw = stream.getvalue  # type: ignore[attr-defined]
    yield lines
    root.removeHandler(handler)
    root.setLevel(level)
