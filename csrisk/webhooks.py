"""Signed outbound webhooks: subscriptions, the event catalogue, delivery and retries.

The domain events csrisk already emits (``csrisk.events``) become outbound events here,
in one place (``RECEIVERS``, connected in ``CsriskConfig.ready``). Publishing stores one
delivery row per subscriber in the caller's transaction (an event that rolls back sends
nothing) and queues ``deliver_webhook_task`` after the commit. Each attempt is signed the
Standard Webhooks way (``sign``) and posted through ``csrisk.netguard`` (public addresses
only, checked again at send time, no redirects, short timeouts). A failed attempt is
retried with exponential backoff up to ``max_attempts``; the beat sweeper resends what a
lost message left pending. docs/integrations.md explains it for receivers.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from csrisk import audit, clock, events, jobs, metrics, netguard
from csrisk.models import User, WebhookDelivery, WebhookSubscription

log = logging.getLogger(__name__)

# Every outbound event type and what it means (the catalogue the admin and API offer).
EVENTS: dict[str, str] = {
    "scorecard.color_changed": "A scorecard area (or the overall colour) changed colour",
    "risk.changed": "An account's renewal-risk band changed",
    "cta.flagged": "A CTA was flagged (help asked for)",
    "escalation.raised": "An escalation opened at level 1 or moved up a level",
    "escalation.resolved": "An escalation was resolved",
    "sponsor.checkin_logged": "An executive sponsor logged a check-in",
}
EVENT_CHOICES = [(name, f"{name}: {text}") for name, text in EVENTS.items()]

# An attempt holds its delivery this long: a worker lost mid-send leaves it to the sweeper.
LEASE = dt.timedelta(minutes=2)
SWEEP_BATCH = 500
# Retries due sooner than this are queued with a countdown; later ones wait for the sweeper.
COUNTDOWN_MAX = dt.timedelta(minutes=10)


# --- subscriptions ----------------------------------------------------------------------


def secret_new() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def clean_events(names: Iterable[str]) -> list[str]:
    names = list(dict.fromkeys(names))
    unknown = [n for n in names if n not in EVENTS]
    if unknown or not names:
        raise ValidationError(
            {"events": f"Choose one or more of {', '.join(EVENTS)} (not {unknown or 'none'})."}
        )
    return names


def clean_url(url: str) -> str:
    """The URL when csrisk may post to it now; ValidationError with the reason if not."""
    try:
        netguard.check_url(url)
    except netguard.BlockedAddress as exc:
        raise ValidationError({"url": str(exc)}) from exc
    except OSError as exc:
        raise ValidationError({"url": f"The host does not resolve: {exc}"}) from exc
    return url


@transaction.atomic
def subscription_create(
    *, by: User | None, name: str, url: str, events: Iterable[str], active: bool = True
) -> WebhookSubscription:
    """A new subscription with a fresh secret; who created it is audited."""
    subscription = WebhookSubscription.objects.create(
        name=name.strip()[:100] or url[:100],
        url=clean_url(url),
        events=clean_events(events),
        secret=secret_new(),
        active=active,
        created_at=clock.now(),
        created_by=by if by and by.pk else None,
    )
    audit.record(
        actor=by,
        action="webhook.subscription_created",
        target=subscription,
        changes={"url": (None, url), "events": (None, ",".join(subscription.events))},
        reason=subscription.name,
    )
    return subscription


@transaction.atomic
def subscription_update(
    *, subscription: WebhookSubscription, by: User | None, **fields: Any
) -> WebhookSubscription:
    """Change name, url, events or active; each change is audited."""
    cleaners: dict[str, Callable[[Any], Any]] = {
        "name": lambda v: str(v).strip()[:100],
        "url": clean_url,
        "events": clean_events,
        "active": bool,
    }
    changes: dict[str, tuple[Any, Any]] = {}
    for field, value in fields.items():
        new = cleaners[field](value)
        old = getattr(subscription, field)
        if new != old:
            changes[field] = (old, ",".join(new) if field == "events" else new)
            setattr(subscription, field, new)
    if changes:
        subscription.save()
        audit.record(
            actor=by,
            action="webhook.subscription_changed",
            target=subscription,
            changes=changes,
            reason=subscription.name,
        )
    return subscription


@transaction.atomic
def subscription_delete(*, subscription: WebhookSubscription, by: User | None) -> None:
    audit.record(
        actor=by,
        action="webhook.subscription_deleted",
        target=subscription,
        reason=f"{subscription.name} ({subscription.url})",
    )
    subscription.delete()


# --- publishing ---------------------------------------------------------------------------


def publish(event: str, data: dict[str, Any], *, at: dt.datetime | None = None) -> int:
    """Store a delivery of ``event`` for each active subscriber (in the caller's
    transaction) and queue them after the commit. Returns how many."""
    return publish_many(event, [(data, at)])


def publish_many(event: str, items: list[tuple[dict[str, Any], dt.datetime | None]]) -> int:
    """``publish`` for several occurrences of one event type (a recompute's colour
    changes): one read of the subscribers and one insert for all of them."""
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}.")
    # contains on a JSON list is not portable (SQLite): the subscribers are few, filter here
    wanted = [s for s in WebhookSubscription.objects.filter(active=True) if event in s.events]
    if not wanted or not items:
        return 0
    now = clock.now()
    rows = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            subscription=s,
            event=event,
            message_id=f"msg_{secrets.token_urlsafe(18)}",
            body=_body(event, data, at or now),
            max_attempts=settings.CSRISK_WEBHOOKS_MAX_ATTEMPTS,
            next_attempt_at=now,
            created_at=now,
        )
        for data, at in items
        for s in wanted
    )
    ids = [r.pk for r in rows]  # PostgreSQL and SQLite both return the new keys
    transaction.on_commit(lambda: _queue(ids))
    return len(ids)


def _body(event: str, data: dict[str, Any], at: dt.datetime) -> str:
    stamp = at.isoformat().replace("+00:00", "Z")
    return json.dumps({"type": event, "timestamp": stamp, "data": data}, separators=(",", ":"))


def _queue(ids: list[int], countdown: float = 0) -> None:
    for pk in ids:
        try:
            jobs.queue("csrisk.tasks.deliver_webhook_task", pk, countdown=countdown)
        except Exception:  # a broker hiccup: the sweeper sends it (the row is the truth)
            log.exception("could not queue webhook delivery %s", pk)


# --- signing and delivery ----------------------------------------------------------------


def _key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret is its base64-decoded bytes (Standard Webhooks)."""
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The webhook-signature header: ``v1,`` + base64(HMAC-SHA256(key, id.timestamp.body))."""
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers_for(delivery: WebhookDelivery, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "csrisk-webhooks/1",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(
            delivery.subscription.secret, delivery.message_id, timestamp, delivery.body
        ),
    }


def backoff(attempts: int) -> dt.timedelta:
    """How long after its ``attempts``-th failed attempt a delivery is tried again."""
    base = settings.CSRISK_WEBHOOKS_BACKOFF_SECONDS
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def deliver(delivery_id: int) -> str:
    """One attempt at a due, pending delivery; safe to run twice (the claim is a
    conditional UPDATE). Returns the delivery's status after it, or ``"skipped"``."""
    now = clock.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.PENDING, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + LEASE, last_attempt_at=now)
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    if not delivery.subscription.active:
        return _finish(delivery, WebhookDelivery.FAILED, error="The subscription is inactive.")
    timestamp = int(now.timestamp())
    try:
        answer = netguard.post(
            delivery.subscription.url,
            delivery.body.encode(),
            headers_for(delivery, timestamp),
            timeout=settings.CSRISK_WEBHOOKS_TIMEOUT_SECONDS,
        )
    except netguard.BlockedAddress as exc:
        # The host resolves to a refused address now (rebinding, or a changed record):
        # never retried on its own; an admin may fix the URL and retry by hand.
        return _finish(delivery, WebhookDelivery.FAILED, error=f"Refused: {exc}")
    except (OSError, http.client.HTTPException) as exc:
        return _failed_attempt(delivery, error=f"{type(exc).__name__}: {exc}")
    if 200 <= answer.status < 300:
        return _finish(delivery, WebhookDelivery.DELIVERED, code=answer.status, at=now)
    why = "a redirect (not followed)" if 300 <= answer.status < 400 else "an error"
    return _failed_attempt(
        delivery,
        code=answer.status,
        error=f"HTTP {answer.status}, {why}: {answer.body[:500]}".strip(": "),
    )


