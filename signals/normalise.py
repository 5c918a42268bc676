"""Turn one incoming signal (the generic shape of CONTRACT.md) into a checked, plain item.

Pure functions, no ORM: ``normalise(raw)`` returns an ``Item`` or raises ``Invalid`` with a
reason a sender can act on. The native adapters (Zendesk, Jira, CRM) produce the generic
shape first, so every path is checked by the same code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accounts.choices import (
    CompetitorActivity,
    ContactRole,
    PeopleChangeKind,
    TicketKind,
    TicketPriority,
    TicketStatus,
)
from csrisk.validators import CONTROL_CHARACTERS_MESSAGE, control_character_reason
from signals.choices import Kind

MAX_TEXT = 200
EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
LEEWAY = dt.timedelta(days=1)  # a sender's clock may run ahead of ours
PRIORITIES = {
    **{p.value: p.value for p in TicketPriority},
    "p1": "urgent",
    "p2": "high",
    "p3": "normal",
    "p4": "low",
    "critical": "urgent",
    "highest": "urgent",
    "blocker": "urgent",
    "medium": "normal",
    "lowest": "low",
    "minor": "low",
    "major": "high",
    "trivial": "low",
}
STATUSES = {
    **{s.value: s.value for s in TicketStatus},
    "hold": "pending",
    "on-hold": "pending",
    "resolved": "solved",
    "done": "solved",
    "in progress": "open",
    "to do": "new",
    "backlog": "new",
    "deleted": "closed",
}
ROLES = {
    **{r.value: r.value for r in ContactRole},
    "executive_decision_maker": "edm",
    "decision_maker": "edm",
    "economic_buyer": "edm",
}


KINDS = frozenset(Kind.values)
CHANGES = {c.value: c.value for c in PeopleChangeKind}
ACTIVITIES = {a.value: a.value for a in CompetitorActivity}
TICKET_TYPES = {"support": "support", "defect": "defect", "bug": "defect"}


# One encoder for every payload: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str)


def _json_encoder() -> Callable[[Any], str]:
    """``_ENCODER.encode``, less its per-call cost: ``encode`` builds the C encoder (and a
    dict for the circularity check) for every payload, several microseconds each; a
    payload built by ``normalise`` is a fresh tree and cannot be circular. Same text."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without the C accelerator
        return _ENCODER.encode
    encode = make(
        None, str, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, True
    )
    return lambda obj: "".join(encode(obj, 0))


encode_json = _json_encoder()
_json_str = json.encoder.encode_basestring_ascii  # a str as JSON, quoted and escaped
_TICKET_KEYS = ("priority", "status", "tags", "subject", "type", "requester_group")
_SOLVED_TICKET_KEYS = (*_TICKET_KEYS, "solved_at")


def _ticket_json(item: Item) -> str | None:
    """A ticket's payload exactly as ``encode_json(item.payload())`` writes it, from an
    f-string: tickets are most of the volume, and the general encoder's walk over two
    dicts costs more than the rest of the digest. None when the attributes are not the
    shape ``_attributes`` builds for a ticket (the caller then encodes the dicts)."""
    a = item.attributes
    keys = tuple(a)
    if keys != _TICKET_KEYS and keys != _SOLVED_TICKET_KEYS:
        return None
    account = (
        f'{{"id":{int(item.account_id)}}}'
        if item.account_id
        else f'{{"external_id":{_json_str(item.account_ref)}}}'
    )
    tags = ",".join([_json_str(tag) for tag in a["tags"]])
    solved = f',"solved_at":{_json_str(a["solved_at"])}' if len(keys) == 7 else ""
    return (
        f'{{"account":{account},"attributes":{{"priority":{_json_str(a["priority"])},'
        f'"status":{_json_str(a["status"])},"tags":[{tags}],"subject":{_json_str(a["subject"])},'
        f'"type":{_json_str(a["type"])},"requester_group":{_json_str(a["requester_group"])}'
        f"{solved}}}}}"
    )


class Invalid(ValueError):
    """The item cannot be accepted; the message says why."""


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An item a native adapter could not read (a field of the wrong type): the store
    rejects it, with this reason, like any other bad item, and keeps the good ones."""

    reason: str
    external_id: str = ""


def storable_text(value: str) -> bool:
    """Whether PostgreSQL can store ``value``: UTF-8 text (no lone surrogate, which JSON's
    \\udc00 escape can carry into Python) and no NUL."""
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _unstorable(what: str, value: str) -> Invalid:
    if "\x00" in value:
        return Invalid(f"{what} contains a NUL character")
    return Invalid(f"{what} contains a lone surrogate (\\ud800–\\udfff), which is not Unicode text")


def storable_payload(payload: str) -> str:
    """Why PostgreSQL cannot store this payload (JSON as ``encode_json`` writes it: ASCII,
    every other character escaped), or "" when it can. A safety net behind the checks of
    each field (``_text``), which name the field."""
    if "\\u0000" in payload:
        return "the signal contains a NUL character"
    if "\\ud" in payload:
        try:
            json.dumps(json.loads(payload), ensure_ascii=False).encode()
        except UnicodeEncodeError:
            return "the signal contains a lone surrogate, which is not Unicode text"
    return ""


def printable(text: str) -> str:
    """``text`` as an answer or a stored reason can carry it: NUL and lone surrogates
    escaped (a reason may quote what the sender sent)."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode()


