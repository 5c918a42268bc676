"""Native payloads → the generic signal shape (CONTRACT.md). Pure functions, no ORM.

- Zendesk: the event-based ticket webhook (``{"type": "zen:event-type:ticket.…",
  "detail": {ticket}, "event": {…}}``) and the Ticket API object (``{"ticket": {…}}``,
  ``{"tickets": […]}`` or a bare ticket). The ticket's organisation id is the account's
  help-desk organisation id.
- Jira: ``jira:issue_created`` / ``jira:issue_updated`` webhooks; the account comes from a
  configurable custom field (its value a CRM or help-desk id) or else the project key,
  which the "match" action maps to an account once. Stored as defect tickets.
- CRM: Salesforce-style Contact records and Contact change events (CDC) → people changes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Any

from signals.normalise import Invalid, parse_time

ZENDESK = "zendesk"
JIRA = "jira"
CRM = "crm"


# --- Zendesk -------------------------------------------------------------------------------


def zendesk_signature_ok(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Zendesk signs base64(HMAC-SHA256(secret, timestamp + body))."""
    expected = base64.b64encode(
        hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    ).decode()
    return hmac.compare_digest(expected, signature or "")


def _zendesk_ticket(t: dict[str, Any], updated_hint: Any = None) -> dict[str, Any]:
    if not isinstance(t, dict) or t.get("id") in (None, ""):
        raise Invalid("a Zendesk ticket needs an id")
    status = str(t.get("status") or "").lower()
    org = t.get("organization_id")
    ticket_type = str(t.get("type") or "").lower()
    return {
        "source": ZENDESK,
        "external_id": str(t["id"]),
        "kind": "ticket",
        # No organisation: parked under the requester, matched by a person later.
        "account": {"external_id": str(org)}
        if org not in (None, "")
        else {"external_id": f"requester:{t.get('requester_id') or 'unknown'}"},
        "occurred_at": t.get("created_at"),
        "updated_at": t.get("updated_at") or updated_hint,
        "attributes": {
            "priority": str(t.get("priority") or "normal").lower(),
            "status": status or "new",
            "tags": [str(x) for x in t.get("tags") or []],
            "subject": (t.get("subject") or t.get("raw_subject") or "")[:300],
            "type": "defect" if ticket_type == "problem" else "support",
            "requester_group": str(t.get("group_id") or "")[:100],
            **(
                {"solved_at": t.get("solved_at") or t.get("updated_at")}
                if status in ("solved", "closed")
                else {}
            ),
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
        return [_zendesk_ticket(t) for t in payload["tickets"]]
    if isinstance(payload, dict) and isinstance(payload.get("ticket"), dict):
        return [_zendesk_ticket(payload["ticket"])]
    if isinstance(payload, dict) and "id" in payload and "status" in payload:
        return [_zendesk_ticket(payload)]
    raise Invalid(
        "not a Zendesk ticket payload: expected a ticket event "
        '({"type": "zen:event-type:ticket.…", "detail": {…}}) or a ticket ({"ticket": {…}})'
    )


# --- Jira ----------------------------------------------------------------------------------


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
    if not isinstance(issue, dict) or not issue.get("key"):
        raise Invalid("a Jira issue webhook needs issue.key")
    fields = issue.get("fields") or {}
    account_ref = ""
    if account_field:
        value = fields.get(account_field)
        if isinstance(value, dict):  # select lists arrive as {"value": "ACME-001", …}
            value = value.get("value")
        if isinstance(value, list) and value:
            value = value[0].get("value") if isinstance(value[0], dict) else value[0]
        account_ref = str(value or "")
    if not account_ref:
        project = (fields.get("project") or {}).get("key") or issue["key"].split("-")[0]
        account_ref = f"project:{project}"
    status = ((fields.get("status") or {}).get("statusCategory") or {}).get("key") or ""
    status_name = str((fields.get("status") or {}).get("name") or "").lower()
    mapped = {"new": "new", "indeterminate": "open", "done": "solved"}.get(
        status, status_name or "new"
    )
    labels = [str(x) for x in fields.get("labels") or []]
    components = [str(c.get("name")) for c in fields.get("components") or [] if c.get("name")]
    return [
        {
            "source": JIRA,
            "external_id": issue["key"],
            "kind": "ticket",
            "account": {"external_id": account_ref},
            "occurred_at": fields.get("created"),
            "updated_at": fields.get("updated") or payload.get("timestamp"),
            "attributes": {
                "priority": str((fields.get("priority") or {}).get("name") or "normal").lower(),
                "status": mapped,
                "tags": labels + components,
                "subject": str(fields.get("summary") or "")[:300],
                "type": "defect",
                **(
                    {"solved_at": fields.get("resolutiondate")}
                    if fields.get("resolutiondate")
                    else {}
                ),
            },
        }
    ]


# --- CRM (Salesforce-style contacts) -------------------------------------------------------

LEFT_FIELDS = ("Left_Company__c", "Left__c", "HasLeftCompany__c")


def _contact_change(
    record: dict[str, Any], *, changed: list[str], event_id: str, when: Any, now: dt.datetime
) -> list[dict[str, Any]]:
    account = record.get("AccountId")
    contact_id = record.get("Id") or record.get("recordId")
    if not contact_id:
        raise Invalid("a contact change needs the contact's Id")
    name = record.get("Name") or " ".join(
        x for x in (record.get("FirstName"), record.get("LastName")) if x
    )
    contact = {
        "crm_id": contact_id,
        "email": record.get("Email") or "",
        "name": name,
        "title": record.get("Title") or "",
    }
    if record.get("Roles__c"):
        contact["roles"] = record["Roles__c"]
    occurred = when or record.get("LastModifiedDate") or record.get("SystemModstamp")
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
    if record.get("EmailBouncedReason") and (everything or "EmailBouncedReason" in changed):
        # A bounced work address is how CRMs usually learn that someone left.
        out.append(signal("bounced", {"change": "left", "evidence": "e-mail bounced"}))
    if "Title" in changed and record.get("Title"):
        out.append(signal("title", {"change": "title_changed", "new_title": record["Title"]}))
    if "AccountId" in changed and account:
        out.append(signal("joined", {"change": "joined"}))
    if everything and not out and record.get("Title"):
        # A full record without a left flag: its title, compared with what we know.
        out.append(signal("title", {"change": "title_changed", "new_title": record["Title"]}))
    if not account:
        raise Invalid("a contact change needs AccountId (the account's CRM id)")
    parse_time(occurred, "LastModifiedDate", now=now)
    return out


def crm_signals(payload: Any, *, now: dt.datetime) -> list[dict[str, Any]]:
    """A Contact record (or a list of them) or a Contact change event."""
    if isinstance(payload, list):
        return [s for p in payload for s in crm_signals(p, now=now)]
    if not isinstance(payload, dict):
        raise Invalid("a CRM payload is a JSON object or a list of them")
    data = payload.get("data") if isinstance(payload.get("data"), dict) else None
    body = (data or {}).get("payload") or payload.get("payload")
    if isinstance(body, dict) and "ChangeEventHeader" in body:
        header = body["ChangeEventHeader"]
        if header.get("entityName") not in (None, "Contact"):
            raise Invalid(f"not a Contact change event: {header.get('entityName')}")
        ids = header.get("recordIds") or []
        replay = ((data or {}).get("event") or {}).get("replayId") or header.get("transactionKey")
        out = []
        for rid in ids:
            out += _contact_change(
                {**body, "Id": rid},
                changed=list(header.get("changedFields") or []) or ["Title"],
                event_id=f"{rid}:{replay or header.get('commitTimestamp')}",
                when=header.get("commitTimestamp"),
                now=now,
            )
        return out
    attributes = payload.get("attributes") or {}
    if attributes.get("type") not in (None, "Contact"):
        raise Invalid(f"not a Contact record: {attributes.get('type')}")
    stamp = payload.get("LastModifiedDate") or payload.get("SystemModstamp") or ""
    return _contact_change(
        payload, changed=[], event_id=f"{payload.get('Id')}:{stamp}", when=None, now=now
    )
