"""Who sent a signal, which sources it may write, and who may replace a stored version.

One home for the rules of issue 19 (docs/security.md, "Signal provenance and tokens"):
- only integration users push signals (REST, webhooks); a signed webhook is its tool;
  the team-lead CSV upload is the one human path, limited to the uploader's accounts;
- a token bound to sources writes only those sources (a per-item rejection otherwise);
  an unbound token writes any source;
- a stored signal's later version is accepted from a sender bound to its source (a
  bound token, or the tool's signed webhook), or else only from the same sender class
  and principal: the same unbound integration user, or another CSV upload.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from csrisk.permissions import IsIntegration

TOKEN, WEBHOOK, CSV, SYSTEM = "token", "webhook", "csv", "system"
VIA_CHOICES = [
    ("", "unknown (before provenance was recorded)"),
    (TOKEN, "integration token"),
    (WEBHOOK, "signed webhook"),
    (CSV, "CSV upload"),
    (SYSTEM, "csrisk itself"),
]
# Stored signals whose sender nobody may claim: received before provenance was recorded,
# or written by csrisk's own code (seeding, scripts). Any allowed sender may update them.
_OPEN = {"", SYSTEM}

NOT_INTEGRATION = IsIntegration.message


@dataclass(frozen=True, slots=True)
class Sender:
    """The sender of one request or upload, as every signal it stores records it."""

    via: str
    label: str
    user_id: int | None = None
    # The sources a bound token may write; None when unbound (any source).
    sources: frozenset[str] | None = None
    # A CSV upload: the accounts the uploader may write (None: any account).
    account_ids: frozenset[int] | None = None

    @property
    def bound(self) -> bool:
        """Speaks for the sources it writes: a bound token, a signed webhook, csrisk."""
        return self.sources is not None or self.via in (WEBHOOK, SYSTEM)

    def source_refusal(self, source: str) -> str:
        """Why this sender may not write ``source`` ("" when it may)."""
        if self.sources is not None and source not in self.sources:
            return (
                f"this token may write only {', '.join(sorted(self.sources))}; "
                f"not source {source!r}"
            )
        return ""

    def account_refusal(self, account_id: int | None) -> str:
        if self.account_ids is not None and account_id not in self.account_ids:
            return "the account is outside your teams (you may upload only for your accounts)"
        return ""

    def update_refusal(self, stored: Any, source: str) -> str:
        """Why this sender may not replace ``stored``'s version ("" when it may).
        ``stored`` has ``sent_via``, ``sent_by_id``, ``sent_bound`` and ``sender``."""
        if stored.sent_via in _OPEN or self.via == SYSTEM:
            return ""
        if self.bound:
            return ""  # the source's own authority (a bound token or its signed webhook)
        same_class = self.via == stored.sent_via and not stored.sent_bound
        if same_class and (self.via == CSV or stored.sent_by_id == self.user_id):
            return ""  # another upload, or the same unbound integration user
        return (
            f"stored by {stored.sender or 'another sender'}; only that sender or one bound "
            f"to source {source!r} may update it"
        )


SYSTEM_SENDER = Sender(via=SYSTEM, label="csrisk itself (a script or the demo seed)")


def sender_of_token(user: Any, token: Any) -> Sender:
    """An integration user's request; ``token`` is its ``ApiToken`` (None under a session,
    as in tests that force authentication)."""
    if token is None:
        return Sender(via=TOKEN, label=f"{user.username} (no token)", user_id=user.pk)
    sources = frozenset(token.sources) if token.sources else None
    return Sender(
        via=TOKEN,
        label=f"{user.username} with {token.describe()}",
        user_id=user.pk,
        sources=sources,
    )


def sender_of_webhook(source: str) -> Sender:
    """A webhook whose HMAC signature checked out: bound to its tool's source only."""
    return Sender(
        via=WEBHOOK,
        label=f"webhook {source} with verified signature",
        sources=frozenset({source}),
    )


def sender_of_upload(user: Any, upload_id: int, account_ids: frozenset[int] | None) -> Sender:
    return Sender(
        via=CSV,
        label=f"CSV upload by {user.username} (upload #{upload_id})",
        user_id=user.pk,
        account_ids=account_ids,
    )
