"""Native payloads → the generic signal shape (CONTRACT.md). Pure functions, no ORM.

- Zendesk: the event-based ticket webhook (``{"type": "zen:event-type:ticket.…",
  "detail": {ticket}, "event": {…}}``) and the Ticket API object (``{"ticket": {…}}``,
  ``{"tickets": […]}`` or a bare ticket). The ticket's organisation id is the account's
  help-desk organisation id.
- Jira: ``jira:issue_created`` / ``jira:issue_updated`` webhooks; the account comes from a
  configurable custom field (its value a CRM or help-desk id) or else the project key,
  which the "match" action maps to an account once. Stored as defect tickets.
- CRM: Salesforce-style Contact records and Contact change events (CDC) → people changes.
- HubSpot: the v3 webhook batch (a JSON array of events) read into ``HubSpotEvent``s; which
  company a contact belongs to needs the stored associations, so ``signals.services.hubspot``
  turns them into people changes.
- Segment: the webhook destination's calls (one object, or an array when batched) read into
  ``SegmentCall``s; ``signals.services.usage`` rolls them up per organisation and day.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from signals.normalise import Invalid, Unreadable, parse_time

ZENDESK = "zendesk"
JIRA = "jira"
CRM = "crm"
HUBSPOT = "hubspot"
SEGMENT = "segment"
# A HubSpot company id as an organisation key ("hubspot:123"); a contact whose company is
# not known yet is parked under "hubspot-contact:<contact id>".
HUBSPOT_COMPANY = "hubspot:"
HUBSPOT_CONTACT = "hubspot-contact:"


# --- reading a field: each one has the type the tool documents, or the item is refused ----

_JSON_TYPES = {dict: "an object", list: "an array", bool: "a boolean", int: "a number",
               float: "a number", str: "a string", type(None): "null"}  # fmt: skip


def _kind(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _str(value: Any, what: str, *, required: bool = False, number_ok: bool = False) -> str:
    """A text field ("" when absent). ``number_ok``: an id that may arrive as a number."""
    if value is None or value == "":
        if required:
            raise Invalid(f"{what} is required")
        return ""
    if type(value) is str:
        return value
    if number_ok and type(value) is int:
        return str(value)
    raise Invalid(f"{what} must be {'a string or a number' if number_ok else 'a string'}, "
                  f"not {_kind(value)}")  # fmt: skip


def _obj(value: Any, what: str) -> dict[str, Any]:
    """An object field ({} when absent)."""
    if value is None:
        return {}
    if type(value) is not dict:
        raise Invalid(f"{what} must be an object, not {_kind(value)}")
    return value


def _list(value: Any, what: str) -> list[Any]:
    """An array field ([] when absent)."""
    if value is None:
        return []
    if type(value) is not list:
        raise Invalid(f"{what} must be an array, not {_kind(value)}")
    return value


def _strings(value: Any, what: str) -> list[str]:
    """An array of strings ([] when absent)."""
    items = _list(value, what)
    if any(type(x) is not str for x in items):
        raise Invalid(f"{what} must be an array of strings")
    return items


def _time(value: Any, what: str, *, number_ok: bool = False) -> Any:
    """A time field as sent: an ISO 8601 string, or (``number_ok``, where the tool sends
    one) epoch milliseconds; normalise reads it."""
    if value is None or type(value) is str or (number_ok and type(value) in (int, float)):
        return value
    raise Invalid(f"{what} must be a time (a string), not {_kind(value)}")


def _each(items: list[Any], convert: Any, key: str | None) -> list[Any]:
    """``convert`` each item of a list; an item it cannot read becomes an ``Unreadable``
    with the reason and its id (the item's ``key``, or the item itself when None), which
    the store rejects while it keeps the others."""
    out: list[Any] = []
    for item in items:
        try:
            out += convert(item)
        except Invalid as exc:
            ref = item if key is None else item.get(key) if isinstance(item, dict) else None
            out.append(Unreadable(str(exc), str(ref) if type(ref) in (str, int) else ""))
    return out


# --- Zendesk -------------------------------------------------------------------------------


def hmac_sha256(secret: str, message: bytes) -> bytes:
    """The one signature every signed webhook uses: HMAC-SHA256 of ``message``."""
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def timestamped_signature_ok(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """base64(HMAC-SHA256(secret, timestamp + body)): Zendesk's scheme, which the CRM webhook
    uses too (the timestamp is signed, so it bounds replays)."""
    expected = base64.b64encode(hmac_sha256(secret, timestamp.encode() + body)).decode()
    return hmac.compare_digest(expected, signature or "")


def jira_signature_ok(secret: str, body: bytes, signature: str) -> bool:
    """Jira Cloud signs with X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>."""
    expected = "sha256=" + hmac_sha256(secret, body).hex()
    return hmac.compare_digest(expected, signature or "")


def hubspot_signature_ok(
    secret: str, method: str, uri: str, body: bytes, timestamp: str, signature: str
) -> bool:
    """HubSpot's v3 signature: base64(HMAC-SHA256(client secret, method + URI + body +
    timestamp)), the URI being the full request URI (scheme, host, path, query)."""
    message = method.encode() + uri.encode() + body + timestamp.encode()
    expected = base64.b64encode(hmac_sha256(secret, message)).decode()
    return hmac.compare_digest(expected, signature or "")


def segment_signature_ok(secret: str, body: bytes, signature: str) -> bool:
    """Segment's webhook destination: X-Signature is the hex HMAC-SHA1 of the body."""
    expected = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return hmac.compare_digest(expected, (signature or "").strip().lower())


