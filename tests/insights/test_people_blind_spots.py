"""The executive summary's "people" blind spot and its "decision maker left" action read
the people measures (``company.key_contact_left``, ``company.title_downgrade``) as
configured, never the people changes by their own rules."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Contact
from accounts.services import PeopleChangeIn, people_changes_record
from csrisk import clock
from insights.summary import blind_spots, prioritised_actions
from tests.conftest import configure_measure as configure
from tests.insights.helpers import NOW, book, days_ago

LEFT = "company.key_contact_left"
DOWNGRADE = "company.title_downgrade"


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


def downgrade(account, days: float = 10) -> None:
    """A champion's title drops, recorded the one way every people change is."""
    pat = Contact.objects.create(
        account=account, name="Pat Lee", title="Head of Operations", roles=["champion"]
    )
    people_changes_record(
        [
            PeopleChangeIn(
                account_id=account.pk,
                change="title_changed",
                occurred_at=days_ago(days),
                contact=pat,
                new_title="Senior Manager, Operations",
            )
        ]
    )


def departure(account, roles: list[str], title: str, days: float, name: str = "Dana Boss") -> None:
    people_changes_record(
        [
            PeopleChangeIn(
                account_id=account.pk,
                change="left",
                occurred_at=days_ago(days),
                person={"name": name, "title": title, "roles": roles},
            )
        ]
    )


def people(spots) -> list[tuple[str, str, dt.date]]:
    return [(s.account, s.sentence, s.on) for s in spots if s.signal == "people"]


def test_it_shows_a_key_contact_downgrade_in_the_measures_words(org):
    gamma = book(org)["gamma"]
    downgrade(gamma)
    assert people(blind_spots(NOW)) == [
        (
            "Gamma",
            f"Pat Lee: “Head of Operations” → “Senior Manager, Operations” on "
            f"{days_ago(10).date()}",
            days_ago(10).date(),
        )
    ]


def test_it_shows_no_downgrade_when_the_measure_is_disabled(org):
    gamma = book(org)["gamma"]
    configure(DOWNGRADE, enabled=False)
    downgrade(gamma)
    assert people(blind_spots(NOW)) == []


def test_it_shows_no_downgrade_below_the_configured_threshold(org):
    gamma = book(org)["gamma"]
    configure(DOWNGRADE, yellow_at=2, red_at=3)
    downgrade(gamma)
    assert people(blind_spots(NOW)) == []


def test_it_shows_no_departure_outside_the_measures_window(org):
    gamma = book(org)["gamma"]
    configure(LEFT, window_days=30)
    departure(gamma, ["edm"], "CFO", days=60)
    assert people(blind_spots(NOW)) == []
    assert [a for a in prioritised_actions(NOW) if a.signal == "edm_left"] == []


def test_it_shows_a_departure_the_measure_sees_with_its_date(org):
    gamma = book(org)["gamma"]
    departure(gamma, ["edm"], "CFO", days=60)  # in the default 180-day window
    assert people(blind_spots(NOW)) == [
        (
            "Gamma",
            f"Executive Decision Maker Dana Boss (CFO) left on {days_ago(60).date()}",
            days_ago(60).date(),
        )
    ]


def test_it_counts_only_the_key_contacts_the_measure_watches(org):
    gamma = book(org)["gamma"]
    departure(gamma, [], "Director of IT", days=5)  # senior, but no EDM or champion
    assert people(blind_spots(NOW)) == []


def test_a_departure_is_dated_by_the_person_the_sentence_names(org):
    """The decision maker left 60 days ago, a champion and someone without a key role
    since: the blind spot and the action speak of the decision maker, dated the day they
    left (they were dated by the latest departure of anyone)."""
    gamma = book(org)["gamma"]
    departure(gamma, ["edm"], "CFO", days=60)
    departure(gamma, ["champion"], "Head of Ops", days=20, name="Pat Lee")
    departure(gamma, [], "Analyst", days=5, name="Sam Roe")
    edm = f"Executive Decision Maker Dana Boss (CFO) left on {days_ago(60).date()}"
    assert people(blind_spots(NOW)) == [("Gamma", edm, days_ago(60).date())]
    (action,) = [a for a in prioritised_actions(NOW) if a.signal == "edm_left"]
    assert (action.sentence, action.on) == (edm, days_ago(60).date())
