"""The authorization matrix: every page and every API endpoint × every role, each on an
object owned by someone else (team B's account, CTA, escalation; another sponsor's
check-in; someone else's import) → the right 200/302/403/404/405, anonymous → the login
page or 401, and an integration token → nothing but signal ingestion.

The routes are generated from the URL configuration, so a new page or endpoint without a
row here fails `test_every_route_is_in_the_matrix` until its expectations are written down.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.choices import ImportKind
from accounts.models import ImportJob
from csrisk import clock, tokens
from ctas import services as ctas
from escalation.models import Escalation
from sponsors import services as sponsors
from sponsors.models import CheckIn, Program
from tests.conftest import login
from tests.factories import AccountFactory

ROLES = ["anonymous", "csm", "team_lead", "vp_cs", "ceo", "executive", "support", "integration"]
STAFF = ROLES[1:-1]

# What each page answers a GET with, per role, for objects of someone else (team B).
# "ok" = 200; numbers are status codes; "login" = redirect to the login page.
ALL_OK = dict.fromkeys(STAFF, "ok")
LEADERSHIP = {**dict.fromkeys(STAFF, 403), "vp_cs": "ok", "ceo": "ok", "executive": "ok"}


def pages_matrix() -> dict[str, dict[str, object]]:
    post_only = dict.fromkeys(STAFF, 405)
    return {
        "home": {**dict.fromkeys(STAFF, 302)},
        "notifications": ALL_OK,
        "notifications-read": post_only,
        "notification-settings": ALL_OK,
        # each person's own API tokens
        "tokens": ALL_OK,
        "token-revoke-page": post_only,
        "accounts:list": ALL_OK,
        "accounts:detail": ALL_OK,
        # the matrix's ids name no fact of the account (the kind is an id too): not found,
        # for every role that may read the book (tests/accounts/test_fact_detail.py reads one)
        "accounts:fact": dict.fromkeys(STAFF, 404),
        # team B's account: only the VP and the CEO may change it
        "accounts:edit": {**dict.fromkeys(STAFF, 403), "vp_cs": "ok", "ceo": "ok"},
        "accounts:import": {
            **dict.fromkeys(STAFF, 403),
            "team_lead": "ok",
            "vp_cs": "ok",
            "ceo": "ok",
        },
        # someone else's import job is not found — except by the VP and CEO, who oversee
        "accounts:import-detail": {**dict.fromkeys(STAFF, 404), "vp_cs": "ok", "ceo": "ok"},
        "accounts:import-commit": post_only,
        "scorecards:review": {
            **ALL_OK,
            "executive": 403,
            "support": 403,
        },
        "scorecards:leadership": {**ALL_OK, "csm": 403, "support": 403},
        "scorecards:override-set": post_only,
        "scorecards:reasons": ALL_OK,
        "scorecards:override-clear": post_only,
        "cockpit:index": ALL_OK,
        "cockpit:people": ALL_OK,
        "cockpit:open": post_only,
        "cockpit:cta": ALL_OK,
        "cockpit:flag": post_only,
        "cockpit:unflag": post_only,
        "cockpit:close": post_only,
        "cockpit:snooze": post_only,
        "cockpit:reassign": post_only,
        "cockpit:comment": post_only,
        "cockpit:work": ALL_OK,
        "cockpit:form": {**dict.fromkeys(STAFF, 403), "vp_cs": "ok", "ceo": "ok"},
        "cockpit:task-add": post_only,
        "cockpit:task-done": post_only,
        "cockpit:task-reassign": post_only,
        "escalation:list": ALL_OK,
        "escalation:escalate": post_only,
        "escalation:de-escalate": post_only,
        "escalation:acknowledge": post_only,
        "escalation:resolve": post_only,
        "escalation:suggestion-accept": post_only,
        "escalation:suggestion-dismiss": post_only,
        "escalation:meetings": ALL_OK,
        "escalation:agenda": ALL_OK,
        "escalation:agenda-review": post_only,
        "sponsors:program": ALL_OK,
        "sponsors:assign": post_only,
        "sponsors:help": post_only,
        "sponsors:end": post_only,
        "sponsors:checkin-log": post_only,
        "sponsors:open-risk": post_only,
        "signals:feed": ALL_OK,
        "signals:detail": ALL_OK,
        "signals:health": ALL_OK,
        "signals:segments": ALL_OK,
        "signals:unmatched": ALL_OK,
        "signals:match": post_only,
        "signals:upload": {
            **dict.fromkeys(STAFF, 403),
            "team_lead": "ok",
            "vp_cs": "ok",
            "ceo": "ok",
        },
        "signals:upload-detail": {**dict.fromkeys(STAFF, 404), "vp_cs": "ok", "ceo": "ok"},
        "signals:upload-commit": post_only,
        # the executive summary is for the VP, the CEO and executives
        "summary:index": LEADERSHIP,
        "summary:csv": LEADERSHIP,
        "summary:backtest": LEADERSHIP,
        "summary:action": post_only,
    }


# API endpoints: GET answers for staff (the integration token gets 403 on every one of
# these; anonymous 401). Command endpoints answer a GET with 405.
API_GET = {
    "account-list": "ok",
    "account-detail": "ok",
    "contact-list": "ok",
    "contact-detail": "ok",
    "scorecard-list": "ok",
    "scorecard-detail": "ok",
    "scorecard-history": "ok",
    "scorecard-override": 405,
    "scorecard-override-clear": 405,
    "cta-list": "ok",
    "cta-detail": "ok",
    "cta-close": 405,
    "cta-comment": 405,
    "cta-comments": "ok",
    "cta-flag": 405,
    "cta-snooze": 405,
    "cta-unflag": 405,
    "playbook-list": "ok",
    "playbook-detail": "ok",
    "escalation-list": "ok",
    "escalation-detail": "ok",
    "escalation-accept-suggestion": 405,
    "escalation-acknowledge": 405,
    "escalation-de-escalate": 405,
    "escalation-dismiss-suggestion": 405,
    "escalation-escalate": 405,
    "escalation-resolve": 405,
    "meeting-list": "ok",
    "meeting-detail": "ok",
    "meeting-agenda": "ok",
    "meeting-review": 405,
    "sponsor-program-list": "ok",
    "sponsor-program-detail": "ok",
    "sponsorship-list": "ok",
    "sponsorship-help": 405,
    "sponsorship-detail": "ok",
    "sponsorship-end": 405,
    "checkin-list": "ok",
    "checkin-detail": "ok",
    "checkin-log": 405,
    "checkin-open-risk": 405,
    "api-root": "ok",
    # a person's own tokens (people only: integration tokens are managed by admins)
    "token-list": "ok",
    "token-revoke": 405,
}
# Signal ingestion: the only thing an integration token may do, and only it (issue 19:
# people forged signals). POSTs of an empty object: 400 for the integration, 403 for people.
INGESTION = {"api-signals", "api-webhook-zendesk", "api-webhook-jira", "api-webhook-crm"}
SKIPPED = {"login", "logout", "healthz", "readyz", "schema", "api-docs", ""}


def routes() -> list[tuple[str, str]]:
    """(name, pattern) of every page and endpoint, admin and format suffixes aside."""
    found: list[tuple[str, str]] = []

    def walk(patterns: list, prefix: str, ns: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace == "admin":
                    continue
                walk(
                    p.url_patterns,
                    prefix + str(p.pattern),
                    ns + (f"{p.namespace}:" if p.namespace else ""),
                )
            elif isinstance(p, URLPattern):
                pattern = prefix + str(p.pattern)
                if "format" in pattern:
                    continue
                found.append((ns + (p.name or ""), pattern))

    walk(get_resolver().url_patterns, "", "")
    return found


def test_every_route_is_in_the_matrix(db):
    names = {name for name, _ in routes()} - SKIPPED
    known = set(pages_matrix()) | set(API_GET) | INGESTION
    assert names - known == set(), "add the new routes' expectations to this matrix"


@pytest.fixture
def world(org, django_capture_on_commit_callbacks):
    """Objects that belong to team B (csm_b, lead_b) or to another executive."""
    today = clock.today()
    Program.objects.create(
        name="Now", starts_on=today - dt.timedelta(days=10), ends_on=today + dt.timedelta(days=170)
    )
    account = AccountFactory(
        owner=org.csm_b, name="Team B Co", tier="strategic", arr=Decimal("500000")
    )
    cta = ctas.cta_create(account=account, by=org.csm_b, reason="Usage", area="habits")
    task = ctas.task_add(cta=cta, by=org.csm_b, title="Call them")
    ctas.cta_flag(cta=cta, by=org.csm_b, reason="Need help")
    escalation = Escalation.objects.get(cta=cta)
    sponsorship = sponsors.sponsorship_assign(account=account, sponsor=org.executive, by=org.vp)
    sponsors.checkins_create_due()
    checkin = CheckIn.objects.get()
    job = ImportJob.objects.create(
        kind=ImportKind.ACCOUNTS, filename="x.csv", content=b"name\n", created_by=org.lead_b
    )
    from signals import services as signal_services
    from signals.models import Signal as SignalModel
    from signals.models import SignalImport
    from tests.signals.helpers import ticket

    signal_services.signals_store([ticket("T-B", account.pk)], publish=False)
    upload = SignalImport.objects.create(
        kind="tickets",
        filename="t.csv",
        content=b"x\n",
        created_by=org.lead_b,
        created_at=clock.now(),
    )
    ids = {
        "pk": None,
        "account": account.pk,
        "cta": cta.pk,
        "task": task.pk,
        "escalation": escalation.pk,
        "suggestion": 999999,
        "sponsorship": sponsorship.pk,
        "checkin": checkin.pk,
        "job": job.pk,
        "upload": upload.pk,
        "signal": SignalModel.objects.get().pk,
        "token": tokens.token_create(user=org.csm_b, by=None)[0].pk,
        "contact": None,
        "playbook": cta.playbook_id or 1,
        "program": Program.objects.get().pk,
    }
    return ids


# Which object each route's id means.
OBJECT_OF = {
    "accounts:": "account",
    "accounts:import": "job",
    "scorecards:": "account",
    "scorecards:override-clear": "override",
    "cockpit:open": "account",
    "cockpit:task": "task",
    "cockpit:": "cta",
    "escalation:suggestion": "suggestion",
    "escalation:agenda": "meeting",
    "escalation:": "escalation",
    "sponsors:end": "sponsorship",
    "sponsors:checkin": "checkin",
    "sponsors:open-risk": "checkin",
    "sponsors:": "account",
    "signals:upload": "upload",
    "signals:detail": "signal",
    "token-revoke-page": "token",
    "token-": "token",
    "account-": "account",
    "contact-": "contact",
    "scorecard-": "account",
    "cta-": "cta",
    "playbook-": "playbook",
    "escalation-": "escalation",
    "meeting-": "meeting",
    "sponsor-program-": "program",
    "sponsorship-": "sponsorship",
    "checkin-": "checkin",
}


def _object(name: str, ids: dict) -> int | str:
    for prefix in sorted(OBJECT_OF, key=len, reverse=True):
        if name.startswith(prefix):
            key = OBJECT_OF[prefix]
            if key == "meeting":
                return "friday-cs-customer-issues"
            if key == "contact":
                from accounts.models import Contact

                contact = Contact.objects.filter(account_id=ids["account"]).first()
                if contact is None:
                    from tests.factories import ContactFactory

                    contact = ContactFactory(account_id=ids["account"])
                return contact.pk
            if key == "override":
                return 999999
            return ids[key]
    return 1


def _url(name: str, pattern: str, ids: dict) -> str:
    path = "/" + pattern.replace("^", "").replace("$", "")
    value = _object(name, ids)
    path = re.sub(
        r"<(?:int|slug|str|path):(\w+)>",
        lambda m: (
            "habits" if m.group(1) == "area" else ("0" if m.group(1) == "index" else str(value))
        ),
        path,
    )
    path = re.sub(
        r"\(\?P<(\w+)>[^)]*\)",
        lambda m: "1" if m.group(1) == "sid" else ("0" if m.group(1) == "index" else str(value)),
        path,
    )
    return path.replace("\\", "")


def _user(org, role: str):
    return {
        "csm": org.csm_a,
        "team_lead": org.lead_a,
        "vp_cs": org.vp,
        "ceo": org.ceo,
        "executive": _other_exec(org),
        "support": org.support,
        "integration": org.integration,
    }[role]


def _other_exec(org):
    """An executive who does not sponsor team B's account (org.executive does)."""
    from csrisk.models import User
    from csrisk.roles import Role
    from tests.factories import UserFactory

    return User.objects.filter(username="exec_other").first() or UserFactory(
        username="exec_other", role=Role.EXECUTIVE
    )