def _zendesk_ticket(t: Any, updated_hint: Any = None) -> dict[str, Any]:
    if not isinstance(t, dict):
        raise Invalid(f"a Zendesk ticket must be an object, not {_kind(t)}")
    ticket_id = _str(t.get("id"), "ticket.id", required=True, number_ok=True)
    status = _str(t.get("status"), "ticket.status").lower()
    org = _str(t.get("organization_id"), "ticket.organization_id", number_ok=True)
    requester = _str(t.get("requester_id"), "ticket.requester_id", number_ok=True)
    ticket_type = _str(t.get("type"), "ticket.type").lower()
    # Every field read is checked, also one a fallback leaves unused (one rule for all).
    raw_subject = _str(t.get("raw_subject"), "ticket.raw_subject")
    subject = _str(t.get("subject"), "ticket.subject") or raw_subject
    hint = _time(updated_hint, "time")
    updated = _time(t.get("updated_at"), "ticket.updated_at") or hint
    solved = _time(t.get("solved_at"), "ticket.solved_at")
    return {
        "source": ZENDESK,
        "external_id": ticket_id,
        "kind": "ticket",
        # No organisation: parked under the requester, matched by a person later.
        "account": {"external_id": org}
        if org
        else {"external_id": f"requester:{requester or 'unknown'}"},
        "occurred_at": _time(t.get("created_at"), "ticket.created_at"),
        "updated_at": updated,
        "attributes": {
            "priority": _str(t.get("priority"), "ticket.priority").lower() or "normal",
            "status": status or "new",
            "tags": _strings(t.get("tags"), "ticket.tags"),
            "subject": subject[:300],
            "type": "defect" if ticket_type == "problem" else "support",
            "requester_group": _str(t.get("group_id"), "ticket.group_id", number_ok=True)[:100],
            **({"solved_at": solved or updated} if status in ("solved", "closed") else {}),
        },
    }