@dataclass(slots=True)
class Item:
    """A checked signal, ready to store."""

    source: str
    external_id: str
    kind: str
    occurred_at: dt.datetime
    account_id: int | None
    account_ref: str  # the sender's external id of the organisation ("" with account_id)
    attributes: dict[str, Any]
    occurred_iso: str  # occurred_at.isoformat(), in UTC
    source_updated_at: dt.datetime | None = None

    @property
    def month(self) -> dt.date:
        return self.occurred_at.date().replace(day=1)

    @property
    def month_iso(self) -> str:
        """``month.isoformat()`` without building a date (that costs microseconds)."""
        return self.occurred_iso[:8] + "01"

    def payload(self) -> dict[str, Any]:
        account: dict[str, Any] = (
            {"id": self.account_id} if self.account_id else {"external_id": self.account_ref}
        )
        return {"account": account, "attributes": self.attributes}

    def encoded(self) -> tuple[str, str]:
        """The payload as stored (JSON) and the digest of this version's content, so a
        resend of the same content is recognised as a duplicate. No key sorting needed:
        ``normalise`` builds every payload with its keys in one fixed order."""
        text = (_ticket_json(self) if self.kind == "ticket" else None) or encode_json(
            self.payload()
        )
        head = f"{self.kind}|{self.occurred_iso}|"
        return text, hashlib.sha1((head + text).encode(), usedforsecurity=False).hexdigest()

    def digest(self) -> str:
        return self.encoded()[1]


def _plain_utc(value: Any, now: dt.datetime) -> dt.datetime | None:
    """The time, when ``value`` has the shape nearly every sender uses — 2026-10-01T09:30:00Z:
    UTC, whole seconds — and is in range; else None (``parse_time`` then reads it or says
    why not). Such a time needs no clean-up, and its isoformat is the text with +00:00 for
    the Z (see ``normalise``)."""
    if not (
        type(value) is str
        and len(value) == 20
        and value[19] == "Z"
        and value[10] == "T"
        and value[4] == "-"
        and value[7] == "-"
        and value[13] == ":"
        and value[16] == ":"
    ):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if EARLIEST <= parsed <= now + LEEWAY else None


def parse_time(value: Any, what: str, *, now: dt.datetime, required: bool = True) -> Any:
    if value in (None, ""):
        if required:
            raise Invalid(f"{what} is required (an ISO 8601 time such as 2026-10-01T09:30:00Z)")
        return None
    parsed = _plain_utc(value, now)
    if parsed is not None:
        return parsed
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Epoch milliseconds (Salesforce commitTimestamp) or seconds.
        seconds = value / 1000 if value > 1e11 else value
        try:
            parsed = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise Invalid(f"{what} {value!r} is not a valid time") from None
    elif isinstance(value, str):
        text = value.strip()
        # Python 3.11 reads at most 6 fractional digits; Zendesk sends nanoseconds.
        if "." in text:
            head, _, rest = text.partition(".")
            digits = len(rest) - len(rest.lstrip("0123456789"))
            rest = rest[: min(digits, 6)] + rest[digits:]
            text = f"{head}.{rest}"
        if text.endswith(("+0000", "-0000")) and len(text) > 5 and text[-5] in "+-":
            text = text[:-5] + "+00:00"  # Jira's 2026-10-01T09:30:00.000+0000
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise Invalid(
                f"{what} {value!r} is not an ISO 8601 time such as 2026-10-01T09:30:00Z"
            ) from None
        if parsed.tzinfo is None:
            if len(text) == 10:  # a plain date: midnight UTC
                parsed = parsed.replace(tzinfo=dt.UTC)
            else:
                raise Invalid(f"{what} {value!r} has no time zone; add Z or an offset")
    else:
        raise Invalid(f"{what} must be a string time, not {type(value).__name__}")
    if parsed < EARLIEST or parsed > now + LEEWAY:
        raise Invalid(f"{what} {value!r} is out of range (before 1990 or in the future)")
    return parsed.astimezone(dt.UTC)


def _one_line(value: str, what: str) -> str:
    """A name or title: one line, no control characters (they would break the e-mail
    headers the name ends up in)."""
    if control_character_reason(value):
        raise Invalid(f"{what}: {CONTROL_CHARACTERS_MESSAGE}")
    return value


