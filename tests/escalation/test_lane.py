"""The VP's "suggested for level 2" lane: every live account, flagged or not, with a
renewal at risk, a red habits scorecard or its decision maker gone; accepted (level 2, the
CTA opened if needed, the lead told) or dismissed (until the reason changes)."""

from __future__ import annotations

import datetime as dt

from csrisk.models import Notification
from tests.conftest import login
from tests.escalation.conftest import NOW, set_overall
from tests.factories import AccountFactory, ContactFactory

HX = {"HTTP_HX_REQUEST": "true"}


def renewing_red(org, days: int = 5, **kw):
    account = AccountFactory(
        owner=org.csm_a, renewal_date=NOW.date() + dt.timedelta(days=days), **kw
    )
    set_overall(account, "red")
    return account


def test_it_shows_an_unflagged_red_account_renewing_soon_in_the_vp_lane(org):
    account = renewing_red(org, name="Wayne Capital")
    html = login(org.vp).get("/escalations/").content.decode()
    assert "Suggested for level 2" in html
    assert "Wayne Capital" in html and "Renewal in 5 days" in html


def test_it_shows_an_account_whose_decision_maker_left_in_the_vp_lane(org):
    account = AccountFactory(owner=org.csm_a, name="Redwood Partners")
    ContactFactory(
        account=account,
        name="Dana Boss",
        roles=["edm"],
        at_company=False,
        left_on=NOW.date() - dt.timedelta(days=29),
    )
    html = login(org.vp).get("/escalations/").content.decode()
    assert "Redwood Partners" in html and "Dana Boss" in html
