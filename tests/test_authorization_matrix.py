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
from django.core.exceptions import PermissionDenied
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.choices import ImportKind
from accounts.models import ImportJob
from csrisk import clock, tokens
from csrisk.models import Notification
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
        # the bell a page polls: each person's own count
        "notifications-bell": ALL_OK,
        "notification-settings": ALL_OK,
        # each person's own API tokens
        "tokens": ALL_OK,
        "token-revoke-page": post_only,
        # each person's own calendar address (the feed itself: SECRET_ADDRESSES)
        "calendar": ALL_OK,
        "calendar-revoke": post_only,
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
        # one's own counters, polled (a lead's view of a CSM's: tests/csrisk/test_live.py)
        "cockpit:counters": ALL_OK,
        "cockpit:people": ALL_OK,
        # a department's area queue (RACI): only teams that own an area have one
        "cockpit:queue": {**dict.fromkeys(STAFF, 404), "support": "ok"},
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
        # the queue, polled: the same reader as the list
        "escalation:live": ALL_OK,
        "escalation:escalate": post_only,
        "escalation:de-escalate": post_only,
        "escalation:acknowledge": post_only,
        "escalation:resolve": post_only,
        "escalation:suggestion-accept": post_only,
        "escalation:lane-accept": post_only,
        "escalation:lane-dismiss": post_only,
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
        "insights:segments": ALL_OK,
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
        "summary:backtest-run": post_only,
        "summary:action": post_only,
        # each person their book's data coverage; no book, no page
        "coverage:index": {**ALL_OK, "executive": 403, "support": 403},
        "coverage:csv": {**ALL_OK, "executive": 403, "support": 403},
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
    # outbound webhook subscriptions reach outside csrisk: admins (staff) only, and none
    # of these roles is one (tests/csrisk/test_webhooks.py: an admin gets 200)
    "webhook-subscription-list": 403,
    "webhook-subscription-detail": 403,
    "webhook-subscription-deliveries": 403,
    # the signal backtest: leadership only, like the summary; 202 until a run has finished
    "api-backtest": {**dict.fromkeys(STAFF, 403), "vp_cs": 202, "ceo": 202, "executive": 202},
    # a backfill's progress: its sender (an integration too) and the VP and CEO; team B's
    # lead's backfill is not found for anyone else
    "api-backfill": {**dict.fromkeys(STAFF, 404), "vp_cs": "ok", "ceo": "ok", "integration": 404},
    # the executive summary's tables: the summary page's audience
    "api-summary": {**dict.fromkeys(STAFF, 403), "vp_cs": "ok", "ceo": "ok", "executive": "ok"},
    "api-blind-spots": {
        **dict.fromkeys(STAFF, 403),
        "vp_cs": "ok",
        "ceo": "ok",
        "executive": "ok",
    },
    "api-actions": {**dict.fromkeys(STAFF, 403), "vp_cs": "ok", "ceo": "ok", "executive": "ok"},
    # the /signals/segments/ page's tables: everyone who may read pages
    "api-segments": "ok",
    # the /signals/ feed (GET; POST is ingestion, below) and one signal: as their pages
    "api-signals": "ok",
    "api-signal-detail": "ok",
    # each person's own notifications: csm_b's is not found for anyone else
    "notification-list": "ok",
    "notification-detail": 404,
    "notification-read": 405,
    "notification-read-all": 405,
}
# Signal ingestion: the only thing an integration token may do, and only it (issue 19:
# people forged signals). POSTs of an empty object: 400 for the integration, 403 for people.
INGESTION = {
    "api-signals",
    "api-webhook-zendesk",
    "api-webhook-jira",
    "api-webhook-crm",
    "api-webhook-hubspot",
    "api-webhook-segment",
}
SKIPPED = {"login", "logout", "healthz", "readyz", "schema", "api-docs", ""}
# Addresses whose secret key is the credential (a calendar app has no session): a wrong key
# is a 404 for everyone, signed in or not, and no session opens someone else's.
SECRET_ADDRESSES = {"calendar-feed"}
# Single sign-on's way in (docs/sso.md), open to everyone alike: test_single_sign_on.
SSO_ROUTES = {"sso-login", "sso-callback"}
# Prometheus: a bearer token or Django staff, 404 for every role here
# (tests/csrisk/test_metrics.py).
OPERATIONS = {"metrics"}


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
    known = (
        set(pages_matrix()) | set(API_GET) | INGESTION | SSO_ROUTES | SECRET_ADDRESSES | OPERATIONS
    )
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
    from signals.models import Backfill, SignalImport
    from signals.models import Signal as SignalModel
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
        "notification": Notification.objects.create(
            user=org.csm_b, kind="cta", title="For csm_b", created_at=clock.now()
        ).pk,
        "contact": None,
        "playbook": cta.playbook_id or 1,
        "program": Program.objects.get().pk,
        "backfill": Backfill.objects.create(
            via="csv", started_at=clock.now(), created_by=org.lead_b, sender="lead_b's upload"
        ).pk,
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
    "api-backfill": "backfill",
    "token-revoke-page": "token",
    "notification-": "notification",
    "api-signal-detail": "signal",
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
        checks = []
        if name in INGESTION:
            expected = {"anonymous": 401, "integration": 400}.get(role, 403)
            checks.append(("post", expected, client.post(url, {}, format="json")))
        if name in API_GET:  # a path may do both: GET /api/v1/signals/ reads the feed
            by_role = API_GET[name]
            table = {"anonymous": 401, "integration": 403}
            if isinstance(by_role, dict):  # a row may say what the integration gets
                table, by_role = {**table, **by_role}, None
            checks.append(("get", table.get(role, by_role), client.get(url)))
        for method, expected, response in checks:
            try:
                _expect(response, expected)
            except AssertionError:
                got = response.status_code
                failures.append(
                    f"{role} {method.upper()} {url} ({name}): {got}, expected {expected}"
                )
    assert failures == []


