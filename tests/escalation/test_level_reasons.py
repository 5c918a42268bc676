"""The VP's queue shows why each level was raised (the lead's reason for 2, the VP's for
3), not the CSM's flag text."""

from __future__ import annotations

from escalation import services
from tests.conftest import login
from tests.escalation.conftest import flag, open_cta
from tests.factories import AccountFactory


def test_the_vp_queue_shows_the_leads_reason_not_the_flag_text(org, flagged):
    services.escalation_escalate(
        escalation=flagged, by=org.lead_a, level=2, reason="Their CFO wants to cancel"
    )
    html = login(org.vp).get("/escalations/?level=2").content.decode()
    assert "Their CFO wants to cancel" in html
    assert "Need help with their exec" not in html  # the CSM's flag text


def test_level_three_shows_the_vps_reason_and_level_one_the_flag(org, flagged, account_b):
    services.escalation_escalate(escalation=flagged, by=org.lead_a, level=2, reason="Lead why")
    services.escalation_escalate(escalation=flagged, by=org.vp, level=3, reason="VP why")
    html = login(org.ceo).get("/escalations/?level=3").content.decode()
    assert "Why level 3: VP why" in html and "Lead why" not in html
    flag(open_cta(account_b, org.csm_b), org.csm_b, reason="CSM asks for help")
    html = login(org.lead_b).get("/escalations/?level=1").content.decode()
    assert "Flagged: CSM asks for help" in html


def test_the_list_takes_the_same_queries_for_more_rows(org, flagged, django_assert_max_num_queries):
    services.escalation_escalate(escalation=flagged, by=org.lead_a, level=2, reason="One")
    client = login(org.vp)
    client.get("/escalations/?level=2")
    with django_assert_max_num_queries(12) as few:
        client.get("/escalations/?level=2")
    for i in range(4):
        account = AccountFactory(owner=org.csm_a)
        more = flag(open_cta(account, org.csm_a), org.csm_a)
        services.escalation_escalate(escalation=more, by=org.lead_a, level=2, reason=f"R{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/escalations/?level=2").content.decode()
    assert "Why level 2: R3" in html