def _finish(
    delivery: WebhookDelivery,
    status: str,
    *,
    error: str = "",
    code: int | None = None,
    at: dt.datetime | None = None,
) -> str:
    if status == WebhookDelivery.FAILED:  # for good: no attempt of its own will follow
        metrics.delivery_failed("webhook")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status,
        next_attempt_at=None,
        response_code=code,
        last_error=error[:2000],
        delivered_at=at,
    )
    return status


def _failed_attempt(delivery: WebhookDelivery, *, error: str, code: int | None = None) -> str:
    """Another try later with exponential backoff, or failed after the last attempt."""
    if delivery.attempts >= delivery.max_attempts:
        return _finish(delivery, WebhookDelivery.FAILED, error=error, code=code)
    wait = backoff(delivery.attempts)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=clock.now() + wait, response_code=code, last_error=error[:2000]
    )
    # A short wait is queued with a countdown; a long one (or in-process work, which cannot
    # wait) is left to the sweeper: a Redis message held for hours past the broker's
    # visibility timeout would only be delivered twice.
    if wait <= COUNTDOWN_MAX and not jobs.runs_eagerly():
        _queue([delivery.pk], countdown=wait.total_seconds())
    return WebhookDelivery.PENDING


def delivery_retry(*, delivery: WebhookDelivery, by: User | None) -> WebhookDelivery:
    """Try again now (the admin's action): a failed delivery gets a new round of attempts."""
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.PENDING,
            next_attempt_at=clock.now(),
            max_attempts=F("attempts") + settings.CSRISK_WEBHOOKS_MAX_ATTEMPTS,
        )
        audit.record(
            actor=by,
            action="webhook.delivery_retried",
            target=delivery,
            reason=f"{delivery.event} to {delivery.subscription_id} ({delivery.status})",
        )
        transaction.on_commit(lambda: _queue([delivery.pk]))
    delivery.refresh_from_db()
    return delivery


