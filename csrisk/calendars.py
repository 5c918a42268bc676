"""A person's calendar feed (ICS, RFC 5545) behind a secret, revocable address.

The address carries a random key; the database keeps only its SHA-256 (as for API tokens,
``csrisk.tokens``), so the address is shown once, when it is made, and a new one replaces
the old. Revoking it makes the address answer 404. What the feed holds comes from the
apps, which register a source in their ``AppConfig.ready()`` (``register_source``) — csrisk
imports no app: ``ctas`` gives a CSM's CTA due dates, ``sponsors`` a sponsor's check-ins
due, ``escalation`` the weekly meetings a person sits in. Each item's UID is made of its
kind and its row id, so the same thing keeps the same UID from one fetch to the next.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.db import transaction

from csrisk import audit, clock
from csrisk.models import CalendarFeed, User

# The feed's last use is written at most this often.
LAST_USED_EVERY = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Item:
    """One calendar entry: all-day on ``day`` (weekly from it when ``weekly``)."""

    uid: str  # "<kind>-<id>", unique and stable: the feed adds "@<host>"
    summary: str
    day: dt.date
    description: str = ""
    url: str = ""  # a path in csrisk, made absolute with CSRISK_BASE_URL
    weekly: bool = False
    categories: list[str] = field(default_factory=list)


# A source: (person, first day, last day) -> their items in that window.
Source = Callable[[User, dt.date, dt.date], Iterable[Item]]
_sources: dict[str, Source] = {}


def register_source(name: str, source: Source) -> None:
    _sources[name] = source


def sources() -> dict[str, Source]:
    return dict(_sources)


# --- the secret address ---------------------------------------------------------------------


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def feed_create(*, user: User) -> tuple[CalendarFeed, str]:
    """A new secret address for ``user`` (the old one stops working); returns the key,
    which exists only now."""
    feeds_revoke(user=user, reason="replaced")
    key = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        user=user, prefix=key[:8], digest=_digest(key), created_at=clock.now()
    )
    audit.record(actor=user, action="csrisk.calendar_feed_created", target=feed)
    return feed, key


def feeds_revoke(*, user: User, reason: str = "revoked") -> int:
    """Revoke ``user``'s live calendar address (race-safe; 0 if there was none)."""
    with transaction.atomic():
        live = list(CalendarFeed.objects.filter(user=user, revoked_at=None))
        CalendarFeed.objects.filter(pk__in=[f.pk for f in live]).update(revoked_at=clock.now())
        for feed in live:
            audit.record(
                actor=user, action="csrisk.calendar_feed_revoked", target=feed, reason=reason
            )
    return len(live)


def live_feed(user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at=None).first()


def feed_user(key: str) -> User | None:
    """The active person whose live address has this key, or None (one query)."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(digest=_digest(key), revoked_at=None)
        .first()
    )
    if feed is None or not feed.user.is_active:
        return None
    now = clock.now()
    if feed.last_used_at is None or now - feed.last_used_at > LAST_USED_EVERY:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    return feed.user


# --- the ICS document -----------------------------------------------------------------------


def items_for(user: User, today: dt.date | None = None) -> list[Item]:
    """Every registered source's items for ``user``, in a stable order."""
    today = today or clock.today()
    first = today - dt.timedelta(days=settings.CSRISK_CALENDAR_PAST_DAYS)
    last = today + dt.timedelta(days=settings.CSRISK_CALENDAR_FUTURE_DAYS)
    found = [item for source in _sources.values() for item in source(user, first, last)]
    return sorted(found, key=lambda item: (item.day, item.uid))


def ics(user: User) -> bytes:
    """``user``'s calendar as an RFC 5545 document."""
    base = settings.CSRISK_BASE_URL.rstrip("/")
    host = urlsplit(base).hostname or "csrisk"
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//csrisk//calendar feed//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"csrisk: {user.get_full_name() or user.username}")
    stamp = clock.now().astimezone(dt.UTC).replace(microsecond=0)
    for item in items_for(user):
        event = icalendar.Event()
        event.add("uid", f"{item.uid}@{host}")
        event.add("dtstamp", stamp)
        event.add("summary", item.summary)
        event.add("dtstart", item.day)
        event.add("dtend", item.day + dt.timedelta(days=1))
        event.add("transp", "TRANSPARENT")  # a due date does not make one busy all day
        if item.weekly:
            event.add("rrule", {"freq": "weekly"})
        if item.description:
            event.add("description", item.description)
        if item.url:
            event.add("url", f"{base}{item.url}")
        if item.categories:
            event.add("categories", item.categories)
        calendar.add_component(event)
    return calendar.to_ical()
