"""Telling people things: in-app at once, then e-mail and chat by a background task.

``notify`` stores the notification in the caller's transaction and queues its delivery
after the commit. Delivery is idempotent per channel (a retried task never sends twice),
retried with backoff when SMTP or the webhook fail, and never breaks the user's action.
A send that fails for good (a permanent error, or a transient one past its last retry) is
kept as a DeliveryFailure, listed in the admin, not only logged.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import re
import smtplib
import threading
import urllib.error
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, QuerySet
from django.template.loader import render_to_string

from csrisk import chat, clock, jobs, metrics, netguard
from csrisk.models import DeliveryFailure, Notification, NotificationPreference, User

log = logging.getLogger(__name__)

# Errors worth another try later (SMTP or the webhook down); anything else is permanent.
TRANSIENT = (OSError, smtplib.SMTPException, urllib.error.URLError, http.client.HTTPException)

IMMEDIATE, DIGEST, OFF = (
    NotificationPreference.IMMEDIATE,
    NotificationPreference.DIGEST,
    NotificationPreference.OFF,
)

# Every kind of event people can be told about, and how by default.
KINDS: dict[str, tuple[str, str]] = {
    "cta_flagged": ("A CTA of yours or your team is flagged", IMMEDIATE),
    "mention": ("You are mentioned in a CTA's chatter", IMMEDIATE),
    "cta_assigned": ("A CTA is given to you", DIGEST),
    "cta_overdue": ("A CTA is overdue", DIGEST),
    "scorecard_red": ("An account of yours turns red", IMMEDIATE),
    "scorecard_recovered": ("An account of yours leaves red", DIGEST),
    "override_expired": ("A scorecard override ran out", IMMEDIATE),
    "escalated": ("A CTA is escalated to your level (or yours moves)", IMMEDIATE),
    "escalation_queue": ("A CTA is flagged in your department's queue", IMMEDIATE),
    "escalation_reminder": ("An escalation waits for your acknowledgement", IMMEDIATE),
    "escalation_acknowledged": ("An escalation you are part of is acknowledged", IMMEDIATE),
    "escalation_resolved": ("An escalation you are part of is resolved", IMMEDIATE),
    "sponsor_assigned": ("You become an account's executive sponsor", IMMEDIATE),
    "sponsor_checkin": ("A sponsor check-in is due", IMMEDIATE),
    "sponsor_checkin_overdue": ("A sponsor check-in in your team is overdue", IMMEDIATE),
    "sponsor_help": ("Someone asks you, as sponsor, for help", IMMEDIATE),
    "executive_summary": ("The weekly executive summary (leadership)", IMMEDIATE),
}


_quiet = threading.local()


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """In-app only inside this block: no e-mail or chat (seeding a demo book, imports)."""
    previous = getattr(_quiet, "on", False)
    _quiet.on = True
    try:
        yield
    finally:
        _quiet.on = previous


def preference(user: User, kind: str) -> tuple[str, bool]:
    return preferences([user.pk], {kind}).get((user.pk, kind)) or default_preference(kind)


def default_preference(kind: str) -> tuple[str, bool]:
    return KINDS.get(kind, ("", DIGEST))[1], True


def preferences(
    user_ids: Iterable[int], kinds: Iterable[str]
) -> dict[tuple[int, str], tuple[str, bool]]:
    """The stored (e-mail mode, chat) of these people for these kinds, in one query; a pair
    not in it has ``default_preference``."""
    return {
        (user_id, kind): (email, chat_on)
        for user_id, kind, email, chat_on in NotificationPreference.objects.filter(
            user_id__in=set(user_ids), kind__in=set(kinds)
        ).values_list("user_id", "kind", "email", "chat")
    }


def preferences_set(*, user: User, choices: dict[str, tuple[str, bool]]) -> None:
    """Save a person's (e-mail mode, chat) per kind of event; refuses unknown values."""
    modes = {IMMEDIATE, DIGEST, OFF}
    for kind, (email, _chat) in choices.items():
        if kind not in KINDS or email not in modes:
            raise ValueError(f"Unknown notification choice {kind!r}: {email!r}.")
    with transaction.atomic():
        for kind, (email, chat_on) in choices.items():
            NotificationPreference.objects.update_or_create(
                user=user, kind=kind, defaults={"email": email, "chat": chat_on}
            )


class Note(NamedTuple):
    """One notification to store (``notify_many``)."""

    user: User
    kind: str
    title: str
    body: str = ""
    url: str = ""
    dedupe_key: str = ""


def notify(
    *, user: User, kind: str, title: str, body: str = "", url: str = "", dedupe_key: str = ""
) -> Notification | None:
    """Store one notification; the same (user, dedupe_key) is only ever delivered once."""
    stored = notify_many([Note(user, kind, title, body, url, dedupe_key)])
    return stored[0] if stored else None