def _expect(response, expected) -> None:
    if expected == "ok":
        assert response.status_code == 200, response.status_code
    elif expected == "login":
        assert response.status_code == 302 and "/login/" in response["Location"]
    else:
        assert response.status_code == expected, (response.status_code, expected)


@pytest.mark.parametrize("role", ROLES)
def test_pages(org, world, role, client):
    matrix = pages_matrix()
    failures = []
    for name, pattern in routes():
        if name not in matrix:
            continue
        url = _url(name, pattern, world)
        if role == "anonymous":
            expected = "login"
            session = client
        elif role == "integration":
            expected, session = 403, login(org.integration)
        else:
            expected, session = matrix[name][role], login(_user(org, role))
        response = session.get(url)
        try:
            _expect(response, expected)
        except AssertionError:
            failures.append(
                f"{role} GET {url} ({name}): {response.status_code}, expected {expected}"
            )
    assert failures == []


@pytest.mark.parametrize("role", ROLES)
def test_api(org, world, role):
    from rest_framework.test import APIClient

    failures = []
    client = APIClient()
    if role != "anonymous":
        user = _user(org, role)
        key = tokens.token_create(user=user, by=None)[1]
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    for name, pattern in routes():
        if name not in API_GET and name not in INGESTION:
            continue
        url = _url(name, pattern, world)
        if name in INGESTION:
            method, expected = "post", {"anonymous": 401, "integration": 400}.get(role, 403)
            response = client.post(url, {}, format="json")
        else:
            method = "get"
            expected = {"anonymous": 401, "integration": 403}.get(role, API_GET[name])
            response = client.get(url)
        try:
            _expect(response, expected)
        except AssertionError:
            got = response.status_code
            failures.append(f"{role} {method.upper()} {url} ({name}): {got}, expected {expected}")
    assert failures == []


