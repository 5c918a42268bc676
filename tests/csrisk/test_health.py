from unittest import mock

from django.test import Client


def test_it_answers_liveness_without_login(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_it_reports_ready_when_database_answers(db):
    response = Client().get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] == "ok"


def test_it_reports_not_ready_with_reason_when_database_fails(db):
    with mock.patch("csrisk.views._check_database", return_value="OperationalError: down"):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["checks"]["database"] == "OperationalError: down"


def test_it_refuses_post_on_probes(db):
    assert Client().post("/healthz").status_code == 405
    assert Client().post("/readyz").status_code == 405