def notify_many(notes: Sequence[Note]) -> list[Notification]:
    """Store notifications (``notify``'s rules: each person's e-mail preference decides
    digest or not, a (user, dedupe_key) stored before is skipped) with one read of the
    preferences and one insert; their delivery is queued after the commit, in batches.
    Returns the ones stored."""
    if not notes:
        return []
    prefs = preferences([n.user.pk for n in notes], {n.kind for n in notes})
    now = clock.now()
    if len(notes) > 1:
        # The keys stored before, read once, so that the insert below rarely conflicts.
        keys = {n.dedupe_key for n in notes if n.dedupe_key}
        seen = (
            set(
                Notification.objects.filter(
                    user_id__in={n.user.pk for n in notes}, dedupe_key__in=keys
                ).values_list("user_id", "dedupe_key")
            )
            if keys
            else set()
        )
    else:
        seen = set()
    rows: list[Notification] = []
    for n in notes:
        key = (n.user.pk, n.dedupe_key)
        if n.dedupe_key and key in seen:
            continue
        seen.add(key)
        email_mode = (prefs.get((n.user.pk, n.kind)) or default_preference(n.kind))[0]
        rows.append(
            Notification(
                user=n.user,
                kind=n.kind,
                title=n.title[:200],
                body=n.body,
                url=n.url,
                created_at=now,
                dedupe_key=n.dedupe_key or None,
                digest=email_mode == DIGEST,
            )
        )
    try:
        with transaction.atomic():
            stored = Notification.objects.bulk_create(rows)
    except IntegrityError:
        # Stored meanwhile by someone else (a concurrent run): one at a time, skipping those.
        stored = []
        for row in rows:
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
            except IntegrityError:
                continue  # already told
            stored.append(row)
    if stored and not getattr(_quiet, "on", False):
        ids = [n.pk for n in stored]
        transaction.on_commit(lambda: _queue(ids))
    return stored


DELIVERY_BATCH = 500


def _queue(notification_ids: list[int]) -> None:
    for start in range(0, len(notification_ids), DELIVERY_BATCH):
        chunk = notification_ids[start : start + DELIVERY_BATCH]
        try:
            if len(chunk) == 1:
                jobs.queue("csrisk.tasks.deliver_notification_task", chunk[0])
            else:
                jobs.queue("csrisk.tasks.deliver_notifications_task", chunk)
        except Exception:  # a broker or an in-process delivery failure must not break the action
            log.exception("could not queue delivery of notifications %s", chunk)


def deliver_each(notification_ids: Sequence[int]) -> int:
    """Deliver a batch of notifications (``deliver``, one by one); one that meets a
    transient error goes on alone, as ``deliver_notification_task`` with its retries.
    Returns how many were delivered here."""
    done = 0
    for pk in notification_ids:
        try:
            deliver(pk, last_attempt=False)
        except Notification.DoesNotExist:
            continue
        except TRANSIENT:
            jobs.queue("csrisk.tasks.deliver_notification_task", pk, countdown=5)
            continue
        done += 1
    return done


def deliver(notification_id: int, *, last_attempt: bool = True) -> dict[str, bool]:
    """Send one notification by e-mail and chat as its owner prefers; safe to run twice.

    A transient error is raised for the task to retry, and recorded as a failure only on
    the ``last_attempt``; a permanent one is recorded at once and the other channel goes on.
    """
    n = Notification.objects.select_related("user__team").get(pk=notification_id)
    email_mode, wants_chat = preference(n.user, n.kind)
    sent = {"email": False, "chat": False}
    if email_mode == IMMEDIATE and n.emailed_at is None and n.user.email:
        subject = f"[csrisk] {n.title}"
        sent["email"] = _attempt(
            lambda: send_email(n.user, subject, "notifications/email", {"items": [n]}),
            user=n.user,
            notification=n,
            channel=DeliveryFailure.EMAIL,
            subject=subject,
            last_attempt=last_attempt,
        ) and bool(
            Notification.objects.filter(pk=n.pk, emailed_at__isnull=True).update(
                emailed_at=clock.now()
            )
        )
    hook, chat_format = chat_target_for(n.user)
    if wants_chat and hook and n.chatted_at is None:
        sent["chat"] = _attempt(
            lambda: post_chat(hook, chat_payload(n, chat_format)),
            user=n.user,
            notification=n,
            channel=DeliveryFailure.CHAT,
            subject=n.title,
            last_attempt=last_attempt,
        ) and bool(
            Notification.objects.filter(pk=n.pk, chatted_at__isnull=True).update(
                chatted_at=clock.now()
            )
        )
    return sent


def _attempt(
    send: Callable[[], None],
    *,
    user: User,
    notification: Notification | None,
    channel: str,
    subject: str,
    last_attempt: bool,
) -> bool:
    """Run one send; True when it went out. Failures that will not be retried are kept."""
    try:
        send()
    except TRANSIENT as exc:
        if last_attempt:
            delivery_failure_record(
                user=user, notification=notification, channel=channel, subject=subject, error=exc
            )
        raise
    except Exception as exc:  # a bad header, a template error: retrying cannot help
        log.exception("could not send %s to %s", channel, user)
        delivery_failure_record(
            user=user, notification=notification, channel=channel, subject=subject, error=exc
        )
        return False
    return True


