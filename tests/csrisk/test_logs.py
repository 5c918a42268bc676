"""Structured logs: one JSON line per event with the request id, carried into the tasks a
request queues, and never a secret (docs/operations.md, "Logs, errors and metrics")."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import structlog
from celery import shared_task
from django.test import Client

from csrisk import jobs, logs
from csrisk.celery import app as celery_app
from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]


@shared_task(name="tests.csrisk.test_logs.noisy_task")
def noisy_task(word: str) -> str:
    logging.getLogger("tests.task").info("task says %s", word)
    return word


def test_it_writes_one_json_line_per_request_with_its_id(org, json_log):
    response = login(org.csm_a).get("/notifications/")
    assert response.status_code == 200
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32  # a fresh uuid4, hex
    line = next(line for line in json_log() if line["logger"] == "csrisk.requests")
    assert line["request_id"] == request_id
    assert line["event"] == "GET notifications 200"
    assert (line["method"], line["route"], line["status"]) == ("GET", "notifications", 200)
    assert line["user_id"] == org.csm_a.pk
    assert line["level"] == "info" and line["timestamp"].endswith("Z")
    assert isinstance(line["duration_ms"], float)
    assert list(line)[:5] == ["timestamp", "level", "logger", "event", "request_id"]


def test_it_keeps_a_sane_inbound_request_id_and_replaces_any_other(db, json_log):
    sane = "edge-7f3a.b_9"
    assert Client().get("/healthz", HTTP_X_REQUEST_ID=sane)["X-Request-ID"] == sane
    for bad in ("x" * 129, "has space", "new\nline", "é", "<script>"):
        echoed = Client().get("/healthz", HTTP_X_REQUEST_ID=bad)["X-Request-ID"]
        assert echoed != bad and len(echoed) == 32
    ids = {line["request_id"] for line in json_log() if line["logger"] == "csrisk.requests"}
    assert sane in ids and len(ids) == 6


def test_it_logs_stdlib_and_structlog_lines_alike_and_none_outside_a_request(json_log):
    logging.getLogger("csrisk.somewhere").warning("disk at %d%%", 91, extra={"disk": "/"})
    structlog.get_logger("csrisk.elsewhere").info("queue drained", queue="ingest")
    first, second = json_log()
    assert first == {
        "timestamp": first["timestamp"],
        "level": "warning",
        "logger": "csrisk.somewhere",
        "event": "disk at 91%",
        "disk": "/",
    }
    assert (second["event"], second["queue"], second["level"]) == (
        "queue drained",
        "ingest",
        "info",
    )
    assert "request_id" not in first and "request_id" not in second


def test_it_puts_a_traceback_in_one_line(json_log):
    try:
        raise ValueError("broken")
    except ValueError:
        logging.getLogger("csrisk.x").exception("it failed")
    (line,) = json_log()
    assert "ValueError: broken" in line["exception"]


@pytest.mark.django_db(transaction=True)
def test_it_carries_the_request_id_into_the_processing_of_a_signal(org, account_a, json_log):
    """In-process (no broker), the signal's processing runs when the POST's transaction
    commits, inside the request (a real commit: this test's transactions are real)."""
    from tests.conftest import api
    from tests.signals.helpers import ticket

    client = api(org.integration, token=True)
    response = client.post(
        "/api/v1/signals/",
        data=json.dumps(ticket()),
        content_type="application/json",
        HTTP_X_REQUEST_ID="post-1",
    )
    assert response.status_code == 202
    processed = [line for line in json_log() if line["event"].startswith("processed 1 of 1")]
    assert processed and processed[0]["request_id"] == "post-1"
    assert processed[0]["task"] == "signals.tasks.process_signals_task"


def test_it_sends_the_request_id_with_a_queued_task_and_binds_it_in_the_worker(json_log):
    """Through a broker: the id goes in the message's headers, and the worker binds it
    while the task runs (and unbinds it after)."""
    celery_app.conf.task_always_eager = False
    published: dict = {}

    def keep(headers: dict | None = None, **_: object) -> None:
        published.update(headers or {})

    from celery.signals import before_task_publish

    before_task_publish.connect(keep, weak=False)
    tokens = logs.bind(request_id="req-42")
    try:
        with celery_app.connection_for_write("memory://") as conn:
            noisy_task.apply_async(("hello",), connection=conn)
    finally:
        logs.unbind(tokens)
        before_task_publish.disconnect(keep)
        celery_app.conf.task_always_eager = True
    assert published[logs.TASK_HEADER] == "req-42"
    assert logs.current_request_id() is None
    # What a worker does with the message: the task's request carries the headers.
    noisy_task.apply(("hello",), headers=published)
    (line,) = [line for line in json_log() if line["logger"] == "tests.task"]
    assert (line["request_id"], line["task"]) == ("req-42", "tests.csrisk.test_logs.noisy_task")
    assert logs.current_request_id() is None


def test_it_queues_no_request_id_outside_a_request():
    headers: dict = {}
    logs.on_before_task_publish(headers=headers)
    assert headers == {}


def test_it_never_logs_a_secret_a_token_or_an_authorization_header(org, json_log):
    logging.getLogger("csrisk.x").info(
        "calling with Authorization: Bearer abcdefghijklmnop and Token 0123456789abcdef",
        extra={"password": "hunter2", "api_token": "tok-123", "webhook_secret": "s3cr3t"},
    )
    structlog.get_logger("csrisk.y").info(
        "login", session_key="sess-value-1", csrftoken="c", user=1
    )
    Client(HTTP_AUTHORIZATION="Token supersecrettokenvalue").get(
        "/api/v1/accounts/", HTTP_COOKIE="sessionid=cookievalue"
    )
    text = json_log.raw()
    for secret in (
        "abcdefghijklmnop",
        "0123456789abcdef",
        "hunter2",
        "tok-123",
        "s3cr3t",
        "sess-value-1",
        "supersecrettokenvalue",
        "cookievalue",
    ):
        assert secret not in text
    assert "[redacted]" in text


def test_it_prints_a_plain_traceback_without_local_variables_in_text():
    import io

    config = logs.logging_config(logs.TEXT, "INFO")["formatters"]["structured"]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=config["foreign_pre_chain"], processors=config["processors"]
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    log = logging.getLogger("csrisk.text-probe")
    log.addHandler(handler)
    try:
        api_key = "zzz-local-value"  # noqa: F841 (a local a rich traceback would print)
        raise ValueError("broken")
    except ValueError:
        log.exception("it failed")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert "ValueError: broken" in text and "Traceback" in text
    assert "zzz-local-value" not in text


def test_it_never_logs_the_key_in_a_calendar_feed_address(org, json_log):
    Client().get("/calendar/feed/notarealkeybutsecretlooking.ics")
    assert "notarealkeybutsecretlooking" not in json_log.raw()


@pytest.mark.slow
def test_it_writes_json_with_debug_off_and_text_with_debug_on():
    secret = "x" * 20 + "-production-secret-for-check-deploy-0123456789abcdef"
    code = "import logging; logging.getLogger('probe').warning('hello')"
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "CSRISK_LOG_FORMAT"}}

    def run(env: dict[str, str]) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env={**base, "SECRET_KEY": secret, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stderr.strip().splitlines()[-1]

    line = json.loads(run({"DEBUG": "0"}))
    assert (line["event"], line["logger"], line["level"]) == ("hello", "probe", "warning")
    text = run({"DEBUG": "1"})
    assert "hello" in text and "probe" in text and not text.startswith("{")
    assert json.loads(run({"DEBUG": "1", "CSRISK_LOG_FORMAT": "json"}))["event"] == "hello"
    refused = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**base, "DEBUG": "1", "CSRISK_LOG_FORMAT": "xml"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode != 0 and "CSRISK_LOG_FORMAT" in refused.stderr


def test_it_queues_by_name_with_the_id_in_process(json_log):
    tokens = logs.bind(request_id="inline-1")
    try:
        jobs.queue("tests.csrisk.test_logs.noisy_task", "again")
    finally:
        logs.unbind(tokens)
    (line,) = [line for line in json_log() if line["logger"] == "tests.task"]
    assert line["request_id"] == "inline-1"