def zendesk_signals(payload: Any) -> list[dict[str, Any]]:
    """Every ticket a Zendesk payload carries, in the generic shape."""
    if isinstance(payload, dict) and str(payload.get("type", "")).startswith("zen:event-type:"):
        if not str(payload["type"]).startswith("zen:event-type:ticket."):
            raise Invalid(f"not a ticket event: {payload['type']}")
        detail = payload.get("detail")
        if not isinstance(detail, dict):
            raise Invalid("a Zendesk ticket event needs its detail (the ticket)")
        return [_zendesk_ticket(detail, payload.get("time"))]
    if isinstance(payload, dict) and isinstance(payload.get("tickets"), list):
        return _each(payload["tickets"], lambda t: [_zendesk_ticket(t)], "id")
    if isinstance(payload, dict) and isinstance(payload.get("ticket"), dict):
        return [_zendesk_ticket(payload["ticket"])]
    if isinstance(payload, dict) and "id" in payload and "status" in payload:
        return [_zendesk_ticket(payload)]
    raise Invalid(
        "not a Zendesk ticket payload: expected a ticket event "
        '({"type": "zen:event-type:ticket.…", "detail": {…}}) or a ticket ({"ticket": {…}})'
    )


# --- Jira ----------------------------------------------------------------------------------


def _jira_account_ref(value: Any, field: str) -> str:
    """The customer named by the configured custom field: a text or number field, a select
    list ({"value": "ACME-001", …}) or a multi-select (its first choice)."""
    if type(value) is list:
        value = value[0] if value else None
    if type(value) is dict:
        value = value.get("value")
    return _str(value, f"fields.{field}", number_ok=True)


def jira_signals(payload: Any, *, account_field: str = "") -> list[dict[str, Any]]:
    if not isinstance(payload, dict):
        raise Invalid("a Jira webhook body is a JSON object")
    event = payload.get("webhookEvent")
    if event not in ("jira:issue_created", "jira:issue_updated"):
        raise Invalid(
            f"unsupported Jira webhookEvent {event!r}; send jira:issue_created or "
            "jira:issue_updated"
        )
    issue = payload.get("issue")
    if not isinstance(issue, dict):
        raise Invalid("a Jira issue webhook needs issue.key")
    key = _str(issue.get("key"), "issue.key", required=True)
    fields = _obj(issue.get("fields"), "issue.fields")
    account_ref = (
        _jira_account_ref(fields.get(account_field), account_field) if account_field else ""
    )
    project = _str(_obj(fields.get("project"), "fields.project").get("key"), "fields.project.key")
    account_ref = account_ref or f"project:{project or key.split('-')[0]}"
    status = _obj(fields.get("status"), "fields.status")
    category = _obj(status.get("statusCategory"), "fields.status.statusCategory")
    category_key = _str(category.get("key"), "fields.status.statusCategory.key")
    status_name = _str(status.get("name"), "fields.status.name").lower()
    mapped = {"new": "new", "indeterminate": "open", "done": "solved"}.get(
        category_key, status_name or "new"
    )
    labels = _strings(fields.get("labels"), "fields.labels")
    components = []
    for component in _list(fields.get("components"), "fields.components"):
        name = _str(_obj(component, "fields.components[]").get("name"), "fields.components[].name")
        if name:
            components.append(name)
    priority = _obj(fields.get("priority"), "fields.priority")
    resolved = _time(fields.get("resolutiondate"), "fields.resolutiondate")
    updated = _time(fields.get("updated"), "fields.updated")
    sent = _time(payload.get("timestamp"), "timestamp", number_ok=True)
    return [
        {
            "source": JIRA,
            "external_id": key,
            "kind": "ticket",
            "account": {"external_id": account_ref},
            "occurred_at": _time(fields.get("created"), "fields.created"),
            "updated_at": updated or sent,
            "attributes": {
                "priority": _str(priority.get("name"), "fields.priority.name").lower() or "normal",
                "status": mapped,
                "tags": labels + components,
                "subject": _str(fields.get("summary"), "fields.summary")[:300],
                "type": "defect",
                **({"solved_at": resolved} if resolved else {}),
            },
        }
    ]