def _text(value: Any, what: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    if (
        type(value) is str
        and 0 < len(value) <= limit
        and "\x00" not in value
        and (value.isascii() or storable_text(value))
    ):
        value = value.strip()
        if value or not required:
            return value
    if value is None or value == "":
        if required:
            raise Invalid(f"{what} is required")
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise Invalid(f"{what} must be a string")
    value = value.strip()
    if required and not value:
        raise Invalid(f"{what} is required")
    if len(value) > limit:
        raise Invalid(f"{what} is longer than {limit} characters")
    if not storable_text(value):
        raise _unstorable(what, value)
    return value


def _choice(value: Any, table: dict[str, str], what: str, *, required: bool) -> str:
    if type(value) is str:
        found = table.get(value)  # already in the table's form: the common case
        if found is not None:
            return found
    if value in (None, ""):
        if required:
            raise Invalid(f"{what} is required; one of {', '.join(sorted(set(table.values())))}")
        return ""
    key = str(value).strip().lower()
    if key not in table:
        raise Invalid(
            f"unknown {what} {value!r}; use one of {', '.join(sorted(set(table.values())))}"
        )
    return table[key]


def _int(value: Any, what: str, *, lo: int, hi: int, required: bool) -> int | None:
    if value is None or value == "":
        if required:
            raise Invalid(f"{what} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Invalid(f"{what} must be a whole number")
    try:
        number = float(value)
        whole = int(number)  # inf and nan (JSON allows them) fail here
    except (ValueError, OverflowError):
        raise Invalid(f"{what} {value!r} is not a whole number") from None
    if number != whole or not lo <= whole <= hi:
        raise Invalid(f"{what} must be a whole number from {lo} to {hi}")
    return whole


def _roles(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    parts = value if isinstance(value, list) else str(value).replace(";", ",").split(",")
    keys = [re.sub(r"[^a-z0-9]+", "_", str(p).strip().lower()).strip("_") for p in parts]
    return list(dict.fromkeys(_choice(k, ROLES, "role", required=True) for k in keys if k))


def _attributes(kind: str, attrs: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    if kind == Kind.TICKET:
        tags = attrs.get("tags") or []
        if type(tags) is not list:
            raise Invalid("attributes.tags must be a list of strings")
        clean = []
        for tag in tags:
            if type(tag) is not str:
                raise Invalid("attributes.tags must be a list of strings")
            if not storable_text(tag):
                raise _unstorable("attributes.tags", tag)
            tag = tag.strip()
            if tag:
                clean.append(tag.lower()[:50])
        solved_at = attrs.get("solved_at")
        solved = (
            None  # the usual case, without the call
            if solved_at is None
            else parse_time(solved_at, "attributes.solved_at", now=now, required=False)
        )
        # Values already in the tables' form (nearly all) are looked up here; the rest
        # go to ``_choice``, which cleans them up or says why not.
        priority, status = attrs.get("priority"), attrs.get("status")
        out = {
            "priority": (type(priority) is str and PRIORITIES.get(priority))
            or _choice(priority, PRIORITIES, "priority", required=False)
            or "normal",
            "status": (type(status) is str and STATUSES.get(status))
            or _choice(status, STATUSES, "status", required=False)
            or "new",
            "tags": clean[:30],
            "subject": _text(attrs.get("subject"), "attributes.subject", limit=300),
            "type": _choice(
                attrs.get("type"),
                TICKET_TYPES,
                "ticket type",
                required=False,
            )
            or TicketKind.SUPPORT,
            "requester_group": _text(attrs.get("requester_group"), "requester_group", limit=100),
        }
        if solved:
            out["solved_at"] = solved.isoformat()
        return out
    if kind == Kind.ORG_CHANGE:
        contact = attrs.get("contact") or {}
        if not isinstance(contact, dict):
            raise Invalid("attributes.contact must be an object")
        email = _text(contact.get("email"), "contact.email", limit=254).lower()
        if email and ("@" not in email or " " in email):
            raise Invalid(f"contact.email {email!r} is not an e-mail address")
        out = {
            "change": _choice(
                attrs.get("change"),
                CHANGES,
                "change",
                required=True,
            ),
            "contact": {
                "email": email,
                "name": _one_line(_text(contact.get("name"), "contact.name"), "contact.name"),
                "title": _one_line(_text(contact.get("title"), "contact.title"), "contact.title"),
                "roles": _roles(contact.get("roles")),
                "crm_id": _text(contact.get("crm_id"), "contact.crm_id", limit=64),
            },
            "old_title": _one_line(_text(attrs.get("old_title"), "old_title"), "old_title"),
            "new_title": _one_line(_text(attrs.get("new_title"), "new_title"), "new_title"),
            "from_company": _text(attrs.get("from_company"), "from_company"),
        }
        if attrs.get("evidence"):
            out["evidence"] = _text(attrs.get("evidence"), "evidence")
        return out
    if kind == Kind.COMPETITOR:
        return {
            "competitor": _text(attrs.get("competitor"), "competitor", required=True, limit=100),
            "activity": _choice(
                attrs.get("activity"),
                ACTIVITIES,
                "activity",
                required=True,
            ),
            "note": _text(attrs.get("note"), "note", limit=2000),
        }
    if kind == Kind.USAGE:
        active = _int(attrs.get("active_users"), "active_users", lo=0, hi=10**9, required=True)
        licensed = _int(
            attrs.get("licensed_users"), "licensed_users", lo=0, hi=10**9, required=True
        )
        adoption = attrs.get("adoption")
        if adoption is not None:
            if isinstance(adoption, bool) or not isinstance(adoption, int | float):
                raise Invalid("adoption must be a number from 0 to 1")
            if not 0 <= adoption <= 1:
                raise Invalid("adoption must be a number from 0 to 1")
        return {
            "active_users": active,
            "licensed_users": licensed,
            "adoption": adoption,
            "feature": _text(attrs.get("feature"), "feature", limit=100),
        }
    if kind == Kind.SENTIMENT:
        nps = _int(attrs.get("nps"), "nps", lo=0, hi=10, required=False)
        csat = _int(attrs.get("csat"), "csat", lo=1, hi=5, required=False)
        if nps is None and csat is None:
            raise Invalid("a sentiment signal needs nps (0–10) or csat (1–5)")
        return {
            "nps": nps,
            "csat": csat,
            "comment": _text(attrs.get("comment"), "comment", limit=4000),
        }
    raise Invalid(f"unknown kind {kind!r}; use one of {', '.join(Kind.values)}")


@dataclass(slots=True)
class Head:
    """What ``normalise`` checks first: the kind, the key and the account. Enough to find
    the stored copies and the account before the rest of the item is read."""

    kind: str
    source: str
    external_id: str
    account_id: int | None
    account_ref: str


def normalise(raw: Any, *, now: dt.datetime, default_source: str = "") -> Item:
    """Check one generic signal; raise Invalid with the first problem found."""
    return normalise_rest(raw, normalise_head(raw, default_source=default_source), now=now)


def normalise_head(raw: Any, *, default_source: str = "") -> Head:
    """The first half of ``normalise``: the kind, source, external id and account, checked
    in that order (so the first problem found is the same either way)."""
    if not isinstance(raw, dict):
        if isinstance(raw, Unreadable):
            raise Invalid(raw.reason)
        raise Invalid("each signal must be a JSON object")
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:  # a list or an object is unhashable
        raise Invalid(f"unknown kind {kind!r}; use one of {', '.join(Kind.values)}")
    source = _text(raw.get("source") or default_source, "source", required=True, limit=40)
    external_id = _text(raw.get("external_id"), "external_id", required=True)
    account = raw.get("account")
    account_id: int | None = None
    account_ref = ""
    if isinstance(account, dict):
        if (value := account.get("id")) is not None and value != "":
            account_id = _int(value, "account.id", lo=1, hi=2**62, required=True)
        elif (value := account.get("external_id")) is not None and value != "":
            account_ref = _text(value, "account.external_id", limit=64)
        else:
            raise Invalid('account is required: {"id": …} or {"external_id": …}')
    elif isinstance(account, str | int) and not isinstance(account, bool) and account != "":
        account_ref = _text(account, "account", limit=64)
    else:
        raise Invalid('account is required: {"id": …} or {"external_id": …}')
    return Head(kind, source, external_id, account_id, account_ref)


def normalise_rest(raw: dict[str, Any], head: Head, *, now: dt.datetime) -> Item:
    """The second half of ``normalise``: times and attributes of an item whose head
    passed."""
    occurred = raw.get("occurred_at")
    occurred_at = _plain_utc(occurred, now)
    if occurred_at is not None:
        occurred_iso = occurred[:19] + "+00:00"  # its isoformat: datetime's costs ~3 us
    else:
        occurred_at = parse_time(occurred, "occurred_at", now=now)
        occurred_iso = occurred_at.isoformat()
    attrs = raw.get("attributes") or {}
    if not isinstance(attrs, dict):
        raise Invalid("attributes must be an object")
    updated_at = raw.get("updated_at") or attrs.get("updated_at")
    updated = (
        None  # the usual case, without the call
        if updated_at is None
        else parse_time(updated_at, "updated_at", now=now, required=False)
    )
    return Item(
        head.source,
        head.external_id,
        head.kind,
        occurred_at,
        head.account_id,
        head.account_ref,
        _attributes(head.kind, attrs, now),
        occurred_iso,
        updated,
    )
