"""API tokens: create (the key is shown once), authenticate by digest, revoke.

Keys are ``secrets.token_urlsafe(40)``; the database holds their SHA-256 only, so a copy
of the database (a backup, a read replica, a leaked dump) grants no API access.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from csrisk import audit, clock
from csrisk.models import ApiToken, User

# A token's last use is written at most this often: not a write per API request.
LAST_USED_EVERY = dt.timedelta(minutes=5)
SOURCE_MAX = 40  # Signal.source's length


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def clean_sources(sources: Iterable[str] | str) -> list[str]:
    """``"zendesk, jira"`` or a list → ``["jira", "zendesk"]``; ValidationError if odd."""
    if isinstance(sources, str):
        sources = sources.split(",")
    out = sorted({s.strip() for s in sources if s and s.strip()})
    bad = [s for s in out if len(s) > SOURCE_MAX or not s.isprintable()]
    if bad:
        raise ValidationError(f"Not a source name: {bad[0]!r} (at most {SOURCE_MAX} characters).")
    return out


def default_expiry(user: User, now: dt.datetime) -> dt.datetime | None:
    """People's tokens expire after CSRISK_API_TOKEN_TTL_DAYS; integrations' do not (the
    machine cannot renew its own; admins revoke or rotate them instead)."""
    days = settings.CSRISK_API_TOKEN_TTL_DAYS
    if user.is_integration or not days:
        return None
    return now + dt.timedelta(days=days)


@transaction.atomic
def token_create(
    *,
    user: User,
    by: User | None,
    name: str = "",
    sources: Iterable[str] | str = (),
    expires_at: dt.datetime | str | None = "default",
) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it and its key (the only time the key exists)."""
    if not user.is_active:
        raise ValidationError(f"{user.username!r} is deactivated.")
    sources = clean_sources(sources)
    if sources and not user.is_integration:
        raise ValidationError("Only integration tokens are bound to signal sources.")
    now = clock.now()
    key = secrets.token_urlsafe(40)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=key[:8],
        digest=digest_of(key),
        sources=sources,
        created_at=now,
        created_by=by,
        expires_at=default_expiry(user, now) if expires_at == "default" else expires_at,
    )
    audit.record(
        actor=by,
        action="csrisk.token_created",
        target=token,
        changes={"sources": (None, ",".join(sources)), "expires_at": (None, token.expires_at)},
        reason=f"{token.prefix}… for {user.username}",
    )
    return token, key


def token_revoke(*, token: ApiToken, by: User) -> bool:
    """Revoke ``token`` (its owner or an admin); race-safe, False if it was revoked already."""
    if token.user_id != by.pk and not (by.is_superuser or by.is_staff):
        raise PermissionDenied("Only the token's owner or an admin may revoke it.")
    with transaction.atomic():
        done = ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=clock.now())
        if done:
            audit.record(
                actor=by,
                action="csrisk.token_revoked",
                target=token,
                reason=f"{token.prefix}… of {token.user}",
            )
    return bool(done)


def tokens_revoke_all(*, user: User, by: User | None) -> int:
    """Revoke every live token of ``user`` (``api_token --rotate``)."""
    with transaction.atomic():
        live = list(ApiToken.objects.filter(user=user, revoked_at=None))
        ApiToken.objects.filter(pk__in=[t.pk for t in live]).update(revoked_at=clock.now())
        for token in live:
            audit.record(actor=by, action="csrisk.token_revoked", target=token, reason="rotated")
    return len(live)


def token_authenticate(key: str) -> tuple[ApiToken | None, str]:
    """The live token with this key and its user, or (None, why not). One query."""
    token = ApiToken.objects.select_related("user").filter(digest=digest_of(key)).first()
    if token is None:
        return None, "Invalid token."
    now = clock.now()
    state = token.state(now)
    if state != "active":
        return None, f"Token {state}."
    if not token.user.is_active:
        return None, "User inactive or deleted."
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token, ""
