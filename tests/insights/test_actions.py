"""One-click responses from the executive summary: the right CTA, escalation and audit."""

from __future__ import annotations

import pytest

from csrisk import clock
from csrisk.models import AuditEntry
from ctas.models import Cta
from escalation.models import Escalation
from tests.conftest import login
from tests.insights.helpers import NOW, book


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


def test_it_opens_a_product_cta_and_a_level_2_escalation_for_a_competitor(org):
    alpha = book(org)["alpha"]
    client = login(org.vp)
    response = client.post("/summary/actions/", {"account": alpha.pk, "signal": "competitor"})
    assert response.status_code == 302
    cta = Cta.objects.get(account=alpha)
    assert (cta.area, cta.priority, cta.type) == ("product", "urgent", "risk")
    assert cta.reason == "Competitor exposure: Level-2 escalation with Product"
    escalation = Escalation.objects.get(cta=cta)
    assert escalation.level == 2
    assert AuditEntry.objects.filter(action="cta.created", target_id=cta.pk, actor=org.vp).exists()


def test_it_does_not_open_the_same_response_twice(org):
    alpha = book(org)["alpha"]
    client = login(org.vp)
    for _ in range(2):
        client.post("/summary/actions/", {"account": alpha.pk, "signal": "velocity"})
    cta = Cta.objects.get(account=alpha)
    assert (cta.area, cta.reason) == ("support", "Ticket velocity: Support review")


def test_it_opens_a_company_risk_cta_when_the_edm_left(org):
    beta = book(org)["beta"]
    response = login(org.ceo).post(
        "/summary/actions/",
        {"account": beta.pk, "signal": "edm_left", "note": "EDM left"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert b"CTA #" in response.content
    cta = Cta.objects.get(account=beta)
    assert cta.area == "company" and "level-2 escalation" in cta.description


def test_it_gives_a_silent_sponsors_check_in_to_the_sponsor(org):
    import datetime as dt

    from sponsors.models import Sponsorship

    beta = book(org)["beta"]
    Sponsorship.objects.create(
        account=beta, sponsor=org.executive, started_on=NOW.date() - dt.timedelta(days=200)
    )
    login(org.vp).post("/summary/actions/", {"account": beta.pk, "signal": "silent_sponsor"})
    cta = Cta.objects.get(account=beta)
    assert (cta.type, cta.owner) == ("sponsor_checkin", org.executive)


def test_it_refuses_actions_to_others_and_unknown_signals(org):
    alpha = book(org)["alpha"]
    assert (
        login(org.csm_a)
        .post("/summary/actions/", {"account": alpha.pk, "signal": "velocity"})
        .status_code
        == 403
    )
    assert login(org.vp).get("/summary/actions/").status_code == 405
    login(org.vp).post("/summary/actions/", {"account": alpha.pk, "signal": "nope"})
    assert not Cta.objects.exists()


def test_it_lets_executives_read_but_not_open_ctas_on_accounts_they_do_not_work(org):
    # cta_create's rule: the account's book, its team or an org-wide role (VP, CEO).
    alpha = book(org)["alpha"]
    client = login(org.executive)
    assert b'action="/summary/actions/"' not in client.get("/summary/").content
    response = client.post("/summary/actions/", {"account": alpha.pk, "signal": "competitor"})
    assert response.status_code == 403
    assert not Cta.objects.exists()


def test_the_cta_it_opens_holds_its_area_at_least_yellow(org):
    # A risk raised from the summary is a person's risk: it counts for the scorecard.
    from scorecards.models import AreaScore

    alpha = book(org)["alpha"]
    login(org.vp).post("/summary/actions/", {"account": alpha.pk, "signal": "velocity"})
    cta = Cta.objects.get(account=alpha)
    area = AreaScore.objects.get(account=alpha, area="support")
    assert area.color in ("yellow", "red")
    assert {"type": "cta", "id": cta.pk} in [
        ref for r in area.reasons if r["kind"] == "cta" for ref in r["refs"]
    ]