def delivery_failure_record(
    *,
    user: User,
    notification: Notification | None,
    channel: str,
    subject: str,
    error: BaseException,
) -> DeliveryFailure:
    metrics.delivery_failed(channel)
    return DeliveryFailure.objects.create(
        at=clock.now(),
        user=user,
        notification=notification,
        channel=channel,
        subject=email_subject(subject),
        error=f"{type(error).__name__}: {error}"[:2000],
    )


def send_digests() -> int:
    """One e-mail per person with their digest notifications not yet e-mailed."""
    pending = (
        Notification.objects.filter(digest=True, emailed_at__isnull=True)
        .select_related("user")
        .order_by("user_id", "created_at")
    )
    by_user: dict[int, list[Notification]] = {}
    for n in pending:
        by_user.setdefault(n.user_id, []).append(n)
    sent = 0
    for items in by_user.values():
        user = items[0].user
        if not user.email:
            continue
        subject = f"[csrisk] Your daily digest: {len(items)} update{'s' if len(items) != 1 else ''}"
        # One person's failed digest is kept for the admin and waits for tomorrow's run;
        # it never stops the others'.
        try:
            send_email(user, subject, "notifications/email", {"items": items})
        except Exception as exc:
            log.exception("could not send the digest to %s", user)
            delivery_failure_record(
                user=user, notification=None, channel="email", subject=subject, error=exc
            )
            continue
        Notification.objects.filter(pk__in=[n.pk for n in items]).update(emailed_at=clock.now())
        sent += 1
    return sent


# Whitespace runs, C0/C1 control characters and Unicode line separators.
_SUBJECT_BREAKS = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def email_subject(text: str) -> str:
    """One line of at most 200 characters: a CR/LF from a name must not break the header
    (Django refuses such a subject outright, so the e-mail would never go)."""
    return _SUBJECT_BREAKS.sub(" ", text).strip()[:200]


def send_email(user: User, subject: str, template: str, context: dict[str, Any]) -> None:
    """Every e-mail csrisk sends goes through here, so its subject is always made safe."""
    context = {**context, "user": user, "base_url": settings.CSRISK_BASE_URL.rstrip("/")}
    message = EmailMultiAlternatives(
        subject=email_subject(subject),
        body=render_to_string(f"{template}.txt", context),
        to=[user.email],
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    message.send()


def chat_target_for(user: User) -> tuple[str, str]:
    """The webhook ``user``'s chat messages go to and its format (``csrisk.chat``): the
    team's hook with the team's format (else the global one), else the global hook."""
    team = user.team if user.team_id else None
    if team is not None and team.chat_webhook_url:
        return team.chat_webhook_url, team.chat_format or settings.CHAT_WEBHOOK_FORMAT
    return settings.CHAT_WEBHOOK_URL, settings.CHAT_WEBHOOK_FORMAT


def chat_webhook_for(user: User) -> str:
    return chat_target_for(user)[0]


def chat_message(n: Notification) -> chat.Message:
    """What a notification says in chat, whichever chat it is."""
    link = f"{settings.CSRISK_BASE_URL.rstrip('/')}{n.url}" if n.url else ""
    kind = KINDS.get(n.kind, (n.kind, ""))[0]
    return chat.Message(
        title=n.title,
        body=n.body,
        facts=[("For", f"@{n.user.username}"), ("About", kind)],
        link=link,
        fallback=f"{n.title} (for @{n.user.username})",
    )


def chat_payload(n: Notification, chat_format: str = chat.SLACK) -> dict[str, Any]:
    """The notification as a chat post in ``chat_format``; user text is escaped (Slack)."""
    return chat.payload(chat_message(n), chat_format)


def post_chat(url: str, payload: dict[str, Any]) -> None:
    """POST a chat message through the SSRF guard outbound webhooks use
    (``csrisk.netguard``): never to a private, loopback or link-local address unless
    CSRISK_WEBHOOKS_ALLOW_PRIVATE, redirects never followed. A refused address is
    ``BlockedAddress`` (a ValueError: recorded at once, not retried)."""
    answer = netguard.post(
        url,
        json.dumps(payload).encode(),
        {"Content-Type": "application/json", "User-Agent": "csrisk-chat"},
        timeout=10,
    )
    if answer.status >= 300:
        raise OSError(f"chat webhook answered {answer.status}")


def of_user(user: User) -> QuerySet[Notification]:
    """A person's own notifications, newest first: what the page and the API list."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")


def _unread(user: User) -> QuerySet[Notification]:
    return of_user(user).filter(read_at__isnull=True)


def unread_count(user: User) -> int:
    return _unread(user).count()


def unread_state(user: User) -> tuple[int, int | None]:
    """How many unread notifications ``user`` has and the newest one's id, in one query:
    what the polled bell shows and what its ETag is made of."""
    seen = _unread(user).aggregate(n=Count("pk"), last=Max("pk"))
    return seen["n"], seen["last"]


def mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark some (or all) of a person's notifications read; race-safe and idempotent."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=clock.now())
