"""The backtest page: results at once from the last run, progress while one runs."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import RenewalOutcome
from tests.conftest import login
from tests.factories import AccountFactory


@pytest.fixture
def outcomes(org):
    for i, outcome in enumerate(["churned", "renewed", "renewed"]):
        account = AccountFactory(name=f"P{i}", owner=org.csm_a)
        RenewalOutcome.objects.create(
            account=account, renewal_date=dt.date(2026, 3, 2), outcome=outcome
        )


def test_it_answers_the_first_visit_at_once_with_progress(
    org, outcomes, django_assert_max_num_queries
):
    # Reading every renewal at every horizon runs hundreds of queries and takes 30–40 s on
    # the demo book; the first visit must only queue that work and show its progress.
    with django_assert_max_num_queries(20):
        response = login(org.vp).get("/summary/backtest/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<progress" in body
