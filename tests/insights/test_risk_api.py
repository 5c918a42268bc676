"""The account JSON carries the renewal risk (CONTRACT.md), at a constant query count."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from accounts.choices import LifecycleStage
from accounts.models import CompetitorEvent
from csrisk import clock
from insights.risk.services import risk_score
from tests.conftest import api
from tests.factories import AccountFactory


def evaluated(account) -> None:
    CompetitorEvent.objects.create(
        account=account,
        competitor="Rival",
        activity="evaluation",
        occurred_at=clock.now() - dt.timedelta(days=3),
    )


def test_it_shows_the_contract_shape(org, account_a):
    account_a.arr = Decimal("80000")
    account_a.save()
    evaluated(account_a)
    risk_score([account_a.pk])
    risk = api(org.csm_a).get(f"/api/v1/accounts/{account_a.pk}/").json()["risk"]
    assert set(risk) == {"probability", "expected_loss", "band", "model_version", "reasons"}
    assert 0 < risk["probability"] < 1
    assert re.fullmatch(r"\d+\.\d\d", risk["expected_loss"])
    assert Decimal(risk["expected_loss"]) == pytest.approx(
        Decimal("80000") * Decimal(str(risk["probability"])), abs=Decimal("0.01")
    )
    assert risk["band"] in {"low", "medium", "high"}
    assert risk["model_version"].startswith("prior-default")
    assert risk["reasons"][0].startswith("Evaluation of Rival")
    assert re.search(r": \+\d+ points$", risk["reasons"][0])


def test_it_says_null_before_any_prediction_and_for_a_churned_account(org, account_a):
    client = api(org.vp)
    assert client.get(f"/api/v1/accounts/{account_a.pk}/").json()["risk"] is None
    risk_score([account_a.pk])
    assert client.get(f"/api/v1/accounts/{account_a.pk}/").json()["risk"] is not None
    account_a.lifecycle_stage = LifecycleStage.CHURNED
    account_a.save()
    assert client.get(f"/api/v1/accounts/{account_a.pk}/").json()["risk"] is None


@pytest.mark.parametrize("n", [3, 30])
def test_the_list_keeps_a_constant_query_count(org, n, django_assert_max_num_queries):
    accounts = AccountFactory.create_batch(n, owner=org.csm_a)
    risk_score([a.pk for a in accounts])
    risk_score([a.pk for a in accounts])  # history: a second row per account, one latest
    client = api(org.vp)
    with django_assert_max_num_queries(6):
        body = client.get("/api/v1/accounts/?page_size=100").json()
    assert len(body["results"]) == n
    assert all(a["risk"]["band"] for a in body["results"])


def test_the_schema_documents_the_risk_field(org):
    schema = api(org.csm_a).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    risk = schema["components"]["schemas"]["RenewalRisk"]
    assert set(risk["properties"]) == {
        "probability",
        "expected_loss",
        "band",
        "model_version",
        "reasons",
    }