# --- CRM (Salesforce-style contacts) -------------------------------------------------------

LEFT_FIELDS = ("Left_Company__c", "Left__c", "HasLeftCompany__c")


def _contact_change(
    record: dict[str, Any], *, changed: list[str], event_id: str, when: Any, now: dt.datetime
) -> list[dict[str, Any]]:
    account = _str(record.get("AccountId"), "AccountId")
    record_id = _str(record.get("recordId"), "recordId")
    contact_id = _str(record.get("Id"), "Id") or record_id
    if not contact_id:
        raise Invalid("a contact change needs the contact's Id")
    first, last = (
        _str(record.get("FirstName"), "FirstName"),
        _str(record.get("LastName"), "LastName"),
    )
    name = _str(record.get("Name"), "Name") or " ".join(x for x in (first, last) if x)
    title = _str(record.get("Title"), "Title")
    contact: dict[str, Any] = {
        "crm_id": contact_id,
        "email": _str(record.get("Email"), "Email"),
        "name": name,
        "title": title,
    }
    roles = record.get("Roles__c")
    if roles is not None:
        # A multi-select picklist: "a;b" as Salesforce sends it, or already a list.
        contact["roles"] = (
            _strings(roles, "Roles__c") if type(roles) is list else _str(roles, "Roles__c")
        )
    modified = _time(record.get("LastModifiedDate"), "LastModifiedDate")
    stamp = _time(record.get("SystemModstamp"), "SystemModstamp")
    occurred = _time(when, "commitTimestamp", number_ok=True) or modified or stamp
    bounced = _str(record.get("EmailBouncedReason"), "EmailBouncedReason")
    out = []

    def signal(suffix: str, attrs: dict[str, Any]) -> dict[str, Any]:
        return {
            "source": CRM,
            "external_id": f"{event_id}:{suffix}",
            "kind": "org_change",
            "account": {"external_id": account} if account else None,
            "occurred_at": occurred,
            "attributes": {"contact": contact, **attrs},
        }

    everything = not changed
    left = any(record.get(f) in (True, "true", "True") for f in LEFT_FIELDS)
    if left and (everything or set(changed) & set(LEFT_FIELDS)):
        out.append(signal("left", {"change": "left"}))
    if bounced and (everything or "EmailBouncedReason" in changed):
        # A bounced work address is how CRMs usually learn that someone left.
        out.append(signal("bounced", {"change": "left", "evidence": "e-mail bounced"}))
    if "Title" in changed and title:
        out.append(signal("title", {"change": "title_changed", "new_title": title}))
    if "AccountId" in changed and account:
        out.append(signal("joined", {"change": "joined"}))
    if everything and not out and title:
        # A full record without a left flag: its title, compared with what we know.
        out.append(signal("title", {"change": "title_changed", "new_title": title}))
    if not account:
        raise Invalid("a contact change needs AccountId (the account's CRM id)")
    parse_time(occurred, "LastModifiedDate", now=now)
    return out


def _change_event(data: dict[str, Any], body: dict[str, Any], now: dt.datetime) -> list[Any]:
    """A Contact change event (CDC): one change per record id it names."""
    header = _obj(body["ChangeEventHeader"], "ChangeEventHeader")
    entity = _str(header.get("entityName"), "ChangeEventHeader.entityName")
    if entity not in ("", "Contact"):
        raise Invalid(f"not a Contact change event: {entity}")
    ids = _list(header.get("recordIds"), "ChangeEventHeader.recordIds")
    changed = _strings(header.get("changedFields"), "ChangeEventHeader.changedFields")
    transaction = _str(header.get("transactionKey"), "ChangeEventHeader.transactionKey")
    replay_id = _obj(data.get("event"), "event").get("replayId")
    replay = _str(replay_id, "event.replayId", number_ok=True) or transaction
    when = _time(header.get("commitTimestamp"), "ChangeEventHeader.commitTimestamp", number_ok=True)

    def one(rid: Any) -> list[dict[str, Any]]:
        rid = _str(rid, "ChangeEventHeader.recordIds[]", required=True)
        return _contact_change(
            {**body, "Id": rid},
            changed=changed or ["Title"],
            event_id=f"{rid}:{replay or when}",
            when=when,
            now=now,
        )

    return _each(ids, one, None)


