"""One Monday leadership list: the scorecard page and the Monday agenda read the same one."""

from __future__ import annotations

from decimal import Decimal

from accounts.choices import LifecycleStage
from escalation.models import Meeting
from escalation.selectors import agenda
from scorecards.models import ScorecardSettings
from scorecards.selectors import leadership_review
from tests.conftest import login
from tests.escalation.conftest import NOW, set_overall
from tests.factories import AccountFactory


def _book(org):
    settings = ScorecardSettings.get()
    settings.leadership_arr_threshold = Decimal("40000")
    settings.save()
    churned = AccountFactory(
        owner=org.csm_a,
        name="Gone Red",
        arr=Decimal("3000000"),
        lifecycle_stage=LifecycleStage.CHURNED,
    )
    live = AccountFactory(owner=org.csm_a, name="Live Red", arr=Decimal("900000"))
    other = AccountFactory(owner=org.csm_b, name="Other Red", arr=Decimal("500000"))
    small = AccountFactory(owner=org.csm_a, name="Small Red", arr=Decimal("5000"))
    for account in (churned, live, other, small):
        set_overall(account, "red")
    return churned, live, other


def test_it_leaves_a_churned_red_account_off_both_leadership_views(org):
    _book(org)
    page = login(org.vp).get("/scorecards/leadership/").content.decode()
    monday = login(org.vp).get("/escalations/meetings/monday-leadership/").content.decode()
    assert "Live Red" in page and "Live Red" in monday
    assert "Gone Red" not in page
    assert "Gone Red" not in monday


def test_it_lists_the_same_accounts_on_the_page_and_the_monday_agenda(org):
    _, live, other = _book(org)
    meeting = Meeting.objects.get(slug="monday-leadership")
    on_agenda = [i.account.pk for i in agenda(meeting, NOW.date()) if i.kind == "red"]
    on_page = [c.account_id for c in leadership_review(Decimal("40000"))]
    assert on_agenda == on_page == [live.pk, other.pk]
