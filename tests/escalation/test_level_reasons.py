"""The VP's queue shows why each level was raised (the lead's reason for 2, the VP's for
3), not the CSM's flag text."""

from __future__ import annotations

from escalation import services
from tests.conftest import login


def test_the_vp_queue_shows_the_leads_reason_not_the_flag_text(org, flagged):
    services.escalation_escalate(
        escalation=flagged, by=org.lead_a, level=2, reason="Their CFO wants to cancel"
    )
    html = login(org.vp).get("/escalations/?level=2").content.decode()
    assert "Their CFO wants to cancel" in html
    assert "Need help with their exec" not in html  # the CSM's flag text