def sweep(batch: int = SWEEP_BATCH) -> int:
    """Queue the pending deliveries that are due (a lost message, an expired lease, a
    retry that waited in-process mode). The database is the source of truth."""
    due = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.PENDING, next_attempt_at__lte=clock.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:batch]
    )
    _queue(due)
    return len(due)


# --- the one place domain events become outbound events -----------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if isinstance(value, dt.datetime) else value


def on_color_changed(sender: Any, **event: Any) -> None:
    # A recompute sends its colour changes as one batch (events.emit_all_on_commit):
    # they become deliveries together, with one read of the subscribers. What a backfill
    # of history changed is not news, here as for people's alerts.
    if not events.is_news(event.get("cause") or ""):
        return
    events.coalesce("webhooks:scorecard.color_changed", _publish_colors, event)


def _publish_colors(changes: list[dict[str, Any]]) -> None:
    publish_many(
        "scorecard.color_changed",
        [
            (
                {
                    "account_id": e["account_id"],
                    "area": e["area"],
                    "old": e.get("old"),
                    "new": e["new"],
                    "cause": e.get("cause"),
                    "reason": e.get("reason", ""),
                },
                e.get("at"),
            )
            for e in changes
        ],
    )


def on_cta_flagged(sender: Any, **event: Any) -> None:
    publish(
        "cta.flagged",
        {
            "cta_id": event["cta_id"],
            "account_id": event.get("account_id"),
            "area": event.get("area"),
            "by_id": event.get("by_id"),
            "reason": event.get("reason", ""),
        },
    )


# Which escalation steps are news outside: opened or moved up, and resolved.
RAISED_STEPS = {"opened", "escalated", "auto_escalated"}


def on_escalation_step(sender: Any, **event: Any) -> None:
    action = event["action"]
    if action in RAISED_STEPS:
        name = "escalation.raised"
    elif action == "resolved":
        name = "escalation.resolved"
    else:
        return
    publish(
        name,
        {
            "escalation_id": event["escalation_id"],
            "cta_id": event["cta_id"],
            "account_id": event["account_id"],
            "step": action,
            "from_level": event.get("from_level"),
            "level": event.get("to_level") or event.get("level"),
            "by_id": event.get("by_id"),
            "reason": event.get("reason", ""),
        },
        at=event.get("at"),
    )


def on_checkin_logged(sender: Any, **event: Any) -> None:
    publish(
        "sponsor.checkin_logged",
        {
            "checkin_id": event["checkin_id"],
            "cta_id": event["cta_id"],
            "account_id": event["account_id"],
            "by_id": event["by_id"],
            "sentiment": event["sentiment"],
            "risks_found": event["risks"],
        },
        at=event.get("at"),
    )


def on_risk_changed(sender: Any, **event: Any) -> None:
    at, model_id = event.get("at"), event["model_id"]
    publish_many(
        "risk.changed", [({**change, "model_id": model_id}, at) for change in event["changes"]]
    )


RECEIVERS: list[tuple[Any, Callable[..., None]]] = [
    (events.color_changed, on_color_changed),
    (events.cta_flagged, on_cta_flagged),
    (events.escalation_step, on_escalation_step),
    (events.checkin_logged, on_checkin_logged),
    (events.risk_changed, on_risk_changed),
]


def connect() -> None:
    for signal, receiver in RECEIVERS:
        signal.connect(receiver, dispatch_uid=f"webhooks-{receiver.__name__}")
