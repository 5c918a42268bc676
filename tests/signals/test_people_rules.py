"""The people rules ("key contact left", "key contact downgraded") fire on their measures'
verdicts (``company.key_contact_left``, ``company.title_downgrade``), so the measure's
configured window, thresholds and whether it is enabled decide whether a CTA opens."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from csrisk import clock
from ctas.models import Cta
from signals import services
from tests.conftest import configure_measure as configure

NOW = dt.datetime(2026, 10, 20, 12, 0, tzinfo=dt.UTC)
LEFT = "company.key_contact_left"
DOWNGRADE = "company.title_downgrade"


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


def process(*signals: dict) -> None:
    with transaction.atomic():
        outcomes = services.signals_store(list(signals), publish=False)
    services.signals_process([o.id for o in outcomes])


def departure(roles: list[str], *, days_ago: int = 3, ext: str = "HR-1", name: str = "Dana Boss"):
    return {
        "source": "hris",
        "external_id": ext,
        "kind": "org_change",
        "account": {"external_id": "A-1"},
        "occurred_at": (NOW - dt.timedelta(days=days_ago)).isoformat(),
        "attributes": {
            "change": "left",
            "contact": {"email": f"{ext}@customer.example", "name": name, "title": "CFO",
                        "roles": roles},
        },
    }  # fmt: skip


def retitle(old: str, new: str, *, days_ago: int = 3, ext: str = "HR-9") -> dict:
    return {
        "source": "hris",
        "external_id": ext,
        "kind": "org_change",
        "account": {"external_id": "A-1"},
        "occurred_at": (NOW - dt.timedelta(days=days_ago)).isoformat(),
        "attributes": {
            "change": "title_changed",
            "contact": {"email": "pat@customer.example", "name": "Pat Lee", "title": new,
                        "roles": ["champion"]},
            "old_title": old,
            "new_title": new,
        },
    }  # fmt: skip


def reasons() -> list[str]:
    return sorted(Cta.objects.values_list("reason", flat=True))


def test_it_opens_the_edm_left_cta_by_default(account_a):
    process(departure(["edm"]))
    assert reasons() == ["Executive decision maker left: Dana Boss"]


def test_the_edm_left_cta_comes_with_its_playbooks_tasks(account_a):
    # A rule-opened CTA showed "No tasks" although a matching playbook exists.
    process(departure(["edm"]))
    cta = Cta.objects.get()
    assert cta.playbook is not None and cta.playbook.name == "Executive decision maker left"
    assert cta.tasks.count() == cta.playbook.steps.count() > 0


def test_it_opens_no_edm_left_cta_when_the_measure_is_disabled(account_a):
    configure(LEFT, enabled=False)
    process(departure(["edm"]))
    assert reasons() == []


def test_it_opens_no_cta_for_a_departure_outside_the_measures_window(account_a):
    configure(LEFT, window_days=30)
    process(departure(["edm"], days_ago=45))  # a late report of an old departure
    assert reasons() == []


def test_it_opens_no_champion_cta_when_the_threshold_counts_only_the_edm(account_a):
    configure(LEFT, yellow_at=2, red_at=2)  # a champion leaving (value 1) stays green
    process(departure(["champion"], ext="HR-2", name="Chris Champ"))
    assert reasons() == []
    process(departure(["edm"], ext="HR-3"))
    assert reasons() == ["Executive decision maker left: Dana Boss"]


def test_it_opens_the_downgrade_cta_by_default(account_a):
    process(retitle("Head of Operations", "Senior Manager, Operations"))
    assert reasons() == ["Key contact downgraded: Pat Lee is now Senior Manager, Operations"]


def test_it_opens_no_downgrade_cta_when_the_measure_is_disabled(account_a):
    configure(DOWNGRADE, enabled=False)
    process(retitle("Head of Operations", "Senior Manager, Operations"))
    assert reasons() == []


def test_it_opens_no_downgrade_cta_below_the_configured_threshold(account_a):
    configure(DOWNGRADE, yellow_at=2, red_at=3)  # two downgrades before it is a risk
    process(retitle("Head of Operations", "Senior Manager, Operations"))
    assert reasons() == []


def test_it_opens_no_downgrade_cta_for_a_promotion_while_an_old_downgrade_is_live(account_a):
    process(retitle("Head of Operations", "Senior Manager, Operations", days_ago=20))
    Cta.objects.all().delete()
    process(retitle("Senior Manager, Operations", "VP Operations", ext="HR-10"))
    assert reasons() == []
