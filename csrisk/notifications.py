"""Telling people things. In-app for now; e-mail and chat delivery build on this."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from csrisk import clock
from csrisk.models import Notification, User


def notify(
    *, user: User, kind: str, title: str, body: str = "", url: str = "", dedupe_key: str = ""
) -> Notification | None:
    """Store one notification; the same (user, dedupe_key) is only ever delivered once."""
    try:
        with transaction.atomic():
            return Notification.objects.create(
                user=user,
                kind=kind,
                title=title[:200],
                body=body,
                url=url,
                created_at=clock.now(),
                dedupe_key=dedupe_key or None,
            )
    except IntegrityError:
        return None  # already told


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark some (or all) of a person's notifications read; race-safe and idempotent."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=clock.now())