def crm_signals(payload: Any, *, now: dt.datetime) -> list[Any]:
    """A Contact record (or a list of them) or a Contact change event. In a list, a record
    that cannot be read is an ``Unreadable`` item (rejected on its own)."""
    if isinstance(payload, list):
        return _each(payload, lambda p: crm_signals(p, now=now), "Id")
    if not isinstance(payload, dict):
        raise Invalid("a CRM payload is a JSON object or a list of them")
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    body = data.get("payload") or payload.get("payload")
    if isinstance(body, dict) and "ChangeEventHeader" in body:
        return _change_event(data, body, now)
    kind = _str(_obj(payload.get("attributes"), "attributes").get("type"), "attributes.type")
    if kind not in ("", "Contact"):
        raise Invalid(f"not a Contact record: {kind}")
    modified = _time(payload.get("LastModifiedDate"), "LastModifiedDate")
    stamp = modified or _time(payload.get("SystemModstamp"), "SystemModstamp")
    contact_id = _str(payload.get("Id"), "Id")
    return _contact_change(
        payload, changed=[], event_id=f"{contact_id}:{stamp or ''}", when=None, now=now
    )


# --- HubSpot (webhooks API v3) -------------------------------------------------------------

HUBSPOT_TYPES = (
    "contact.propertyChange",
    "contact.deletion",
    "contact.associationChange",
    "company.associationChange",
)


@dataclass(frozen=True, slots=True)
class HubSpotEvent:
    """One event of a HubSpot webhook batch, its fields checked."""

    event_id: str
    portal_id: str
    subscription_type: str
    object_id: str
    occurred_at: int  # epoch milliseconds
    property_name: str = ""
    property_value: str = ""
    association_type: str = ""
    from_id: str = ""
    to_id: str = ""
    removed: bool = False

    @property
    def key(self) -> str:
        """The event's id within its portal (HubSpot does not promise eventId is unique
        across portals)."""
        return f"{self.portal_id}:{self.event_id}"


def _hubspot_id(value: Any, what: str, *, required: bool = True) -> str:
    """A HubSpot id: a number (as sent) or its digits as text."""
    if type(value) is int and 0 <= value < 10**30:
        return str(value)
    if type(value) is str and value.isdigit() and len(value) <= 30:
        return value
    if value is None and not required:
        return ""
    raise Invalid(
        f"{what} must be a HubSpot id (a number of at most 30 digits), not {_kind(value)}"
    )


def _hubspot_event(e: Any) -> list[HubSpotEvent]:
    if type(e) is not dict:
        raise Invalid(f"each HubSpot event must be an object, not {_kind(e)}")
    kind = _str(e.get("subscriptionType"), "subscriptionType", required=True)
    occurred = e.get("occurredAt")
    if type(occurred) is not int or occurred <= 0:
        raise Invalid("occurredAt must be epoch milliseconds (a number)")
    removed = e.get("associationRemoved", False)
    if type(removed) is not bool:
        raise Invalid(f"associationRemoved must be a boolean, not {_kind(removed)}")
    for name in ("subscriptionId", "appId", "attemptNumber"):
        if e.get(name) is not None and type(e.get(name)) is not int:
            raise Invalid(f"{name} must be a number, not {_kind(e.get(name))}")
    _str(e.get("changeSource"), "changeSource")
    value = e.get("propertyValue")
    return [
        HubSpotEvent(
            event_id=_hubspot_id(e.get("eventId"), "eventId"),
            portal_id=_hubspot_id(e.get("portalId"), "portalId", required=False),
            subscription_type=kind,
            object_id=_hubspot_id(e.get("objectId"), "objectId", required=False),
            occurred_at=occurred,
            property_name=_str(e.get("propertyName"), "propertyName"),
            # HubSpot sends property values as text; a number is read as its text.
            property_value=_str(value, "propertyValue", number_ok=True),
            association_type=_str(e.get("associationType"), "associationType"),
            from_id=_hubspot_id(e.get("fromObjectId"), "fromObjectId", required=False),
            to_id=_hubspot_id(e.get("toObjectId"), "toObjectId", required=False),
            removed=removed,
        )
    ]