# Changes to someone else's objects: (what, method+url builder, body, who may).
WRITES = [
    ("flag team B's CTA", "cockpit:flag", {"reason": "x"}, {"vp_cs", "ceo"}),
    ("edit team B's account", "accounts:edit", {"name": "Hacked"}, {"vp_cs", "ceo"}),
    ("override team B's scorecard", "scorecards:override-set", {}, {"vp_cs", "ceo"}),
    (
        "escalate team B's escalation",
        "escalation:escalate",
        {"level": "2", "reason": "x"},
        {"vp_cs", "ceo"},
    ),
    ("acknowledge team B's escalation", "escalation:acknowledge", {}, {"vp_cs", "ceo"}),
    ("assign a sponsor to team B's account", "sponsors:assign", {}, {"vp_cs", "ceo"}),
    (
        "log another sponsor's check-in",
        "sponsors:checkin-log",
        {"notes": "x", "sentiment": "neutral"},
        {"vp_cs", "ceo"},
    ),
]


@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize(("what", "name", "body", "allowed"), WRITES, ids=[w[0] for w in WRITES])
def test_changes_to_someone_elses_objects(org, world, role, what, name, body, allowed):
    pattern = dict(routes())[name]
    url = _url(name, pattern, world)
    response = login(_user(org, role)).post(url, body)
    if role in allowed:
        assert response.status_code in (200, 302, 400), (what, role, response.status_code)
    else:
        assert response.status_code in (403, 404), (what, role, response.status_code)


