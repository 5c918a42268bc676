"""GET /metrics: who may read it, what moves when, and that a scrape stays cheap."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from csrisk import clock, metrics, notifications, webhooks
from scorecards.services import recompute
from signals import services as signal_services
from tests.conftest import login
from tests.signals.helpers import ticket

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "m" * 40


def scrape(client: Client | None = None) -> dict[tuple[str, tuple], float]:
    """The samples a scrape serves, keyed by (name, sorted labels)."""
    with override_settings(CSRISK_METRICS_TOKEN=TOKEN):
        response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- who may read it ------------------------------------------------------------------------


@override_settings(CSRISK_METRICS_TOKEN=TOKEN)
def test_it_serves_a_scraper_with_the_token(db):
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "csrisk_queue_depth" in response.content.decode()
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@override_settings(CSRISK_METRICS_TOKEN=TOKEN)
def test_it_hides_itself_without_the_token(org):
    for header in ("", "Bearer", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Token {TOKEN}",
                   f"Basic {TOKEN}"):  # fmt: skip
        response = Client().get("/metrics", HTTP_AUTHORIZATION=header)
        assert response.status_code == 404, header
    # people who are not staff (and integration tokens' users): not found either
    for user in (org.csm_a, org.vp, org.ceo, org.integration):
        assert login(user).get("/metrics").status_code == 404
    assert login(org.admin).get("/metrics").status_code == 200  # staff


@override_settings(CSRISK_METRICS_TOKEN="")
def test_it_is_for_staff_only_when_no_token_is_set(org):
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404
    assert Client().get("/metrics").status_code == 404
    assert login(org.admin).get("/metrics").status_code == 200


@override_settings(CSRISK_METRICS_TOKEN=TOKEN)
def test_it_answers_405_to_a_post_it_may_read_and_404_to_anyone_else(org):
    auth = f"Bearer {TOKEN}"
    assert Client().post("/metrics", HTTP_AUTHORIZATION=auth).status_code == 405
    assert Client().post("/metrics").status_code == 404


# --- what moves when ------------------------------------------------------------------------


def test_it_counts_requests_by_method_route_and_status_class(org):
    ok = ("csrisk_http_requests_total", {"method": "GET", "route": "healthz", "status": "2xx"})
    lost = ("csrisk_http_requests_total", {"method": "GET", "route": "unmatched", "status": "4xx"})
    before = value(ok[0], **ok[1]), value(lost[0], **lost[1])
    timed = value("csrisk_http_request_duration_seconds_count", method="GET", route="healthz")
    Client().get("/healthz")
    login(org.csm_a).get("/no/such/page/123")  # no route: one label for all, not the path
    assert (value(ok[0], **ok[1]), value(lost[0], **lost[1])) == (before[0] + 1, before[1] + 1)
    after = value("csrisk_http_request_duration_seconds_count", method="GET", route="healthz")
    assert after == timed + 1


def test_it_counts_an_email_that_fails_for_good(org, django_capture_on_commit_callbacks):
    before = value("csrisk_notification_delivery_failures_total", channel="email")
    with (
        mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=ValueError("bad")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notifications.notify(user=org.lead_a, kind="cta_flagged", title="Acme flagged")
    assert value("csrisk_notification_delivery_failures_total", channel="email") == before + 1


def test_it_counts_a_chat_post_that_fails_for_good(org, django_capture_on_commit_callbacks):
    before = value("csrisk_notification_delivery_failures_total", channel="chat")
    with (
        override_settings(CHAT_WEBHOOK_URL="https://chat.example.com/hook"),
        mock.patch("csrisk.notifications.post_chat", side_effect=OSError("chat down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notifications.notify(user=org.lead_a, kind="cta_flagged", title="Acme flagged")
    assert value("csrisk_notification_delivery_failures_total", channel="chat") == before + 1


def test_it_counts_an_outbound_webhook_that_fails_for_good(org, django_capture_on_commit_callbacks):
    before = value("csrisk_notification_delivery_failures_total", channel="webhook")
    with (
        mock.patch("csrisk.netguard.resolve", return_value=["93.184.216.34"]),
        override_settings(CSRISK_WEBHOOKS_MAX_ATTEMPTS=1),
    ):
        webhooks.subscription_create(
            by=org.admin, name="CRM", url="https://hooks.example.com/x", events=["cta.flagged"]
        )
        with (
            mock.patch("csrisk.netguard.post", side_effect=OSError("refused")),
            django_capture_on_commit_callbacks(execute=True),
        ):
            webhooks.publish("cta.flagged", {"cta_id": 1})
    assert value("csrisk_notification_delivery_failures_total", channel="webhook") == before + 1


def test_it_times_each_recompute(account_a):
    count = value("csrisk_recompute_duration_seconds_count")
    total = value("csrisk_recompute_duration_seconds_sum")
    recompute([account_a.pk])
    assert value("csrisk_recompute_duration_seconds_count") == count + 1
    assert value("csrisk_recompute_duration_seconds_sum") > total


def test_it_reads_the_processing_lag_from_the_oldest_waiting_signal(account_a):
    assert scrape()[("csrisk_signal_processing_lag_seconds", ())] == 0
    start = clock.now()
    with clock.frozen(start):
        signal_services.signals_store([ticket("T-1")], publish=False)
    with clock.frozen(start + dt.timedelta(seconds=30)):
        signal_services.signals_store([ticket("T-2")], publish=False)
    with clock.frozen(start + dt.timedelta(seconds=95)):
        samples = scrape()
    assert samples[("csrisk_signal_processing_lag_seconds", ())] == 95
    assert samples[("csrisk_signals_pending", ())] == 2


def test_it_reports_empty_queues_when_work_runs_in_process(db):
    samples = scrape()
    for queue in ("default", "ingest", "recompute", "notify"):
        assert samples[("csrisk_queue_depth", (("queue", queue),))] == 0


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (a real Redis)")
def test_it_reads_queue_depths_from_redis(db):
    import redis

    url = os.environ["REDIS_URL"]
    client = redis.Redis.from_url(url)
    keys = ["recompute", "recompute\x06\x166", "notify"]
    client.delete(*keys)
    try:
        client.rpush("recompute", "a", "b")
        client.rpush("recompute\x06\x166", "c")
        client.rpush("notify", "d")
        with override_settings(REDIS_URL=url, CELERY_BROKER_URL=url):
            samples = scrape()
    finally:
        client.delete(*keys)
    assert samples[("csrisk_queue_depth", (("queue", "recompute"),))] == 3
    assert samples[("csrisk_queue_depth", (("queue", "notify"),))] == 1


def test_it_serves_the_rest_when_redis_is_away(db):
    with override_settings(
        REDIS_URL="redis://127.0.0.1:1/0", CELERY_BROKER_URL="redis://127.0.0.1:1/0"
    ):
        samples = scrape()
    assert ("csrisk_signal_processing_lag_seconds", ()) in samples
    assert not any(name == "csrisk_queue_depth" for name, _ in samples)


def test_it_scrapes_with_the_same_queries_whatever_the_backlog(account_a):
    def queries() -> int:
        with override_settings(CSRISK_METRICS_TOKEN=TOKEN), CaptureQueriesContext(connection) as q:
            Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        return len(q.captured_queries)

    empty = queries()
    signal_services.signals_store([ticket(f"T-{i}") for i in range(40)], publish=False)
    assert queries() == empty == 1  # the backlog's one aggregate; no session, no user


def test_it_adds_up_the_counts_of_many_processes(tmp_path):
    """gunicorn's workers and Celery's processes each write their counts; a scrape in any
    of them serves the sum (prometheus_client's multiprocess mode)."""
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "csrisk.settings",
    }
    count = (
        "import django; django.setup(); from csrisk import metrics; "
        "metrics.signals_counted('helpdesk', 'accepted', {n}); metrics.delivery_failed('chat')"
    )
    for n in (3, 4):
        subprocess.run(
            [sys.executable, "-c", count.format(n=n)], cwd=ROOT, env=env, check=True, timeout=120
        )
    read = (
        "import django; django.setup(); from csrisk import metrics; "
        "print(metrics.scrape().decode())"
    )
    out = subprocess.run(
        [sys.executable, "-c", read],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(out.stdout)
        for s in family.samples
    }
    key = ("csrisk_signals_ingested_total", (("outcome", "accepted"), ("source", "helpdesk")))
    assert samples[key] == 7
    assert samples[("csrisk_notification_delivery_failures_total", (("channel", "chat"),))] == 2
    assert len(list(tmp_path.glob("counter_*.db"))) == 2  # one per process that counted


def test_it_names_its_files_by_host_and_pid():
    assert metrics._process_identifier().endswith(f"-{os.getpid()}")
    assert "_" not in metrics._process_identifier()