@pytest.mark.parametrize("role", ROLES)
def test_a_secret_address_answers_only_its_key(org, world, role, client):
    from csrisk import calendars

    _feed, key = calendars.feed_create(user=org.csm_b)
    session = client if role in ("anonymous",) else login(_user(org, role))
    for name, pattern in routes():
        if name not in SECRET_ADDRESSES:
            continue
        wrong = "/" + pattern.replace("<str:key>", "x" * 43)
        assert session.get(wrong).status_code == 404, (role, name)
        right = "/" + pattern.replace("<str:key>", key)
        assert session.get(right).status_code == 200, (role, name)  # whoever holds the key


@pytest.mark.parametrize("role", ROLES)
def test_single_sign_on(org, role, settings, monkeypatch, client):
    """404 while SSO is off; on, the start sends anyone to the provider, a callback this
    browser did not start is a 400 for every role alike, and a POST is a 405."""
    from csrisk import sso

    session = client if role == "anonymous" else login(_user(org, role))
    urls = {name: "/" + pattern for name, pattern in routes() if name in SSO_ROUTES}
    assert set(urls) == SSO_ROUTES
    for url in urls.values():
        assert session.get(url).status_code == 404, url
    settings.OIDC_ISSUER, settings.OIDC_CLIENT_ID = "https://idp.example", "csrisk"
    monkeypatch.setattr(
        sso,
        "provider_metadata",
        lambda: {
            "issuer": "https://idp.example",
            "authorization_endpoint": "https://idp.example/authorize",
            "token_endpoint": "https://idp.example/token",
            "jwks_uri": "https://idp.example/jwks",
        },
    )
    start = session.get(urls["sso-login"])
    assert start.status_code == 302
    assert start["Location"].startswith("https://idp.example/authorize?")
    assert session.get(urls["sso-callback"] + "?code=c&state=forged").status_code == 400
    for url in urls.values():
        assert session.post(url).status_code == 405, url


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


# --- Roles hold (issue 19) -------------------------------------------------------------------
# Each rule has one home (ctas.rules.can_assign, accounts.rules.can_move_account,
# signals.services.org_match, scorecards.colour_rule.held_red, escalation's raised_by_roles);
# these rows say who may, on every path that writes it: the API, the HTML form, the service.

PEOPLE = ["csm", "team_lead", "vp_cs", "ceo"]
ORG_WIDE = {"vp_cs", "ceo"}


def _person(org, name: str):
    return {
        "ceo": org.ceo,
        "csm_b": org.csm_b,
        "csm_a2": org.csm_a2,
    }[name]


@pytest.mark.parametrize("role", PEOPLE)
@pytest.mark.parametrize("owner", ["ceo", "csm_b", "csm_a2"])
def test_a_new_ctas_owner_obeys_the_assignment_rule(org, role, owner):
    """A CSM or lead gives a new CTA on their account to their own team; VP/CEO to anyone."""
    from rest_framework.test import APIClient

    from ctas.models import Cta

    account = AccountFactory(owner=org.csm_a, name="Team A Co")
    client = APIClient()
    client.force_authenticate(_user(org, role))
    response = client.post(
        "/api/v1/ctas/",
        {"account": account.pk, "area": "habits", "reason": "Usage", "owner": owner},
        format="json",
    )
    allowed = role in ORG_WIDE or owner == "csm_a2"
    if allowed:
        assert response.status_code == 201, response.content
        assert response.json()["owner"] == owner
    else:
        assert response.status_code == 403, (role, owner, response.content)
        assert "detail" in response.json()
        assert not Cta.objects.filter(account=account).exists()