def hubspot_events(payload: Any) -> list[HubSpotEvent | Unreadable]:
    """The events of a HubSpot webhook request (a JSON array; one object is read as a
    batch of one). An event that cannot be read is an ``Unreadable`` (rejected alone)."""
    if type(payload) is dict:
        payload = [payload]
    if type(payload) is not list:
        raise Invalid("a HubSpot webhook body is a JSON array of events")
    if not payload:
        raise Invalid("No events in the body.")
    return _each(payload, _hubspot_event, "eventId")


# --- Segment (webhook destination) ---------------------------------------------------------

SEGMENT_TYPES = ("track", "identify", "group", "page", "screen", "alias")


@dataclass(frozen=True, slots=True)
class SegmentCall:
    """One Segment call, its fields checked: what the usage rollup needs of it."""

    type: str
    message_id: str
    user_id: str  # userId, or anonymousId when there is no userId
    timestamp: str  # as sent (ISO 8601); read by the rollup
    event: str = ""  # a track call's event name
    group_id: str = ""  # a group call's groupId, or context.groupId of any call


def _segment_call(c: Any) -> list[SegmentCall]:
    if type(c) is not dict:
        raise Invalid(f"each Segment call must be an object, not {_kind(c)}")
    kind = _str(c.get("type"), "type", required=True)
    if kind not in SEGMENT_TYPES:
        raise Invalid(f"unknown Segment call type {kind!r}; one of {', '.join(SEGMENT_TYPES)}")
    context = _obj(c.get("context"), "context")
    _obj(c.get("traits"), "traits")
    _obj(c.get("properties"), "properties")
    group = _str(c.get("groupId"), "groupId", number_ok=True) or _str(
        context.get("groupId"), "context.groupId", number_ok=True
    )
    user = _str(c.get("userId"), "userId", number_ok=True) or _str(
        c.get("anonymousId"), "anonymousId", number_ok=True
    )
    if kind == "group" and not group:
        raise Invalid("a group call needs groupId")
    stamp = c.get("timestamp") or c.get("receivedAt")
    if type(stamp) is not str or not stamp:
        raise Invalid("timestamp is required (an ISO 8601 time)")
    message_id = _str(c.get("messageId"), "messageId", required=True)
    if len(message_id) > 200 or len(user) > 200 or len(group) > 200:
        raise Invalid("messageId, userId and groupId are at most 200 characters")
    return [
        SegmentCall(
            type=kind,
            message_id=message_id,
            user_id=user,
            timestamp=stamp,
            event=_str(c.get("event"), "event")[:100] if kind == "track" else "",
            group_id=group,
        )
    ]


def segment_calls(payload: Any) -> list[SegmentCall | Unreadable]:
    """The calls of a Segment webhook request: one call object, or an array of them (the
    Webhooks (Actions) destination with batching on). A call that cannot be read is an
    ``Unreadable`` (rejected alone)."""
    if type(payload) is dict:
        payload = [payload]
    if type(payload) is not list:
        raise Invalid("a Segment webhook body is a JSON object (one call) or an array of them")
    if not payload:
        raise Invalid("No calls in the body.")
    return _each(payload, _segment_call, "messageId")