@pytest.mark.parametrize("role", STAFF)
def test_nobody_revokes_someone_elses_token(org, world, role):
    """csm_b's token: not found for everyone else, on the page and over the API."""
    from rest_framework.test import APIClient

    from csrisk.models import ApiToken

    user = _user(org, role)
    assert login(user).post(f"/tokens/{world['token']}/revoke/").status_code == 404
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens.token_create(user=user, by=None)[1]}")
    assert client.post(f"/api/v1/tokens/{world['token']}/revoke/").status_code == 404
    listed = client.get("/api/v1/tokens/").json()["results"]
    assert {t["id"] for t in listed} == set(
        ApiToken.objects.filter(user=user).values_list("pk", flat=True)
    )
    assert ApiToken.objects.get(pk=world["token"]).revoked_at is None


@pytest.mark.parametrize("role", ROLES)
def test_only_integrations_push_signals(org, world, role):
    """Issue 19: a person's token (or none) may not push a signal onto team B's account."""
    import json

    from rest_framework.test import APIClient

    from signals.models import Signal
    from tests.signals.helpers import ticket

    client = APIClient()
    if role != "anonymous":
        key = tokens.token_create(user=_user(org, role), by=None)[1]
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    body = json.dumps({**ticket("Z-9", world["account"]), "source": "zendesk"})
    response = client.post("/api/v1/signals/", body, content_type="application/json")
    expected = {"anonymous": 401, "integration": 202}.get(role, 403)
    assert response.status_code == expected, response.content
    assert Signal.objects.filter(external_id="Z-9").exists() == (role == "integration")
