"""Outbound webhooks: subscriptions (admin-only, audited), the events they carry, the
Standard Webhooks signature, retries with backoff, the delivery log and its manual retry,
and the SSRF guard (private addresses refused when subscribing and again at send time).

A real HTTP receiver runs on a thread of the test process; DNS (outside the process) is
replaced where a test needs a host to resolve to a given address."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from csrisk import clock, events, netguard, webhooks
from csrisk.models import AuditEntry, WebhookDelivery, WebhookSubscription
from csrisk.tasks import deliver_webhook_task, sweep_webhooks_task
from ctas import services as ctas
from escalation import services as escalation
from escalation.models import Escalation
from tests.conftest import api, login
from tests.factories import AccountFactory


class Receiver:
    """A local webhook receiver: records each request, answers from a script."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": self.rfile.read(length).decode(),
                    }
                )
                status, headers = receiver.answers.pop(0) if receiver.answers else (200, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/csrisk"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    settings.CSRISK_WEBHOOKS_ALLOW_PRIVATE = True  # the receiver is on localhost
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _documented_verify():
    """The receiver's check exactly as docs/integrations.md shows it."""
    doc = (Path(__file__).parents[2] / "docs" / "integrations.md").read_text()
    code = doc.split("```python\n", 1)[1].split("```", 1)[0]
    scope: dict = {}
    exec(code, scope)
    return scope["verify"]


_verify = _documented_verify()


def verify(secret: str, headers: dict[str, str], body: str) -> bool:
    return _verify(secret, headers, body.encode())


def subscribe(url: str, *names: str, by=None) -> WebhookSubscription:
    return webhooks.subscription_create(by=by, name="CRM", url=url, events=names or webhooks.EVENTS)


def resolving_to(*addresses: str):
    return mock.patch("csrisk.netguard.resolve", return_value=list(addresses))


# --- the signature -------------------------------------------------------------------------


def test_it_signs_the_standard_webhooks_way():
    """The example of the Standard Webhooks specification (and its libraries' tests)."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    signature = webhooks.sign(
        secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}'
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


# --- delivery -----------------------------------------------------------------------------


def test_it_delivers_a_flag_signed_after_the_commit(
    org, account_a, receiver, django_capture_on_commit_callbacks
):
    sub = subscribe(receiver.url, "cta.flagged", "escalation.raised", by=org.admin)
    cta = ctas.cta_create(account=account_a, by=org.csm_a, reason="Usage", area="habits")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ctas.cta_flag(cta=cta, by=org.csm_a, reason="Need help")
    assert receiver.requests == []  # nothing leaves before the commit
    assert WebhookDelivery.objects.filter(status="pending").count() == 2
    for callback in callbacks:
        callback()
    got = {json.loads(r["body"])["type"]: r for r in receiver.requests}
    assert set(got) == {"cta.flagged", "escalation.raised"}
    flagged = got["cta.flagged"]
    assert verify(sub.secret, flagged["headers"], flagged["body"])
    assert not verify(webhooks.secret_new(), flagged["headers"], flagged["body"])
    body = json.loads(flagged["body"])
    assert body["data"] == {
        "cta_id": cta.pk, "account_id": account_a.pk, "area": "habits",
        "by_id": org.csm_a.pk, "reason": "Need help",
    }  # fmt: skip
    raised = json.loads(got["escalation.raised"]["body"])["data"]
    assert (raised["step"], raised["level"], raised["cta_id"]) == ("opened", 1, cta.pk)
    assert abs(int(flagged["headers"]["webhook-timestamp"]) - clock.now().timestamp()) < 60
    delivery = WebhookDelivery.objects.get(event="cta.flagged")
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 1, 200)
    assert flagged["headers"]["webhook-id"] == delivery.message_id
    assert deliver_webhook_task(delivery.pk) == "skipped"  # run twice, sent once
    assert len(receiver.requests) == 2


def test_a_rolled_back_flag_sends_nothing(org, account_a, receiver):
    subscribe(receiver.url)
    cta = ctas.cta_create(account=account_a, by=org.csm_a, reason="Usage", area="habits")
    with pytest.raises(RuntimeError), transaction.atomic():
        ctas.cta_flag(cta=cta, by=org.csm_a, reason="Need help")
        raise RuntimeError("the request failed after the flag")
    assert not WebhookDelivery.objects.exists()
    assert receiver.requests == []


def test_every_event_is_hooked_from_the_domain_events(
    org, account_a, receiver, django_capture_on_commit_callbacks
):
    subscribe(receiver.url)
    cta = ctas.cta_create(account=account_a, by=org.csm_a, reason="Usage", area="habits")
    with django_capture_on_commit_callbacks(execute=True):
        ctas.cta_flag(cta=cta, by=org.csm_a, reason="Need help")
    with django_capture_on_commit_callbacks(execute=True):
        escalation.escalation_resolve(
            escalation=Escalation.objects.get(cta=cta), by=org.csm_a, reason="Fixed"
        )
    with django_capture_on_commit_callbacks(execute=True):
        events.emit(
            events.risk_changed,
            changes=[{"account_id": account_a.pk, "old_band": "low", "new_band": "high",
                      "old_probability": 0.05, "probability": 0.4, "expected_loss": "20.00"}],
            model_id=1,
            at=clock.now(),
        )  # fmt: skip
    _log_a_checkin(org, django_capture_on_commit_callbacks)
    sent = [json.loads(r["body"]) for r in receiver.requests]
    kinds = {b["type"] for b in sent}
    assert kinds == set(webhooks.EVENTS), kinds
    color = next(b for b in sent if b["type"] == "scorecard.color_changed")["data"]
    assert color["account_id"] == account_a.pk and color["new"] == "red"
    resolved = next(b for b in sent if b["type"] == "escalation.resolved")["data"]
    assert resolved["reason"] == "Fixed"
    checkin = next(b for b in sent if b["type"] == "sponsor.checkin_logged")["data"]
    assert (checkin["sentiment"], checkin["risks_found"]) == ("negative", 1)


def test_a_recomputes_colour_changes_become_deliveries_together(
    org, account_a, receiver, django_capture_on_commit_callbacks
):
    """One read of the subscribers and one insert for a whole batch of colour changes."""
    subscribe(receiver.url, "scorecard.color_changed")
    changes = [
        {"account_id": account_a.pk, "area": area, "old": "green", "new": "yellow",
         "at": clock.now(), "cause": "recompute", "reason": f"{area} slipped"}
        for area in ("habits", "support", "overall")
    ]  # fmt: skip
    with (
        mock.patch("csrisk.webhooks.publish_many", wraps=webhooks.publish_many) as publish,
        django_capture_on_commit_callbacks(execute=True),
    ):
        events.emit_all_on_commit(events.color_changed, changes)
    assert publish.call_count == 1 and len(publish.call_args.args[1]) == 3
    sent = sorted(json.loads(r["body"])["data"]["area"] for r in receiver.requests)
    assert sent == ["habits", "overall", "support"]


def test_a_backfills_colour_changes_are_history_not_webhooks(
    org, account_a, receiver, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, "scorecard.color_changed")
    change = {"account_id": account_a.pk, "area": "habits", "old": "green", "new": "red",
              "at": clock.now(), "cause": events.BACKFILL, "reason": "past tickets"}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        events.emit_all_on_commit(events.color_changed, [change])
    assert not WebhookDelivery.objects.exists() and receiver.requests == []


def _log_a_checkin(org, capture) -> None:
    from sponsors import services as sponsors
    from sponsors.models import CheckIn, Program

    today = clock.today()
    Program.objects.create(
        name="Now", starts_on=today - dt.timedelta(days=10), ends_on=today + dt.timedelta(days=170)
    )
    account = AccountFactory(owner=org.csm_b, tier="strategic", arr=Decimal("500000"))
    sponsors.sponsorship_assign(account=account, sponsor=org.executive, by=org.vp)
    sponsors.checkins_create_due()
    with capture(execute=True):
        sponsors.checkin_log(
            checkin=CheckIn.objects.get(),
            by=org.executive,
            notes="COO unhappy",
            sentiment="negative",
            risks=[{"area": "product", "description": "Evaluating a rival"}],
        )


def test_a_new_risk_band_is_a_risk_changed_event(org, account_a):
    """The scoring emits risk_changed where a band moved (not for a first prediction)."""
    from insights.models import RiskPrediction
    from insights.risk.services import risk_score

    seen: list[dict] = []

    def listen(sender, **event):
        seen.extend(event["changes"])

    events.risk_changed.connect(listen, dispatch_uid="test-risk-changed")
    try:
        risk_score([account_a.pk])
        assert seen == []  # a first prediction is not news
        RiskPrediction.objects.filter(account=account_a, latest=True).update(band="unknown")
        risk_score([account_a.pk])
    finally:
        events.risk_changed.disconnect(dispatch_uid="test-risk-changed")
    latest = RiskPrediction.objects.get(account=account_a, latest=True)
    assert seen == [
        {"account_id": account_a.pk, "old_band": "unknown", "new_band": latest.band,
         "old_probability": latest.probability, "probability": latest.probability,
         "expected_loss": f"{latest.expected_loss:.2f}"},
    ]  # fmt: skip


def test_a_failing_receiver_is_retried_with_backoff_then_given_up(
    org, account_a, receiver, settings, django_capture_on_commit_callbacks
):
    settings.CSRISK_WEBHOOKS_MAX_ATTEMPTS = 3
    settings.CSRISK_WEBHOOKS_BACKOFF_SECONDS = 30
    subscribe(receiver.url, "cta.flagged")
    receiver.answers = [(500, {}), (503, {}), (500, {})]
    start = clock.now()
    with clock.frozen(start):
        cta = ctas.cta_create(account=account_a, by=org.csm_a, reason="Usage", area="habits")
        ctas.cta_flag(cta=cta, by=org.csm_a, reason="Need help")
        delivery = WebhookDelivery.objects.get()
        webhooks.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at == start + dt.timedelta(seconds=30)
    assert "HTTP 500" in delivery.last_error
    with clock.frozen(start + dt.timedelta(seconds=29)):
        assert sweep_webhooks_task() == 0  # not due yet
    with clock.frozen(start + dt.timedelta(seconds=31)):
        assert sweep_webhooks_task() == 1
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.response_code) == (2, 503)
    assert delivery.next_attempt_at == start + dt.timedelta(seconds=31 + 60)  # doubled
    with clock.frozen(start + dt.timedelta(seconds=100)):
        sweep_webhooks_task()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 3, None)
    assert len(receiver.requests) == 3
    # the admin's retry: a new round of attempts, audited, sent at once
    with (
        clock.frozen(start + dt.timedelta(seconds=200)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = login(org.admin).post(
            "/admin/csrisk/webhookdelivery/",
            {"action": "retry", "_selected_action": [delivery.pk]},
        )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 4, 200)
    assert AuditEntry.objects.filter(action="webhook.delivery_retried", actor=org.admin).exists()


def test_a_redirect_is_not_followed(org, account_a, receiver):
    subscribe(receiver.url, "cta.flagged")
    receiver.answers = [(302, {"Location": f"http://127.0.0.1:{receiver.port}/elsewhere"})]
    cta = ctas.cta_create(account=account_a, by=org.csm_a, reason="Usage", area="habits")
    ctas.cta_flag(cta=cta, by=org.csm_a, reason="Need help")
    webhooks.deliver(WebhookDelivery.objects.get().pk)
    assert [r["path"] for r in receiver.requests] == ["/hooks/csrisk"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.response_code == 302 and "not followed" in delivery.last_error


def test_an_unreachable_receiver_is_a_failed_attempt_not_an_error(
    org, account_a, settings, django_capture_on_commit_callbacks
):
    settings.CSRISK_WEBHOOKS_ALLOW_PRIVATE = True
    subscribe("http://127.0.0.1:9/nothing-listens", "cta.flagged")
    cta = ctas.cta_create(account=account_a, by=org.csm_a, reason="Usage", area="habits")
    with django_capture_on_commit_callbacks(execute=True):
        ctas.cta_flag(cta=cta, by=org.csm_a, reason="Need help")  # the action is not broken
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in delivery.last_error


# --- SSRF ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.5", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "fe80::1", "fc00::1",
        "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::",
    ],
)  # fmt: skip
def test_it_refuses_a_host_that_resolves_to_a_non_public_address(db, address):
    with resolving_to(address), pytest.raises(ValidationError) as caught:
        subscribe("https://hooks.example.com/in")
    assert address.split("%")[0] in str(caught.value)
    assert not WebhookSubscription.objects.exists()


def test_it_refuses_when_any_one_address_is_private(db):
    with resolving_to("93.184.215.14", "10.0.0.7"), pytest.raises(ValidationError):
        subscribe("https://hooks.example.com/in")
    with resolving_to("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"):
        assert subscribe("https://hooks.example.com/in").pk


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example.com/", "file:///etc/passwd", "https://user:pw@hooks.example.com/"]
)
def test_it_refuses_other_schemes_and_credentials_in_the_url(db, url):
    with resolving_to("93.184.215.14"), pytest.raises(ValidationError):
        subscribe(url)


def test_it_checks_again_at_send_time_against_dns_rebinding(
    org, account_a, receiver, settings, django_capture_on_commit_callbacks
):
    settings.CSRISK_WEBHOOKS_ALLOW_PRIVATE = False
    url = f"http://hooks.example.com:{receiver.port}/hooks/csrisk"
    with resolving_to("93.184.215.14"):
        subscribe(url, "cta.flagged")
    cta = ctas.cta_create(account=account_a, by=org.csm_a, reason="Usage", area="habits")
    with resolving_to("127.0.0.1"), django_capture_on_commit_callbacks(execute=True):
        ctas.cta_flag(cta=cta, by=org.csm_a, reason="Need help")  # the record points inside
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.last_error.startswith("Refused")
    assert receiver.requests == []  # never connected


def test_it_connects_to_the_address_it_checked(
    org, account_a, receiver, django_capture_on_commit_callbacks
):
    """The Host header is the URL's host, the connection goes to the vetted address."""
    url = f"http://hooks.example.com:{receiver.port}/hooks/csrisk"
    with resolving_to("127.0.0.1"), django_capture_on_commit_callbacks(execute=True):
        subscribe(url, "cta.flagged")
        cta = ctas.cta_create(account=account_a, by=org.csm_a, reason="Usage", area="habits")
        ctas.cta_flag(cta=cta, by=org.csm_a, reason="Need help")
    assert receiver.requests[0]["headers"]["host"] == f"hooks.example.com:{receiver.port}"
    assert WebhookDelivery.objects.get().status == "delivered"


def test_is_public_knows_the_special_ranges():
    assert netguard.is_public("93.184.215.14")
    assert netguard.is_public("2606:4700::1111")
    for address in ("127.0.0.2", "192.0.2.1", "198.18.0.1", "::ffff:192.168.0.1", "2001:db8::1"):
        assert not netguard.is_public(address), address


# --- the API and the admin -----------------------------------------------------------------


def test_an_admin_manages_subscriptions_over_the_api_and_it_is_audited(org, receiver):
    client = api(org.admin)
    response = client.post(
        "/api/v1/webhook-subscriptions/",
        {"name": "CRM", "url": receiver.url, "events": ["cta.flagged", "risk.changed"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_") and body["created_by"] == "admin"
    sub = WebhookSubscription.objects.get()
    entry = AuditEntry.objects.get(action="webhook.subscription_created")
    assert (entry.actor, entry.target_id) == (org.admin, sub.pk)
    response = client.patch(
        f"/api/v1/webhook-subscriptions/{sub.pk}/", {"active": False}, format="json"
    )
    assert response.status_code == 200 and response.json()["active"] is False
    assert AuditEntry.objects.filter(action="webhook.subscription_changed").exists()
    assert client.get(f"/api/v1/webhook-subscriptions/{sub.pk}/deliveries/").json() == []
    assert client.delete(f"/api/v1/webhook-subscriptions/{sub.pk}/").status_code == 204
    assert AuditEntry.objects.filter(action="webhook.subscription_deleted").exists()


def test_the_api_refuses_bad_subscriptions_with_a_reason(org, settings):
    client = api(org.admin)
    bad_event = {"name": "x", "url": "https://hooks.example.com/", "events": ["cta.eaten"]}
    with resolving_to("93.184.215.14"):
        response = client.post("/api/v1/webhook-subscriptions/", bad_event, format="json")
    assert response.status_code == 400 and "events" in response.json()
    inside = {"name": "x", "url": "http://metadata.internal/", "events": ["cta.flagged"]}
    with resolving_to("169.254.169.254"):
        response = client.post("/api/v1/webhook-subscriptions/", inside, format="json")
    assert response.status_code == 400
    assert "169.254.169.254" in str(response.json()["url"])
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("who", ["csm_a", "lead_a", "vp", "ceo"])
def test_only_admins_see_subscriptions(org, who):
    response = api(getattr(org, who)).get("/api/v1/webhook-subscriptions/")
    assert response.status_code == 403


def test_the_admin_form_creates_an_audited_subscription(org, receiver):
    response = login(org.admin).post(
        "/admin/csrisk/webhooksubscription/add/",
        {"name": "CRM", "url": receiver.url, "events": ["cta.flagged"], "active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    sub = WebhookSubscription.objects.get()
    assert sub.created_by == org.admin and sub.events == ["cta.flagged"]
    assert AuditEntry.objects.filter(action="webhook.subscription_created", actor=org.admin)
