"""Builders of realistic payloads for the signals tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


def ticket(ext: str = "T-1001", account: Any = "A-1", **attrs: Any) -> dict[str, Any]:
    ref = {"id": account} if isinstance(account, int) else {"external_id": account}
    return {
        "source": "helpdesk",
        "external_id": ext,
        "kind": "ticket",
        "account": ref,
        "occurred_at": "2026-10-01T09:30:00Z",
        "attributes": {"priority": "normal", "status": "open", "tags": ["api"], **attrs},
    }


def zendesk_event(
    ticket_id: str = "5158", org: str | None = "8447346622462", status: str = "OPEN"
) -> dict[str, Any]:
    """A Zendesk event-based webhook (ticket status changed), as Zendesk documents it."""
    return {
        "account_id": 22129848,
        "detail": {
            "actor_id": "8447388090494",
            "assignee_id": "8447388090494",
            "brand_id": "8447346621310",
            "created_at": "2026-10-08T10:12:07Z",
            "custom_status": "8447388085950",
            "description": "Exports time out since Monday",
            "external_id": None,
            "form_id": "8646151517822",
            "group_id": "8447320466430",
            "id": ticket_id,
            "is_public": True,
            "organization_id": org,
            "priority": "LOW",
            "requester_id": "8447388090494",
            "status": status,
            "subject": "Exports time out",
            "submitter_id": "8447388090494",
            "tags": ["exports", "latency"],
            "type": "INCIDENT",
            "updated_at": "2026-10-08T11:00:00Z",
            "via": {"channel": "web_service"},
        },
        "event": {"current": status, "previous": "NEW"},
        "id": "cbe4028c-7239-495d-b020-f22348516046",
        "subject": f"zen:ticket:{ticket_id}",
        "time": "2026-10-08T11:00:00.672717030Z",
        "type": "zen:event-type:ticket.status_changed",
        "zendesk_event_version": "2022-11-06",
    }


def zendesk_api_ticket(ticket_id: int = 35436, org: int = 509974) -> dict[str, Any]:
    """A Ticket API object ({"ticket": {...}}) as GET /api/v2/tickets/{id} returns it."""
    return {
        "ticket": {
            "url": f"https://example.zendesk.com/api/v2/tickets/{ticket_id}.json",
            "id": ticket_id,
            "external_id": None,
            "created_at": "2026-09-20T16:53:57Z",
            "updated_at": "2026-09-22T10:00:00Z",
            "type": "problem",
            "subject": "Help, my printer is on fire!",
            "raw_subject": "Help, my printer is on fire!",
            "description": "The fire is very colorful.",
            "priority": "urgent",
            "status": "solved",
            "requester_id": 20978392,
            "submitter_id": 76872,
            "assignee_id": 235323,
            "organization_id": org,
            "group_id": 98738,
            "tags": ["enterprise", "other_tag"],
            "via": {"channel": "web"},
        }
    }


def zendesk_headers(secret: str, body: bytes, timestamp: str) -> dict[str, str]:
    sig = base64.b64encode(
        hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    ).decode()
    return {
        "HTTP_X_ZENDESK_WEBHOOK_SIGNATURE": sig,
        "HTTP_X_ZENDESK_WEBHOOK_SIGNATURE_TIMESTAMP": timestamp,
    }


def jira_issue(
    key: str = "ENG-42", event: str = "jira:issue_created", customer: str | None = None
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "summary": "CSV export drops rows over 10k",
        "created": "2026-10-02T08:15:00.000+0000",
        "updated": "2026-10-02T09:00:00.000+0000",
        "priority": {"name": "High", "id": "2"},
        "status": {
            "name": "In Progress",
            "statusCategory": {"key": "indeterminate", "name": "In Progress"},
        },
        "labels": ["export"],
        "components": [{"name": "Reporting"}],
        "project": {"key": key.split("-")[0], "name": "Engineering"},
        "issuetype": {"name": "Bug"},
        "resolutiondate": None,
    }
    if customer is not None:
        fields["customfield_10050"] = {"value": customer, "id": "10100"}
    return {
        "timestamp": 1790000000000,
        "webhookEvent": event,
        "issue_event_type_name": "issue_created",
        "user": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Dev"},
        "issue": {"id": "10042", "key": key, "fields": fields},
    }


def dumps(payload: Any) -> bytes:
    return json.dumps(payload).encode()
