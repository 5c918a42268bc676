"""While the database is unreachable every request gets 503 + Retry-After, never a 500.

The outage is a mocked connection: every statement (or every statement but the ones a
test keeps) raises the backend's own OperationalError, through Django's error wrapper,
as psycopg2 does when PostgreSQL refuses connections or restarts. tests/test_faults_db.py
does the same with a real PostgreSQL stopped and started under gunicorn.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

import pytest
from django.db import connection, connections
from django.db.backends.utils import CursorWrapper
from django.test import Client

from signals import services as signal_services
from signals.models import IdempotencyRecord, Signal
from tests.conftest import api
from tests.signals.helpers import ticket

REFUSED = 'connection to server at "127.0.0.1", port 5432 failed: Connection refused'


@contextmanager
def database_down(*, keep: tuple[str, ...] = (), broken: bool = False) -> Iterator[None]:
    """Statements fail as on a database that is down; ``keep`` lets statements naming
    those tables through (a failure later in the request); ``broken`` makes the
    connection's health check fail too (a server that closed the connection)."""
    real = CursorWrapper.execute

    def refuse(self: CursorWrapper, sql: str, params: Any = None) -> Any:
        if keep and any(table in sql for table in keep):
            return real(self, sql, params)
        with self.db.wrap_database_errors:
            raise self.db.Database.OperationalError(REFUSED)

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(CursorWrapper, "execute", refuse))
        stack.enter_context(mock.patch.object(CursorWrapper, "executemany", refuse))
        if broken:
            backend = type(connections["default"])
            stack.enter_context(mock.patch.object(backend, "is_usable", return_value=False))
        yield


def page_client(user: Any) -> Client:
    """A logged-in browser whose client shows what gunicorn would send, instead of
    re-raising the error Django turned into a response."""
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def assert_unavailable_page(response: Any, seconds: int = 5) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == str(seconds)
    assert response["Content-Type"].startswith("text/html")
    assert b"temporarily unavailable" in response.content
    assert "Set-Cookie" not in response  # the session was not touched again


def assert_unavailable_json(response: Any, seconds: int = 5) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == str(seconds)
    assert response["Content-Type"] == "application/json"
    assert f"retry after {seconds} seconds" in json.loads(response.content)["detail"]


def test_it_answers_a_page_503_when_the_session_cannot_be_read(org):
    client = page_client(org.csm_a)
    with database_down():
        response = client.get("/accounts/")
    assert_unavailable_page(response)


def test_it_answers_a_page_503_when_the_view_hits_the_outage(org, account_a):
    client = Client()  # re-raises anything Django turned into a 500: there must be none
    client.force_login(org.csm_a)
    with database_down(keep=("django_session", "csrisk_user")):
        response = client.get("/accounts/")
    assert_unavailable_page(response)


def test_it_answers_503_with_debug_on_too(org, settings):
    settings.DEBUG = True  # Django's technical 500 page would otherwise be the answer
    client = page_client(org.csm_a)
    with database_down():
        response = client.get("/cockpit/")
    assert_unavailable_page(response)


def test_it_uses_the_configured_retry_after(org, settings):
    settings.CSRISK_RETRY_AFTER_SECONDS = 17
    client = page_client(org.csm_a)
    with database_down():
        response = client.get("/accounts/")
    assert_unavailable_page(response, seconds=17)


def test_it_answers_the_api_json_503_when_the_token_cannot_be_checked(org):
    client = api(org.vp, token=True)
    with database_down():
        response = client.get("/api/v1/accounts/")
    assert_unavailable_json(response)


def test_it_answers_the_api_json_503_for_a_session_client(org, account_a):
    client = Client()
    client.force_login(org.vp)
    with database_down(keep=("django_session", "csrisk_user")):
        response = client.get("/api/v1/accounts/")
    assert_unavailable_json(response)


def test_it_half_writes_nothing_and_the_same_key_succeeds_afterwards(org, account_a):
    client = api(org.integration, token=True)
    body = json.dumps([ticket("T-1", "A-1"), ticket("T-2", "A-1")])
    real_store = signal_services.signals_store

    def store_then_lose_the_server(*args: Any, **kwargs: Any) -> Any:
        real_store(*args, **kwargs)  # rows inserted inside the transaction…
        assert Signal.objects.count() == 2
        with connection.wrap_database_errors:  # …then the server goes away
            raise connection.Database.OperationalError("server closed the connection")

    with mock.patch("signals.services.signals_store", store_then_lose_the_server):
        response = client.post(
            "/api/v1/signals/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
        )
    assert_unavailable_json(response)
    assert Signal.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0

    retry = client.post(
        "/api/v1/signals/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert retry.status_code == 202, retry.content
    assert retry.json()["accepted"] == 2
    assert Signal.objects.count() == 2


def test_it_reports_not_ready_while_the_database_is_down_and_stays_alive(db, settings):
    settings.CSRISK_RETRY_AFTER_SECONDS = 3
    client = Client()
    with database_down():
        ready = client.get("/readyz")
        alive = client.get("/healthz")
    assert ready.status_code == 503
    assert ready["Retry-After"] == "3"
    assert ready.json()["checks"]["database"].startswith("OperationalError")
    assert alive.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_it_discards_a_broken_connection_and_recovers_without_a_manual_step(org, account_a):
    client = page_client(org.csm_a)
    assert client.get("/accounts/").status_code == 200
    with database_down(broken=True):
        assert_unavailable_page(client.get("/accounts/"))
        if connection.vendor == "postgresql":  # SQLite's in-memory test database stays open
            assert connection.connection is None
    assert client.get("/accounts/").status_code == 200  # reconnects by itself
    signals = api(org.integration, token=True).post(
        "/api/v1/signals/", json.dumps(ticket("T-9", "A-1")), content_type="application/json"
    )
    assert signals.status_code == 202


def test_it_documents_the_503_on_every_api_operation(org):
    schema = api(org.vp).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operations = [
        operation
        for item in schema["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "responses" in operation
    ]
    assert operations
    assert all("503" in operation["responses"] for operation in operations)