@pytest.mark.parametrize("role", PEOPLE)
@pytest.mark.parametrize("owner", ["ceo", "csm_b", "csm_a2"])
def test_reassigning_a_cta_obeys_the_same_rule_on_api_and_cockpit(org, role, owner):
    from rest_framework.test import APIClient

    account = AccountFactory(owner=org.csm_a, name="Team A Co")
    allowed = role in ORG_WIDE or owner == "csm_a2"
    new_owner = _person(org, owner)
    # the API
    cta = ctas.cta_create(account=account, by=org.csm_a, reason="Usage", area="habits")
    client = APIClient()
    client.force_authenticate(_user(org, role))
    response = client.patch(f"/api/v1/ctas/{cta.pk}/", {"owner": owner}, format="json")
    assert response.status_code == (200 if allowed else 403), (role, owner, response.content)
    cta.refresh_from_db()
    assert cta.owner == (new_owner if allowed else org.csm_a)
    # the cockpit's in-place reassign (htmx)
    cta = ctas.cta_create(account=account, by=org.csm_a, reason="Renewal", area="habits")
    response = login(_user(org, role)).post(
        f"/cockpit/ctas/{cta.pk}/reassign/", {"owner": new_owner.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == (200 if allowed else 400), (role, owner)
    cta.refresh_from_db()
    assert cta.owner == (new_owner if allowed else org.csm_a)


def test_a_cta_due_in_the_past_is_refused_on_api_and_form(org):
    from rest_framework.test import APIClient

    from ctas.models import Cta

    account = AccountFactory(owner=org.csm_a, name="Team A Co")
    yesterday = (clock.today() - dt.timedelta(days=1)).isoformat()
    client = APIClient()
    client.force_authenticate(org.csm_a)
    body = {"account": account.pk, "area": "habits", "reason": "Usage", "due_date": yesterday}
    response = client.post("/api/v1/ctas/", body, format="json")
    assert response.status_code == 400, response.content
    assert "past" in " ".join(response.json()["due_date"])
    response = login(org.csm_a).post(
        f"/cockpit/accounts/{account.pk}/open/",
        {"type": "risk", "area": "habits", "reason": "Usage", "priority": "medium",
         "due_date": yesterday},
        follow=True,
    )  # fmt: skip
    assert "past" in response.content.decode()
    assert not Cta.objects.filter(account=account).exists()
    # today is fine
    body["due_date"] = clock.today().isoformat()
    assert client.post("/api/v1/ctas/", body, format="json").status_code == 201


def _team_c(org):
    """A third CS team, led by lead_a too (a lead who leads two teams)."""
    from tests.factories import TeamFactory

    return TeamFactory(name="CS C", lead=org.lead_a)


@pytest.mark.parametrize("role", PEOPLE)
def test_only_leads_of_both_teams_and_the_vp_and_ceo_move_an_account(org, role):
    """PATCH {"team": …}: a CSM never; a lead from a team they lead to a team they lead
    (even on an account they own themselves); the VP and the CEO anywhere."""
    from rest_framework.test import APIClient

    from csrisk.models import AuditEntry

    team_c = _team_c(org)
    user = _user(org, role)
    # an account this person may change: the CSM's own, else one the lead owns in team A
    owner = org.csm_a if role == "csm" else org.lead_a
    client = APIClient()
    client.force_authenticate(user)
    to_b = AccountFactory(owner=owner, team=org.team_a)
    response = client.patch(f"/api/v1/accounts/{to_b.pk}/", {"team": org.team_b.pk}, format="json")
    assert response.status_code == (200 if role in ORG_WIDE else 403), (role, response.content)
    to_b.refresh_from_db()
    assert to_b.team == (org.team_b if role in ORG_WIDE else org.team_a)
    moved = AuditEntry.objects.filter(action="account.updated", target_id=to_b.pk, actor=user)
    assert moved.exists() == (role in ORG_WIDE)  # who moved it, from which team to which
    to_c = AccountFactory(owner=owner, team=org.team_a)
    response = client.patch(f"/api/v1/accounts/{to_c.pk}/", {"team": team_c.pk}, format="json")
    assert response.status_code == (403 if role == "csm" else 200), (role, response.content)


@pytest.mark.parametrize("role", PEOPLE)
def test_a_new_account_lands_in_the_creators_reach(org, role):
    from rest_framework.test import APIClient

    from accounts.models import Account

    client = APIClient()
    client.force_authenticate(_user(org, role))
    response = client.post(
        "/api/v1/accounts/",
        {"name": "Elsewhere Co", "arr": "1000.00", "owner": _user(org, role).username
         if role in ("csm", "team_lead") else "csm_a", "team": org.team_b.pk},
        format="json",
    )  # fmt: skip
    assert response.status_code == (201 if role in ORG_WIDE else 403), (role, response.content)
    assert Account.objects.filter(name="Elsewhere Co").exists() == (role in ORG_WIDE)


@pytest.mark.parametrize("role", PEOPLE)
def test_the_edit_form_offers_only_teams_one_may_move_to(org, role):
    team_c = _team_c(org)
    account = AccountFactory(owner=org.csm_a, team=org.team_a)
    session = login(_user(org, role))
    form = session.get(f"/accounts/{account.pk}/edit/").context["form"]
    assert "team" in form.fields
    offered = set(form.fields["team"].queryset)
    if role == "csm":
        assert form.fields["team"].disabled
    elif role == "team_lead":
        assert offered == {org.team_a, team_c}
    else:
        assert {org.team_a, org.team_b, team_c} <= offered
    data = {
        "name": account.name, "arr": "50000.00", "currency": "USD", "segment": account.segment,
        "tier": account.tier, "lifecycle_stage": account.lifecycle_stage,
        "owner": account.owner_id, "crm_id": account.crm_id, "team": org.team_b.pk,
    }  # fmt: skip
    response = session.post(f"/accounts/{account.pk}/edit/", data)
    account.refresh_from_db()
    assert account.team == (org.team_b if role in ORG_WIDE else org.team_a), role
    if role == "team_lead":
        assert response.status_code == 400
    data["team"] = team_c.pk
    session.post(f"/accounts/{account.pk}/edit/", data)
    account.refresh_from_db()
    assert (account.team == team_c) == (role != "csm"), role


def test_a_csv_import_moves_no_account_out_of_the_leads_teams(org):
    from accounts import services as accounts

    _team_c(org)
    mine = AccountFactory(owner=org.lead_a, team=org.team_a, crm_id="MINE-1", name="Mine")
    theirs = AccountFactory(owner=org.csm_a, team=org.team_a, crm_id="A-9", name="Theirs")
    content = (
        "name,crm_id,arr,team,owner_email\n"
        f"{mine.name},MINE-1,1000,CS B,\n"
        f"{theirs.name},A-9,1000,CS C,\n"
        f"New One,NEW-1,1000,CS B,{org.lead_a.username}\n"
    ).encode()
    job = accounts.import_job_create(by=org.lead_a, filename="t.csv", content=content)
    errors = {(e["row"], e["reason"]) for e in job.errors}
    assert job.status == "invalid", job.errors
    rows = sorted(row for row, _ in errors)
    assert rows == [2, 4], job.errors  # row 3 moves A → C, both led by lead_a: fine
    assert all("team" in message for _, message in errors), errors
    # the VP moves anything
    job = accounts.import_job_create(by=org.vp, filename="t.csv", content=content)
    assert job.status == "previewed", job.errors


@pytest.mark.parametrize("role", PEOPLE)
def test_an_organisation_alias_is_remapped_only_with_rights_on_both_accounts(org, role):
    from signals import services as signals
    from signals.models import OrgAlias

    account_b = AccountFactory(owner=org.csm_b, name="Beta", crm_id="B-7")
    target = AccountFactory(owner=org.csm_a, name="Alpha", crm_id="A-7")
    signals.org_match(source="helpdesk", org_ref="org-42", account=account_b, by=org.csm_b)
    response = login(_user(org, role)).post(
        "/signals/unmatched/match/",
        {"source": "helpdesk", "org_ref": "org-42", "account": "A-7"},
        follow=True,
    )
    alias = OrgAlias.objects.get(source="helpdesk", org_ref="org-42")
    if role in ORG_WIDE:
        assert alias.account == target
    else:
        assert alias.account == account_b, role
        assert "organisation" in response.content.decode()
    # nor can the people of its current account send it out of their reach
    with pytest.raises(PermissionDenied):
        signals.org_match(source="helpdesk", org_ref="org-42", account=target, by=org.lead_b)


def _flagged(org, account, area: str = "habits"):
    cta = ctas.cta_create(account=account, by=org.csm_a, reason="Usage", area=area)
    return ctas.cta_flag(cta=cta, by=org.csm_a, reason="Need help")


@pytest.mark.parametrize("role", PEOPLE)
def test_an_override_does_not_turn_a_flagged_area_below_red(org, role):
    from rest_framework.test import APIClient

    from scorecards.models import AreaScore, Override

    account = AccountFactory(owner=org.csm_a, name="Team A Co")
    _flagged(org, account)
    client = APIClient()
    client.force_authenticate(_user(org, role))
    until = (clock.now() + dt.timedelta(days=30)).isoformat()
    for color in ("green", "yellow"):
        response = client.post(
            f"/api/v1/scorecards/{account.pk}/override/",
            {"area": "habits", "color": color, "reason": "All fine", "expires_at": until},
            format="json",
        )
        assert response.status_code == 400, (role, color, response.content)
        assert "flag" in str(response.json()), response.content
    response = login(_user(org, role)).post(
        f"/scorecards/accounts/{account.pk}/override/",
        {"area": "habits", "color": "green", "reason": "All fine",
         "expires_at": (clock.today() + dt.timedelta(days=30)).isoformat()},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert response.status_code == 400 and "flag" in response.content.decode()
    assert not Override.objects.filter(account=account).exists()
    assert AreaScore.objects.get(account=account, area="habits").color == "red"
    # another area, not flagged: overrides work as before
    response = client.post(
        f"/api/v1/scorecards/{account.pk}/override/",
        {"area": "sentiment", "color": "green", "reason": "Fine", "expires_at": until},
        format="json",
    )
    assert response.status_code == 201


def test_a_flag_outranks_an_override_set_before_it(org):
    from scorecards import services as scorecards
    from scorecards.models import AreaScore

    account = AccountFactory(owner=org.csm_a, name="Team A Co")
    scorecards.override_set(
        account=account,
        area="habits",
        color="green",
        reason="Fine",
        expires_at=clock.now() + dt.timedelta(days=30),
        by=org.csm_a,
    )
    assert AreaScore.objects.get(account=account, area="habits").color == "green"
    cta = _flagged(org, account)
    assert AreaScore.objects.get(account=account, area="habits").color == "red"
    ctas.cta_unflag(cta=cta, by=org.csm_a)
    assert AreaScore.objects.get(account=account, area="habits").color == "green"


@pytest.mark.parametrize("role", PEOPLE)
def test_level_two_is_raised_by_a_team_lead_or_above_by_default(org, role):
    from rest_framework.test import APIClient

    account = AccountFactory(owner=org.csm_a, name="Team A Co")
    escalation = Escalation.objects.get(cta=_flagged(org, account))
    client = APIClient()
    client.force_authenticate(_user(org, role))
    response = client.post(
        f"/api/v1/escalations/{escalation.pk}/escalate/",
        {"level": 2, "reason": "VP please"},
        format="json",
    )
    assert response.status_code == (403 if role == "csm" else 200), (role, response.content)
    escalation.refresh_from_db()
    assert escalation.level == (1 if role == "csm" else 2)


def test_level_two_can_be_opened_to_csms_by_configuration(org):
    from escalation.models import EscalationLevel

    level = EscalationLevel.objects.get(level=2)
    level.raised_by_roles = [*level.raised_by_roles, "csm"]
    level.save()
    account = AccountFactory(owner=org.csm_a, name="Team A Co")
    escalation = Escalation.objects.get(cta=_flagged(org, account))
    response = login(org.csm_a).post(
        f"/escalations/{escalation.pk}/escalate/", {"level": "2", "reason": "VP please"}
    )
    assert response.status_code in (200, 302)
    escalation.refresh_from_db()
    assert escalation.level == 2


def test_a_new_task_is_given_by_the_same_rule(org):
    account = AccountFactory(owner=org.csm_a, name="Team A Co")
    cta = ctas.cta_create(account=account, by=org.csm_a, reason="Usage", area="habits")
    with pytest.raises(PermissionDenied):
        ctas.task_add(cta=cta, by=org.csm_a, title="Call them", owner=org.csm_b)
    assert ctas.task_add(cta=cta, by=org.csm_a, title="Call", owner=org.csm_a2).owner == org.csm_a2


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


def test_the_metrics_are_not_found_by_any_role_without_staff_or_the_token(org):
    for role, user in {**org.by_role(), "integration": org.integration}.items():
        assert login(user).get("/metrics").status_code == 404, role
