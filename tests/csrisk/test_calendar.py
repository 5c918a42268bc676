"""A person's calendar feed: a secret address (stored hashed, shown once, revocable), and
a valid RFC 5545 document with their CTA due dates, sponsor check-ins due and weekly
meetings, each with a UID that stays the same from one fetch to the next."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import icalendar
import pytest

from csrisk import calendars, clock
from csrisk.models import AuditEntry, CalendarFeed
from ctas import services as ctas
from escalation.models import Meeting
from tests.conftest import login
from tests.factories import AccountFactory

NOW = dt.datetime(2026, 11, 4, 10, 0, tzinfo=dt.UTC)  # a Wednesday


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


def fetch(client, key: str) -> icalendar.Calendar:
    response = client.get(f"/calendar/feed/{key}.ics")
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    raw = response.content
    # RFC 5545 3.1: CRLF line ends, lines folded at 75 octets
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    return icalendar.Calendar.from_ical(raw)


def events_of(calendar: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


@pytest.fixture
def book(org):
    """csm_a: two live CTAs (one flagged) and a closed one; csm_b: one of their own."""
    account = AccountFactory(owner=org.csm_a, name="Alpha Inc")
    due = clock.today() + dt.timedelta(days=5)
    first = ctas.cta_create(
        account=account, by=org.csm_a, reason="Usage fell", area="habits", due_date=due
    )
    second = ctas.cta_create(account=account, by=org.csm_a, reason="Renewal prep", area="company")
    ctas.cta_flag(cta=second, by=org.csm_a, reason="Need help")
    closed = ctas.cta_create(account=account, by=org.csm_a, reason="Old news", area="support")
    ctas.cta_close(cta=closed, by=org.csm_a, outcome="done", note="done")
    other = AccountFactory(owner=org.csm_b)
    theirs = ctas.cta_create(account=other, by=org.csm_b, reason="B", area="habits")
    meeting = Meeting.objects.get(slug="friday-cs-customer-issues")
    meeting.attendees.add(org.csm_a)
    return {"first": first, "second": second, "closed": closed, "theirs": theirs,
            "meeting": meeting}  # fmt: skip


def test_the_feed_is_valid_ics_with_the_persons_dates(org, book, client):
    _feed, key = calendars.feed_create(user=org.csm_a)
    calendar = fetch(client, key)  # no session: the key is the credential
    assert str(calendar["VERSION"]) == "2.0" and "csrisk" in str(calendar["PRODID"])
    found = events_of(calendar)
    first, second, meeting = book["first"], book["second"], book["meeting"]
    assert set(found) == {
        f"cta-{first.pk}@127.0.0.1",
        f"cta-{second.pk}@127.0.0.1",
        f"meeting-{meeting.pk}@127.0.0.1",
    }
    due = found[f"cta-{first.pk}@127.0.0.1"]
    assert due.decoded("DTSTART") == first.due_date
    assert due.decoded("DTEND") == first.due_date + dt.timedelta(days=1)
    assert str(due["SUMMARY"]) == "CTA due: Alpha Inc — Usage fell"
    assert str(due["URL"]) == f"http://127.0.0.1:8000/cockpit/ctas/{first.pk}/"
    assert "DTSTAMP" in due
    assert "(flagged)" in str(found[f"cta-{second.pk}@127.0.0.1"]["SUMMARY"])
    weekly = found[f"meeting-{meeting.pk}@127.0.0.1"]
    assert weekly["RRULE"]["FREQ"] == ["WEEKLY"]
    assert weekly.decoded("DTSTART").weekday() == meeting.weekday
    assert str(weekly["URL"]).endswith(f"/escalations/meetings/{meeting.slug}/")


def test_the_same_event_keeps_its_uid_and_date_across_fetches(org, book, client):
    _feed, key = calendars.feed_create(user=org.csm_a)
    before = {uid: e.decoded("DTSTART") for uid, e in events_of(fetch(client, key)).items()}
    ctas.cta_create(account=book["first"].account, by=org.csm_a, reason="New one", area="product")
    with clock.frozen(NOW + dt.timedelta(days=1)):
        after = {uid: e.decoded("DTSTART") for uid, e in events_of(fetch(client, key)).items()}
    assert len(after) == len(before) + 1
    assert {uid: after[uid] for uid in before} == before


def test_a_sponsor_sees_the_check_ins_they_are_due_to_hold(org, client):
    from sponsors import services as sponsors
    from sponsors.models import CheckIn, Program

    Program.objects.create(
        name="Now", starts_on=NOW.date() - dt.timedelta(days=10),
        ends_on=NOW.date() + dt.timedelta(days=170),
    )  # fmt: skip
    big = Decimal("500000")
    account = AccountFactory(owner=org.csm_b, name="Big Co", tier="strategic", arr=big)
    sponsors.sponsorship_assign(account=account, sponsor=org.executive, by=org.vp)
    sponsors.checkins_create_due()
    checkin = CheckIn.objects.get()
    _feed, key = calendars.feed_create(user=org.executive)
    found = events_of(fetch(client, key))
    assert list(found) == [f"checkin-{checkin.pk}@127.0.0.1"]  # not also as a CTA
    assert found[f"checkin-{checkin.pk}@127.0.0.1"].decoded("DTSTART") == checkin.due_date
    assert "Big Co" in str(found[f"checkin-{checkin.pk}@127.0.0.1"]["SUMMARY"])
    sponsors.checkin_log(checkin=checkin, by=org.executive, notes="Fine", sentiment="positive")
    assert events_of(fetch(client, key)) == {}  # logged: no longer due


def test_a_revoked_or_replaced_address_is_not_found(org, book, client):
    _feed, old = calendars.feed_create(user=org.csm_a)
    _feed, new = calendars.feed_create(user=org.csm_a)  # replaces the old one
    assert client.get(f"/calendar/feed/{old}.ics").status_code == 404
    fetch(client, new)
    assert calendars.feeds_revoke(user=org.csm_a) == 1
    assert client.get(f"/calendar/feed/{new}.ics").status_code == 404
    assert client.get("/calendar/feed/not-a-key.ics").status_code == 404
    actions = list(AuditEntry.objects.filter(actor=org.csm_a).values_list("action", flat=True))
    assert actions.count("csrisk.calendar_feed_created") == 2
    assert actions.count("csrisk.calendar_feed_revoked") == 2


def test_a_deactivated_persons_address_is_not_found(org, book, client):
    _feed, key = calendars.feed_create(user=org.csm_a)
    org.csm_a.is_active = False
    org.csm_a.save()
    assert client.get(f"/calendar/feed/{key}.ics").status_code == 404


def test_the_page_shows_the_address_once_and_stores_only_its_fingerprint(org):
    session = login(org.csm_a)
    assert "You have no calendar address" in session.get("/calendar/").content.decode()
    page = session.post("/calendar/").content.decode()
    start = page.index("/calendar/feed/") + len("/calendar/feed/")
    key = page[start : page.index(".ics", start)]
    feed = CalendarFeed.objects.get(user=org.csm_a, revoked_at=None)
    assert key.startswith(feed.prefix) and key not in feed.digest and len(key) >= 40
    again = session.get("/calendar/").content.decode()
    assert key not in again and feed.prefix in again
    assert session.post("/calendar/revoke/").status_code == 302
    assert not CalendarFeed.objects.filter(revoked_at=None).exists()
    assert session.get("/calendar/revoke/").status_code == 405


def test_the_notification_settings_link_to_the_calendar_page(org):
    assert 'href="/calendar/"' in login(org.csm_a).get("/notifications/settings/").content.decode()
