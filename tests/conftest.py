"""Shared fixtures: an organisation with every role, and clients logged in as each."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from rest_framework.test import APIClient

from csrisk import tokens
from csrisk.celery import app as celery_app
from csrisk.models import Team, User
from csrisk.roles import Role, TeamFunction
from tests.factories import AccountFactory, TeamFactory, UserFactory


@pytest.fixture(autouse=True)
def _in_process_tasks():
    """Tasks run in-process unless a test starts a real worker (tests/test_worker.py)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _clean_cache():
    from django.core.cache import cache

    yield
    cache.clear()


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
