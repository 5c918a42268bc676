"""One real run of each integration against a live csrisk server, as a Markdown transcript.

    python scripts/integration_tour.py [--out FILE] [--accounts N]

A fresh database (a temporary SQLite file; or DATABASE_URL, a PostgreSQL database this
drops and creates again: name a scratch one) is migrated and seeded with a small demo book.
The server (``manage.py demo_server``, background work in-process) gets every integration
secret in its environment; a local HTTP receiver catches the outbound webhooks and the
Teams posts (allowed by CSRISK_WEBHOOKS_ALLOW_PRIVATE) and checks their signatures; a real
OpenID Connect provider (oidc-provider-mock) signs a person in. Then each integration sends
what its vendor sends, and the transcript shows the request (secrets elided), the answer,
and what csrisk did, read back from the database or the API. Every step asserts what it
expects; the script exits 1 on the first failure (with the server's log), 0 otherwise.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import requests  # noqa: E402 (a dependency of mozilla-django-oidc)
from _common import free_port, wait_port  # noqa: E402

SECRETS = {
    "ZENDESK_WEBHOOK_SECRET": "tour-zendesk-secret",
    "JIRA_WEBHOOK_SECRET": "tour-jira-secret",
    "CRM_WEBHOOK_SECRET": "tour-crm-secret",
    "HUBSPOT_CLIENT_SECRET": "tour-hubspot-client-secret",
    "SEGMENT_WEBHOOK_SECRET": "tour-segment-secret",
    "OIDC_CLIENT_SECRET": "tour-oidc-secret",
}
KEY_FEATURES = ["Report Exported", "Dashboard Shared"]
JIRA_FIELD = "customfield_10050"
HUBSPOT_COMPANY = "9001"
# Header values that prove or grant something: shown cut short in the transcript.
SECRET_HEADERS = {
    "authorization", "cookie", "x-signature", "x-hub-signature", "x-crm-signature",
    "x-zendesk-webhook-signature", "x-hubspot-signature-v3", "webhook-signature",
}  # fmt: skip


class TourFailed(AssertionError):
    pass


def check(condition: object, what: str) -> None:
    if not condition:
        raise TourFailed(what)


def until(probe: Callable[[], Any], what: str, timeout: float = 45) -> Any:
    """Poll ``probe`` until it returns something truthy (background work is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TourFailed(f"timed out waiting for {what}")
        time.sleep(0.3)


# --- the transcript ----------------------------------------------------------------------


def elide(name: str, value: str) -> str:
    if name.lower() in SECRET_HEADERS and len(value) > 12:
        return value[:10] + "…(elided)"
    return value


def excerpt(body: bytes | str | None, limit: int = 600) -> str:
    if not body:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    with contextlib.suppress(ValueError):
        text = json.dumps(json.loads(text), ensure_ascii=False)
    # A subscription's signing secret in an answer is a secret too.
    text = re.sub(r'("secret": ")([^"]{0,10})[^"]*"', r'\1\2…(elided)"', text)
    return text if len(text) <= limit else text[:limit] + f" … ({len(text)} characters)"


@dataclass
class Transcript:
    lines: list[str] = field(default_factory=list)
    step: int = 0

    def __call__(self, text: str = "") -> None:
        self.lines.append(text)

    def section(self, title: str) -> None:
        self.step += 1
        self(f"\n## {self.step}. {title}\n")

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | str | None,
        status: int,
        answer: bytes | str | None = None,
        *,
        direction: str = "→ csrisk",
    ) -> None:
        shown = ", ".join(
            f"`{k}: {elide(k, v)}`"
            for k, v in headers.items()
            if k.lower() not in ("content-length", "accept-encoding", "connection", "accept")
        )
        self(f"- **{method} {path}** ({direction})" + (f" — {shown}" if shown else ""))
        if body:
            self(f"  - body: `{excerpt(body)}`")
        self(f"  - answer: **{status}**" + (f" `{excerpt(answer, 300)}`" if answer else ""))

    def did(self, text: str) -> None:
        self(f"- csrisk did: {text}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


# --- the local receiver of outbound webhooks and chat posts ------------------------------


class Receiver:
    """Records every POST (path, headers, raw body) and answers 200."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": self.rfile.read(length),
                    }
                )
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def documented_verify() -> Callable[..., bool]:
    """The receiver's signature check exactly as docs/integrations.md shows it."""
    doc = (ROOT / "docs" / "integrations.md").read_text()
    code = doc.split("```python\n", 1)[1].split("```", 1)[0]
    scope: dict[str, Any] = {}
    exec(code, scope)  # our own documentation's example
    return scope["verify"]


# --- processes ---------------------------------------------------------------------------


def fresh_database(tmp: Path) -> tuple[str, str]:
    """(DATABASE_URL, engine): a temporary SQLite file, or DATABASE_URL dropped and created."""
    given = os.environ.get("DATABASE_URL", "")
    if not given.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{tmp / 'tour.sqlite3'}", "SQLite"
    import psycopg2

    parts = urlsplit(given)
    name = parts.path.lstrip("/")
    check(re.fullmatch(r"\w+", name or ""), f"an unusual database name {name!r}")
    admin = psycopg2.connect(given.replace(parts.path, "/postgres", 1))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return given, "PostgreSQL"


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if result.returncode != 0:
        raise TourFailed(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def oidc_provider(log: Path) -> Iterator[str]:
    """oidc-provider-mock on a free port; yields its issuer URL."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        issuer = f"http://127.0.0.1:{port}"
        until(
            lambda: _answers(f"{issuer}/.well-known/openid-configuration"),
            "the OIDC provider",
            timeout=60,
        )
        yield issuer
    finally:
        stop(proc)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.RequestException:
        return False


# --- the tour ----------------------------------------------------------------------------


class Tour:
    def __init__(self, base: str, receiver: Receiver, issuer: str, env: dict[str, str]):
        self.base = base
        self.receiver = receiver
        self.issuer = issuer
        self.env = env
        self.t = Transcript()
        self.http = requests.Session()

    # helpers ---------------------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        *,
        expect: int | tuple[int, ...],
    ) -> requests.Response:
        headers = {"Content-Type": "application/json", **(headers or {})} if body else headers or {}
        response = self.http.request(method, self.base + path, data=body, headers=headers)
        self.t.request(method, path, headers, body, response.status_code, response.content)
        wanted = expect if isinstance(expect, tuple) else (expect,)
        check(
            response.status_code in wanted,
            f"{method} {path}: {response.status_code} {response.text[:500]}",
        )
        return response

    def api(self, path: str, token: str) -> Any:
        response = self.http.get(self.base + path, headers={"Authorization": f"Token {token}"})
        check(response.ok, f"GET {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    # setup (before the server starts: one writer at a time on SQLite) ---------------------

    def setup(self) -> None:
        from accounts.models import Account
        from accounts.services import account_update
        from csrisk import calendars, notifications, tokens
        from csrisk.models import User
        from scorecards.models import Scorecard

        admin = User.objects.get(username="admin")
        bot = User.objects.create(username="tour-bot", role="integration", first_name="Tour")
        self.bot_token = tokens.token_create(user=bot, by=admin, name="tour")[1]
        self.admin_token = tokens.token_create(user=admin, by=admin, name="tour")[1]
        vp = User.objects.get(username="vp")
        self.vp_token = tokens.token_create(user=vp, by=admin, name="tour")[1]
        accounts = list(Account.objects.filter(crm_id__isnull=False).order_by("pk"))
        # The account the inbound integrations speak about, and one that is not red yet
        # (the one the tour turns red).
        self.account = accounts[0]
        account_update(account=self.account, by=admin, hubspot_company_id=HUBSPOT_COMPANY)
        not_red = Scorecard.objects.exclude(color="red").values_list("account_id", flat=True)
        self.target = next(a for a in accounts[1:] if a.pk in set(not_red) and a.owner_id)
        self.owner = self.target.owner
        self.lead = self.owner.team.lead if self.owner.team_id else None
        check(self.lead is not None, f"{self.target.name}'s owner has a team lead")
        notifications.preferences_set(user=self.lead, choices={"cta_flagged": ("off", True)})
        self.lead_token = tokens.token_create(user=self.lead, by=admin, name="tour")[1]
        self.calendar_key = calendars.feed_create(user=self.owner)[1]
        self.csm_email = self.owner.email

    # the steps -------------------------------------------------------------------------

    def sso(self) -> None:
        t = self.t
        t.section("Single sign-on: OpenID Connect (oidc-provider-mock)")
        claims = {"email": "vera@corp.example", "email_verified": True, "groups": ["cs-vp"]}
        requests.put(f"{self.issuer}/users/vera", json=claims, timeout=5).raise_for_status()
        t(f"The provider knows `vera` with claims `{json.dumps(claims)}`; "
          "`OIDC_ROLE_MAP=cs-vp=vp_cs`.")  # fmt: skip
        browser = requests.Session()
        start = browser.get(f"{self.base}/sso/login/", timeout=15)
        for hop in start.history:
            t.request("GET", _path(hop.url), {}, None, hop.status_code,
                      direction="browser")  # fmt: skip
        check(start.url.startswith(f"{self.issuer}/oauth2/authorize"), f"at {start.url}")
        t.request("GET", _path(start.url), {}, None, start.status_code, direction="provider")
        landed = browser.post(start.url, data={"sub": "vera"}, timeout=15)
        t.request("POST", _path(start.url), {}, "sub=vera", landed.history[0].status_code,
                  direction="provider's form")  # fmt: skip
        for hop in landed.history[1:]:
            t.request("GET", _path(hop.url), {}, None, hop.status_code, direction="browser")
        t.request("GET", _path(landed.url), {}, None, landed.status_code, direction="browser")
        check(urlsplit(landed.url).path == "/escalations/", f"landed on {landed.url}")
        from csrisk.models import User

        user = User.objects.get(email="vera@corp.example")
        check(user.role == "vp_cs", f"vera's role is {user.role}")
        t.did(f"created `{user.username}` (role `{user.role}`) just in time and signed her in; "
              "she lands on `/escalations/`, the VP's page.")  # fmt: skip

    def zendesk(self) -> None:
        t = self.t
        t.section("Zendesk: event webhook, HMAC-signed")
        org = self.account.helpdesk_org_id
        now = dt.datetime.now(dt.UTC)
        ticket_id = str(50000 + self.account.pk)
        event = {
            "account_id": 22129848,
            "detail": {
                "id": ticket_id, "organization_id": org, "priority": "LOW", "status": "OPEN",
                "subject": "Exports time out", "type": "INCIDENT", "tags": ["exports"],
                "created_at": _z(now - dt.timedelta(hours=2)), "updated_at": _z(now),
                "requester_id": "8447388090494", "via": {"channel": "web_service"},
            },
            "event": {"current": "OPEN", "previous": "NEW"},
            "id": str(uuid.uuid4()),
            "subject": f"zen:ticket:{ticket_id}",
            "time": _z(now),
            "type": "zen:event-type:ticket.status_changed",
            "zendesk_event_version": "2022-11-06",
        }  # fmt: skip
        body = json.dumps(event).encode()
        stamp = _z(now)
        signature = base64.b64encode(
            hmac.new(SECRETS["ZENDESK_WEBHOOK_SECRET"].encode(), stamp.encode() + body,
                     hashlib.sha256).digest()
        ).decode()  # fmt: skip
        self.send(
            "POST", "/api/v1/webhooks/zendesk/", body,
            {"X-Zendesk-Webhook-Signature": signature,
             "X-Zendesk-Webhook-Signature-Timestamp": stamp},
            expect=(201, 202),
        )  # fmt: skip
        from accounts.models import Ticket

        ticket = until(
            lambda: Ticket.objects.filter(source="zendesk", external_id=ticket_id).first(),
            "the Zendesk ticket",
        )
        check(ticket.account_id == self.account.pk, "the ticket's account")
        t.did(
            f"matched organisation `{org}` to **{self.account.name}** and stored ticket "
            f"{ticket_id} ({ticket.priority}, {ticket.status}) for the support measures."
        )

    def jira(self) -> None:
        t = self.t
        t.section("Jira: issue webhook, X-Hub-Signature")
        now = dt.datetime.now(dt.UTC)
        key = f"ENG-{self.account.pk}"
        issue = {
            "timestamp": int(now.timestamp() * 1000),
            "webhookEvent": "jira:issue_created",
            "issue_event_type_name": "issue_created",
            "user": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Dev"},
            "issue": {"id": "10042", "key": key, "fields": {
                "summary": "CSV export drops rows over 10k",
                "created": now.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                "updated": now.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                "priority": {"name": "High", "id": "2"},
                "status": {"name": "In Progress",
                           "statusCategory": {"key": "indeterminate", "name": "In Progress"}},
                "labels": ["export"], "project": {"key": "ENG", "name": "Engineering"},
                "issuetype": {"name": "Bug"}, "resolutiondate": None,
                JIRA_FIELD: {"value": self.account.crm_id, "id": "10100"},
            }},
        }  # fmt: skip
        body = json.dumps(issue).encode()
        mac = hmac.new(SECRETS["JIRA_WEBHOOK_SECRET"].encode(), body, hashlib.sha256).hexdigest()
        self.send("POST", "/api/v1/webhooks/jira/", body, {"X-Hub-Signature": f"sha256={mac}"},
                  expect=(201, 202))  # fmt: skip
        from accounts.models import Ticket

        ticket = until(
            lambda: Ticket.objects.filter(source="jira", external_id=key).first(), "the Jira issue"
        )
        check(ticket.account_id == self.account.pk, "the issue's account")
        t.did(f"stored {key} as a `{ticket.kind}` ticket of **{self.account.name}** "
              f"(by `{JIRA_FIELD}` = its CRM id), read by the defect measures.")  # fmt: skip

    def crm(self) -> None:
        t = self.t
        t.section("CRM (Salesforce-style): a Contact record, signed")
        record = {
            "attributes": {"type": "Contact"},
            "Id": "0035g00000TOUR1",
            "AccountId": self.account.crm_id,
            "Name": "Dana Boss",
            "Email": "dana@customer.example",
            "Title": "CFO",
            "EmailBouncedReason": "550 5.1.1 The email account does not exist",
            "LastModifiedDate": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        }
        body = json.dumps(record).encode()
        stamp = _z(dt.datetime.now(dt.UTC))
        signature = base64.b64encode(
            hmac.new(SECRETS["CRM_WEBHOOK_SECRET"].encode(), stamp.encode() + body,
                     hashlib.sha256).digest()
        ).decode()  # fmt: skip
        self.send(
            "POST", "/api/v1/webhooks/crm/", body,
            {"X-CRM-Signature": signature, "X-CRM-Signature-Timestamp": stamp},
            expect=(201, 202),
        )  # fmt: skip
        from accounts.models import PeopleChange

        change = until(
            lambda: PeopleChange.objects.filter(source="crm", account=self.account).first(),
            "the CRM people change",
        )
        t.did(f"read the bounced address as Dana Boss **{change.change}** "
              f"{self.account.name} (a people change the company measures read).")  # fmt: skip

    def hubspot(self) -> None:
        t = self.t
        t.section("HubSpot: webhook batch (v3 signature), title change, association removal")
        now_ms = int(time.time() * 1000)

        def event(n: int, kind: str, object_id: int, **fields: Any) -> dict[str, Any]:
            return {"eventId": n, "subscriptionId": 12345, "portalId": 62515, "appId": 54321,
                    "occurredAt": now_ms - 60_000 + n, "subscriptionType": kind,
                    "attemptNumber": 0, "objectId": object_id, "changeSource": "CRM",
                    **fields}  # fmt: skip

        def assoc(n: int, contact: int, removed: bool = False) -> dict[str, Any]:
            return event(n, "contact.associationChange", contact,
                         associationType="CONTACT_TO_COMPANY", fromObjectId=contact,
                         toObjectId=int(HUBSPOT_COMPANY), associationRemoved=removed,
                         isPrimaryAssociation=True)  # fmt: skip

        def title(n: int, contact: int, value: str) -> dict[str, Any]:
            return event(n, "contact.propertyChange", contact, propertyName="jobtitle",
                         propertyValue=value)  # fmt: skip

        def name(n: int, contact: int, prop: str, value: str) -> dict[str, Any]:
            return event(n, "contact.propertyChange", contact, propertyName=prop,
                         propertyValue=value)  # fmt: skip

        def post(batch: list[dict[str, Any]], stamp: int, expect: int | tuple[int, ...]):
            body = json.dumps(batch).encode()
            uri = f"{self.base}/api/v1/webhooks/hubspot/"
            message = b"POST" + uri.encode() + body + str(stamp).encode()
            signature = base64.b64encode(
                hmac.new(SECRETS["HUBSPOT_CLIENT_SECRET"].encode(), message,
                         hashlib.sha256).digest()
            ).decode()  # fmt: skip
            return self.send(
                "POST", "/api/v1/webhooks/hubspot/", body,
                {"X-HubSpot-Signature-v3": signature,
                 "X-HubSpot-Request-Timestamp": str(stamp)},
                expect=expect,
            )  # fmt: skip

        first = [
            assoc(1, 456),
            name(2, 456, "firstname", "Sam"),
            name(3, 456, "lastname", "Rivera"),
            title(4, 456, "Head of Data"),
            title(5, 456, "Senior Manager"),
            assoc(6, 789),
        ]  # fmt: skip
        post(first, now_ms, (201, 202))
        post([assoc(7, 789, removed=True)], now_ms, (201, 202))
        stale = now_ms - 10 * 60 * 1000
        refused = post([title(8, 456, "CTO")], stale, 401)
        check("Stale" in refused.json().get("detail", ""), "the stale batch's reason")
        from accounts.models import Contact, PeopleChange

        def changes() -> list[tuple[str, str]]:
            rows = PeopleChange.objects.filter(source="hubspot", account=self.account)
            return sorted((c.change, c.contact.crm_id if c.contact else "") for c in rows)

        until(lambda: len(changes()) >= 4, "the HubSpot people changes")
        got = changes()
        check(got == sorted([("joined", "456"), ("joined", "789"), ("title_changed", "456"),
                             ("left", "789")]), f"HubSpot changes {got}")  # fmt: skip
        sam = Contact.objects.get(crm_id="456")
        check((sam.name, sam.title) == ("Sam Rivera", "Senior Manager"), f"contact {sam}")
        t.did(f"company {HUBSPOT_COMPANY} is **{self.account.name}**: Sam Rivera (456) joined, "
              "their title went from Head of Data to Senior Manager (a title change), contact "
              "789 joined and then left (association removed); the batch signed 10 minutes "
              "ago was refused (401, a replay).")  # fmt: skip

    def segment(self) -> None:
        t = self.t
        t.section("Segment: track / identify / group calls, X-Signature")
        now = dt.datetime.now(dt.UTC)
        # Calls of last Sunday (inside the de-duplication window): an ended week, whose
        # weekly figure is written at once (a week in progress is written when it ends).
        monday = now.date() - dt.timedelta(days=now.weekday())
        sunday = dt.datetime.combine(monday - dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)
        crm = self.account.crm_id
        calls = [
            {"type": "group", "userId": "u-1", "groupId": crm, "traits": {"plan": "enterprise"}},
            {"type": "group", "userId": "u-2", "groupId": crm},
            {"type": "identify", "userId": "u-1", "traits": {"email": "u1@customer.example"}},
            {"type": "track", "userId": "u-1", "event": "Report Exported",
             "properties": {"format": "csv"}},
            {"type": "track", "userId": "u-2", "event": "Dashboard Shared"},
        ]  # fmt: skip
        for n, call in enumerate(calls):
            call.update(messageId=f"ajs-tour-{n}", timestamp=_z(sunday))
        body = json.dumps(calls).encode()
        secret = SECRETS["SEGMENT_WEBHOOK_SECRET"].encode()
        bad = hmac.new(b"not-the-secret", body, hashlib.sha1).hexdigest()
        self.send("POST", "/api/v1/webhooks/segment/", body, {"X-Signature": bad}, expect=401)
        good = hmac.new(secret, body, hashlib.sha1).hexdigest()
        answer = self.send(
            "POST", "/api/v1/webhooks/segment/", body, {"X-Signature": good}, expect=202
        ).json()
        check(answer["accepted"] == 5, f"Segment answer {answer}")
        from accounts.models import DailyUsage, UsageSnapshot

        day = DailyUsage.objects.get(account=self.account, source="segment")
        week = UsageSnapshot.objects.get(account=self.account, week=monday - dt.timedelta(7))
        check((day.active_users, day.events) == (2, 3), f"daily usage {day}")
        check((week.active_users, week.adoption) == (2, 1.0), f"weekly usage {week}")
        t.did(
            f"rolled the calls up (no row per call): {day.active_users} active users and "
            f"{day.events} events on {day.day} for **{self.account.name}**, and that ended "
            f"week's usage facts for the habits measures: {week.active_users} active users, "
            "key-feature "
            f"adoption {week.adoption:.0%}. The badly signed copy was refused (401)."
        )

    def rest(self) -> None:
        t = self.t
        t.section("REST batch: POST /api/v1/signals/ with an integration token")
        now = _z(dt.datetime.now(dt.UTC))
        ref = {"external_id": self.account.crm_id}
        batch = [
            {"source": "sales-notes", "external_id": "tour-comp-1", "kind": "competitor",
             "account": ref, "occurred_at": now,
             "attributes": {"competitor": "Rivalsoft", "activity": "evaluation"}},
            {"source": "survey", "external_id": "tour-nps-1", "kind": "sentiment",
             "account": ref, "occurred_at": now, "attributes": {"nps": 4, "comment": "Slow"}},
        ]  # fmt: skip
        body = json.dumps(batch).encode()
        auth = {"Authorization": f"Token {self.bot_token}"}
        first = self.send("POST", "/api/v1/signals/", body, auth, expect=(201, 202)).json()
        again = self.send("POST", "/api/v1/signals/", body, auth, expect=(200, 201, 202)).json()
        check(first["accepted"] == 2 and again["duplicates"] == 2, f"{first} / {again}")
        from accounts.models import CompetitorEvent, SentimentResponse

        until(
            lambda: (
                CompetitorEvent.objects.filter(external_id="tour-comp-1").exists()
                and SentimentResponse.objects.filter(external_id="tour-nps-1").exists()
            ),
            "the REST signals' facts",
        )
        t.did(f"stored a competitor evaluation (Rivalsoft) and an NPS of 4 for "
              f"**{self.account.name}**; the resent batch was 2 duplicates, nothing "
              "stored twice.")  # fmt: skip

    def csv_import(self, tmp: Path) -> None:
        t = self.t
        t.section("CSV import: manage.py import_accounts")
        path = tmp / "accounts.csv"
        rows = [
            ["name", "arr", "renewal_date", "crm_id", "segment", "owner_email"],
            ["Tour Imports Ltd", "48000", "2027-06-30", "TOUR-CSV-1", "mid_market",
             self.csm_email],
        ]  # fmt: skip
        # The file a person would upload: plain values, no quoting needed.
        path.write_text("".join(",".join(row) + "\n" for row in rows))
        t(f"- file `accounts.csv`: `{path.read_text().strip().replace(chr(10), ' / ')}`")
        out = manage(self.env, "import_accounts", str(path))
        t("- `python manage.py import_accounts accounts.csv` → exit 0:")
        t("\n```\n" + out.strip().replace(str(path), "accounts.csv") + "\n```\n")
        found = self.api("/api/v1/accounts/?q=Tour%20Imports", self.admin_token)
        names = [a["name"] for a in found["results"]]
        check("Tour Imports Ltd" in names, f"imported account in {names}")
        t.did("created **Tour Imports Ltd** (ARR 48,000, CRM id TOUR-CSV-1, owner "
              f"{self.csm_email}); `GET /api/v1/accounts/?q=Tour Imports` finds it.")  # fmt: skip

    def turn_red(self) -> None:
        t = self.t
        t.section("A flag turns an account red: signed outbound webhook and a Teams card")
        verify = documented_verify()
        auth = {"Authorization": f"Token {self.admin_token}"}
        sub = self.send(
            "POST", "/api/v1/webhook-subscriptions/",
            json.dumps({"name": "Data warehouse", "url": self.receiver.url("/hooks/csrisk"),
                        "events": ["scorecard.color_changed", "cta.flagged"]}).encode(),
            auth, expect=201,
        ).json()  # fmt: skip
        secret = sub["secret"]
        due = (dt.date.today() + dt.timedelta(days=5)).isoformat()
        cta = self.send(
            "POST", "/api/v1/ctas/",
            json.dumps({"account": self.target.pk, "type": "risk", "area": "support",
                        "reason": "Tickets piling up", "owner": self.owner.username,
                        "due_date": due}).encode(),
            auth, expect=201,
        ).json()  # fmt: skip
        self.cta_id = cta["id"]
        self.send(
            "POST", f"/api/v1/ctas/{cta['id']}/flag/",
            json.dumps({"reason": "Need help: the champion stopped answering"}).encode(),
            auth, expect=(200, 201),
        )  # fmt: skip

        def changed() -> dict[str, Any] | None:
            for r in self.receiver.at("/hooks/csrisk"):
                data = json.loads(r["body"])
                d = data.get("data", {})
                if (
                    data.get("type") == "scorecard.color_changed"
                    and d.get("account_id") == self.target.pk
                    and d.get("area") == "overall"
                    and d.get("new") == "red"
                ):
                    return r
            return None

        hook = until(changed, "the scorecard.color_changed delivery")
        check(verify(secret, hook["headers"], hook["body"]), "the webhook's signature")
        t.request("POST", "/hooks/csrisk", hook["headers"], hook["body"], 200,
                  direction="csrisk → the subscriber")  # fmt: skip
        t.did("delivered `scorecard.color_changed` (overall → red) to the subscriber; its "
              "`webhook-signature` verifies with the subscription's secret by the code in "
              "docs/integrations.md.")  # fmt: skip

        def card_about_target() -> dict[str, Any] | None:
            for r in self.receiver.at("/chat/teams"):  # the flag's message, not "New CTA"
                text = r["body"].decode()
                if self.target.name in text and ("flagged" in text or "red" in text):
                    return r
            return None

        card_post = until(card_about_target, f"a Teams post about {self.target.name}")
        card = json.loads(card_post["body"])
        attachment = card["attachments"][0]
        check(attachment["contentType"] == "application/vnd.microsoft.card.adaptive", "card type")
        content = attachment["content"]
        check(content["type"] == "AdaptiveCard" and content.get("actions"), "an Adaptive Card")
        t.request("POST", "/chat/teams", card_post["headers"], card_post["body"], 200,
                  direction="csrisk → Teams Workflows webhook")  # fmt: skip
        link = content["actions"][0]["url"]
        title = content["body"][0]["text"]
        facts = next(b["facts"] for b in content["body"] if b["type"] == "FactSet")
        whom = next(f["value"] for f in facts if f["title"] == "For")
        t.did(
            f"told {whom} in Teams: an Adaptive Card "
            f'"{title}" with its facts and a link to `{_path(link)}`.'
        )
        account = self.api(f"/api/v1/accounts/{self.target.pk}/", self.admin_token)
        overall = account["scorecard"]["overall"]
        check(overall["color"] == "red", f"overall colour {overall}")
        t.did(
            f"`GET /api/v1/accounts/{self.target.pk}/`: **{self.target.name}** is now "
            f"**{overall['color']}** — {overall['reasons'][0] if overall['reasons'] else ''}"
        )

    def calendar(self) -> None:
        import icalendar

        t = self.t
        t.section("Calendar feed: a person's secret .ics address")
        path = f"/calendar/feed/{self.calendar_key}.ics"
        response = self.http.get(self.base + path)
        t.request("GET", path.replace(self.calendar_key, self.calendar_key[:6] + "…(elided)"),
                  {}, None, response.status_code, direction="calendar app")  # fmt: skip
        check(response.status_code == 200, f"feed answered {response.status_code}")
        check(response.headers.get("Content-Type", "").startswith("text/calendar"), "type")
        cal = icalendar.Calendar.from_ical(response.content)
        events = list(cal.walk("VEVENT"))
        uids = [str(e["UID"]) for e in events]
        wanted = f"cta-{self.cta_id}@"
        mine = [e for e in events if str(e["UID"]).startswith(wanted)]
        check(mine, f"the flagged CTA's event ({wanted}…) in {uids}")
        t.did(f"served {len(events)} events for {self.owner.username}, parsed by icalendar; "
              f"the flagged CTA is `{mine[0]['SUMMARY']}` on {mine[0].decoded('DTSTART')} "
              f"(UID `{mine[0]['UID']}`).")  # fmt: skip

    def reads_and_operations(self, server_log: Path) -> None:
        t = self.t
        t.section("What leadership sees, over the API; logs and metrics")
        vp = {"Authorization": f"Token {self.vp_token}"}
        summary = self.send("GET", "/api/v1/summary/", None, vp, expect=200).json()
        total = summary["total"]
        t.did(
            f"`/api/v1/summary/` for `vp`, the page's figures: ${float(total['at_risk']):,.0f} "
            f"of ${float(total['total']):,.0f} ARR red or yellow; blind spots: "
            f"{summary['blind_spots']}; prioritised actions: {summary['actions']}; "
            f"{len(summary['by_segment'])} segments, {len(summary['trend'])} weeks of trend."
        )
        actions = self.send("GET", "/api/v1/summary/actions/?page_size=3", None, vp,
                            expect=200).json()  # fmt: skip
        check(actions["count"] == summary["actions"], f"{actions['count']} actions listed")
        if actions["results"]:
            top = actions["results"][0]
            t.did(f"the first action (rank {top['rank']}): **{top['account_name']}** — "
                  f"{top['sentence']}")  # fmt: skip
        feed = self.send("GET", f"/api/v1/signals/?account={self.account.pk}&source=zendesk",
                         None, {"Authorization": f"Token {self.admin_token}"},
                         expect=200).json()  # fmt: skip
        check(feed["count"] >= 1, f"the Zendesk ticket in the signal feed: {feed}")
        t.did(f"`/api/v1/signals/`: the Zendesk ticket sent above is in the feed "
              f"({feed['count']} signal from zendesk for {self.account.name}).")  # fmt: skip
        lead = {"Authorization": f"Token {self.lead_token}"}
        unread = self.send("GET", "/api/v1/notifications/?unread=true", None, lead,
                           expect=200).json()  # fmt: skip
        flagged = [n for n in unread["results"] if n["kind"] == "cta_flagged"]
        check(flagged, f"the lead's flag notification in {unread['results']}")
        marked = self.send("POST", "/api/v1/notifications/read-all/", None, lead,
                           expect=200).json()  # fmt: skip
        check(marked["unread"] == 0, f"after read-all: {marked}")
        t.did(
            f'`{self.lead.username}`\'s notifications: "{flagged[0]["title"]}" among '
            f"{unread['count']} unread; `read-all` marked {marked['marked']}, 0 left."
        )

        request_id = "tour-4f2a9c"
        response = self.send("GET", "/healthz", None, {"X-Request-ID": request_id}, expect=200)
        check(response.headers.get("X-Request-ID") == request_id, "the request id echoed")

        def logged() -> dict[str, Any] | None:
            for line in server_log.read_text().splitlines():
                if request_id in line and line.startswith("{"):
                    return json.loads(line)
            return None

        line = until(logged, "a JSON log line with the request id", timeout=10)
        t.did(f"logged the request as one JSON line carrying its `X-Request-ID`: "
              f"`{json.dumps(line)[:400]}`")  # fmt: skip
        self.send("GET", "/metrics", None, {}, expect=404)
        scrape = self.send("GET", "/metrics", None,
                           {"Authorization": f"Bearer {self.env['CSRISK_METRICS_TOKEN']}"},
                           expect=200).text  # fmt: skip
        wanted = ("csrisk_signals_ingested_total", "csrisk_http_requests_total",
                  "csrisk_signal_processing_lag_seconds", "csrisk_queue_depth",
                  "csrisk_recompute_duration_seconds_count")  # fmt: skip
        lines = [x for x in scrape.splitlines() if x.startswith(wanted)]
        for name in wanted:
            check(any(x.startswith(name) for x in lines), f"{name} in the scrape")
        check(any('source="zendesk"' in x and 'outcome="accepted"' in x for x in lines),
              "the Zendesk signal counted")  # fmt: skip
        shown = [x for x in lines if x.startswith(wanted[0])]
        shown += [x for x in lines if x.startswith(wanted[2:])]
        shown += [x for x in lines if x.startswith(wanted[1]) and "webhook" in x][:4]
        t.did(
            "`/metrics` is a 404 without the token; with it, among "
            f"{len(scrape.splitlines())} lines:\n\n```\n" + "\n".join(shown) + "\n```"
        )


def _z(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _path(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    path = re.sub(r"(code|state|nonce)=[^&]+", r"\1=…", path)
    return (f"{parts.scheme}://{parts.netloc}" if parts.port else "") + path


def run(out: Path | None, accounts: int) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="csrisk-tour-"))
    server: subprocess.Popen | None = None
    receiver = Receiver()
    log = tmp / "server.log"
    transcript = Transcript()
    try:
        database, engine = fresh_database(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with oidc_provider(tmp / "oidc.log") as issuer:
            env = {
                **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)},
                "DATABASE_URL": database,
                "DEBUG": "1",
                "CSRISK_BASE_URL": base,
                "CSRISK_WEBHOOKS_ALLOW_PRIVATE": "1",
                "CHAT_WEBHOOK_URL": receiver.url("/chat/teams"),
                "CHAT_WEBHOOK_FORMAT": "teams",
                "JIRA_ACCOUNT_FIELD": JIRA_FIELD,
                "CSRISK_USAGE_KEY_FEATURES": ",".join(KEY_FEATURES),
                "OIDC_ISSUER": issuer,
                "OIDC_CLIENT_ID": "csrisk-tour",
                "OIDC_PROVIDER_NAME": "Tour IdP",
                "OIDC_ROLE_MAP": "cs-vp=vp_cs,cs=csm",
                "CSRISK_LOG_FORMAT": "json",
                "CSRISK_METRICS_TOKEN": "tour-metrics-token",
                **SECRETS,
            }
            manage(env, "migrate", "--noinput", "-v0")
            manage(env, "seed_demo", "--accounts", str(accounts), "--months", "3")
            os.environ.update(env)
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csrisk.settings")
            import django

            django.setup()
            from django.db import connection

            tour = Tour(base, receiver, issuer, env)
            transcript = tour.t
            tour.setup()
            connection.close()
            started = time.monotonic()
            with log.open("w") as server_log:
                server = subprocess.Popen(
                    [sys.executable, "manage.py", "demo_server", f"127.0.0.1:{port}"],
                    cwd=ROOT, env=env, stdout=server_log, stderr=subprocess.STDOUT,
                )  # fmt: skip
            wait_port(port, timeout=60)
            transcript(f"# csrisk integration tour, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC\n")
            transcript(
                f"One real run of each integration against a live server (`manage.py "
                f"demo_server`, {engine}, background work in-process) on a fresh demo book "
                f"(`seed_demo --accounts {accounts} --months 3`). Secrets are elided. "
                f"Produced by `python scripts/integration_tour.py`."
            )
            tour.sso()
            tour.zendesk()
            tour.jira()
            tour.crm()
            tour.hubspot()
            tour.segment()
            tour.rest()
            tour.csv_import(tmp)
            tour.turn_red()
            tour.calendar()
            tour.reads_and_operations(log)
            transcript(f"\nAll {transcript.step} steps passed in "
                       f"{time.monotonic() - started:.0f} s.")  # fmt: skip
        status = 0
    except Exception as exc:  # any failure: say which, show the server's log, exit 1
        transcript(f"\n**FAILED**: {exc}\n")
        if not isinstance(exc, TourFailed):
            transcript("```\n" + traceback.format_exc()[-3000:] + "```")
        with contextlib.suppress(OSError):
            transcript("Server log (tail):\n```\n" + log.read_text()[-4000:] + "\n```")
        status = 1
    finally:
        stop(server)
        receiver.close()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        shutil.rmtree(tmp, ignore_errors=True)
    text = transcript.text()
    if out is not None:
        out.write_text(text)
    sys.stdout.write(text)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="also write the transcript to this file")
    parser.add_argument("--accounts", type=int, default=12, help="demo book size (12)")
    args = parser.parse_args(argv)
    return run(args.out, args.accounts)


if __name__ == "__main__":
    sys.exit(main())
