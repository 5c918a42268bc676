"""The leading signals per segment over the API: the /signals/segments/ page's tables."""

from __future__ import annotations

import pytest

from accounts.models import Ticket
from csrisk import clock
from tests.conftest import api, login
from tests.factories import AccountFactory
from tests.insights.helpers import NOW, days_ago


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def book(org):
    for i, segment in enumerate(["smb", "smb", "mid_market", "enterprise"]):
        account = AccountFactory(owner=org.csm_a, segment=segment, name=f"S{i}")
        for d in range(4):
            Ticket.objects.create(
                account=account, opened_at=days_ago(3 + 5 * d), tags=["exports", f"own-{i}"]
            )


def test_it_answers_the_page_numbers(org, book):
    body = api(org.support, token=True).get("/api/v1/segments/").json()
    page = login(org.support).get("/signals/segments/").context
    assert body["window_days"] == page["window"] == 90
    assert [(t["segment"], t["accounts"]) for t in body["trends"]] == [
        (t.segment, t.accounts) for t in page["trends"]
    ]
    smb = next(t for t in body["trends"] if t["segment"] == "smb")
    assert smb["accounts"] == 2
    trend = next(t for t in page["trends"] if t.segment == "smb")
    assert smb["velocity"] == pytest.approx(trend.velocity)
    assert smb["velocity_now"] == pytest.approx(trend.velocity_now)
    assert smb["weeks"] == [w.isoformat() for w in trend.weeks]
    assert body["complaints"] == [
        {"tag": "exports", "accounts": 4, "tickets": 16, "segments": c.segments}
        for c in page["complaints"]
    ]


def test_it_is_for_people(org, book):
    assert api(org.integration, token=True).get("/api/v1/segments/").status_code == 403
    assert api().get("/api/v1/segments/").status_code == 401
    assert api(org.csm_a).post("/api/v1/segments/", {}).status_code == 405
