"""OpenAPI request schemas of the native webhooks: the fields ``signals.adapters`` reads,
with the types it accepts (anything else is a 400 naming the field). Other fields are
allowed and ignored. The API fuzz test (tests/test_api_fuzz.py) generates native-shaped
payloads from these, valid and invalid."""

from __future__ import annotations

from typing import Any


def _nullable(*types: str) -> dict[str, Any]:
    if len(types) == 1:
        return {"type": types[0], "nullable": True}
    return {"anyOf": [{"type": t} for t in types], "nullable": True}


TEXT = _nullable("string")
ID = _nullable("string", "integer")  # ids arrive as numbers or strings
TIME = {**_nullable("string"), "description": "ISO 8601"}
EPOCH = {**_nullable("string", "number"), "description": "ISO 8601, or epoch milliseconds"}
TEXTS = {"type": "array", "items": {"type": "string"}, "nullable": True}


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


ZENDESK_TICKET = _object(
    {
        "id": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        "status": TEXT,
        "organization_id": ID,
        "requester_id": ID,
        "group_id": ID,
        "type": TEXT,
        "priority": TEXT,
        "subject": TEXT,
        "raw_subject": TEXT,
        "tags": TEXTS,
        "created_at": TIME,
        "updated_at": TIME,
        "solved_at": TIME,
    },
    ("id",),
)
ZENDESK_SCHEMA = {
    "description": "A Zendesk ticket event webhook, a Ticket API object ({ticket} or "
    "{tickets: […]}, each ticket rejected or stored on its own) or a bare ticket.",
    "anyOf": [
        _object(
            {
                "type": {"type": "string", "pattern": "^zen:event-type:ticket\\."},
                "detail": ZENDESK_TICKET,
                "time": TIME,
            },
            ("type", "detail"),
        ),
        _object({"ticket": ZENDESK_TICKET}, ("ticket",)),
        _object({"tickets": {"type": "array", "items": ZENDESK_TICKET}}, ("tickets",)),
        {**ZENDESK_TICKET, "required": ["id", "status"]},
    ],
}

JIRA_SCHEMA = _object(
    {
        "webhookEvent": {"type": "string", "enum": ["jira:issue_created", "jira:issue_updated"]},
        "timestamp": {**EPOCH, "description": "Epoch milliseconds (its replay window when signed)"},
        "issue": _object(
            {
                "key": {"type": "string"},
                "fields": {
                    **_object(
                        {
                            "summary": TEXT,
                            "created": TIME,
                            "updated": TIME,
                            "resolutiondate": TIME,
                            "priority": {**_object({"name": TEXT}), "nullable": True},
                            "status": {
                                **_object(
                                    {
                                        "name": TEXT,
                                        "statusCategory": {
                                            **_object({"key": TEXT}),
                                            "nullable": True,
                                        },
                                    }
                                ),
                                "nullable": True,
                            },
                            "labels": TEXTS,
                            "components": {
                                "type": "array",
                                "items": {**_object({"name": TEXT}), "nullable": True},
                                "nullable": True,
                            },
                            "project": {**_object({"key": TEXT}), "nullable": True},
                        }
                    ),
                    "nullable": True,
                },
            },
            ("key",),
        ),
    },
    ("webhookEvent", "issue"),
)

CRM_CONTACT = _object(
    {
        "Id": {"type": "string"},
        "AccountId": {"type": "string"},
        "Name": TEXT,
        "FirstName": TEXT,
        "LastName": TEXT,
        "Email": TEXT,
        "Title": TEXT,
        "Roles__c": {"anyOf": [{"type": "string"}, TEXTS], "nullable": True},
        "EmailBouncedReason": TEXT,
        "LastModifiedDate": TIME,
        "SystemModstamp": TIME,
        "attributes": {**_object({"type": TEXT}), "nullable": True},
    },
    ("Id", "AccountId"),
)
CRM_CHANGE = _object(
    {
        "ChangeEventHeader": _object(
            {
                "entityName": TEXT,
                "recordIds": {"type": "array", "items": {"type": "string"}},
                "changedFields": TEXTS,
                "transactionKey": TEXT,
                "commitTimestamp": EPOCH,
            },
            ("recordIds",),
        ),
        "AccountId": {"type": "string"},
    },
    ("ChangeEventHeader", "AccountId"),
)
CRM_SCHEMA = {
    "description": "A Salesforce-style Contact record, a list of them (each rejected or "
    "stored on its own), or a Contact change event (CDC), bare or in its envelope.",
    "anyOf": [
        CRM_CONTACT,
        {"type": "array", "items": CRM_CONTACT},
        _object({"payload": CRM_CHANGE}, ("payload",)),
        _object(
            {
                "data": _object(
                    {
                        "payload": CRM_CHANGE,
                        "event": {**_object({"replayId": ID}), "nullable": True},
                    },
                    ("payload",),
                )
            },
            ("data",),
        ),
    ],
}

_HS_ID = {"type": "integer", "minimum": 0, "maximum": 10**30 - 1, "nullable": True}
_INT = {"type": "integer", "nullable": True}
HUBSPOT_EVENT = _object(
    {
        "eventId": {"type": "integer", "minimum": 0, "maximum": 10**30 - 1},
        "subscriptionId": _INT,
        "portalId": _HS_ID,
        "appId": _INT,
        "occurredAt": {"type": "integer", "minimum": 1, "description": "epoch milliseconds"},
        "subscriptionType": {"type": "string", "minLength": 1},
        "attemptNumber": _INT,
        "objectId": _HS_ID,
        "propertyName": TEXT,
        "propertyValue": ID,  # text as HubSpot sends it; a number is read as its text
        "changeSource": TEXT,
        "associationType": TEXT,
        "fromObjectId": _HS_ID,
        "toObjectId": _HS_ID,
        "associationRemoved": {"type": "boolean"},
    },
    ("eventId", "occurredAt", "subscriptionType"),
)
HUBSPOT_SCHEMA = {
    "description": "HubSpot's webhook batch (API v3): an array of events. contact.propertyChange "
    "of jobtitle, contact.deletion and CONTACT_TO_COMPANY / COMPANY_TO_CONTACT association "
    "changes are read; other events are counted as ignored.",
    "type": "array",
    "items": HUBSPOT_EVENT,
}
SEGMENT_CALL = _object(
    {
        "type": {
            "type": "string",
            "enum": ["track", "identify", "group", "page", "screen", "alias"],
        },
        "messageId": {"type": "string", "minLength": 1, "maxLength": 200},
        "timestamp": {"type": "string", "format": "date-time"},
        "userId": ID,
        "anonymousId": ID,
        "event": TEXT,
        "groupId": ID,
        "traits": {"type": "object", "nullable": True},
        "properties": {"type": "object", "nullable": True},
        "context": {"type": "object", "nullable": True},
    },
    ("type", "messageId", "timestamp"),
)
SEGMENT_SCHEMA = {
    "description": "A Segment call (track, identify, group; page, screen and alias are "
    "ignored), or an array of them (the Webhooks (Actions) destination with batching).",
    "anyOf": [SEGMENT_CALL, {"type": "array", "items": SEGMENT_CALL}],
}


# Examples, as each tool documents its payloads (the fuzz test sends them as they are).
ZENDESK_EXAMPLE = {
    "type": "zen:event-type:ticket.status_changed",
    "id": "cbe4028c-7239-495d-b020-f22348516046",
    "time": "2026-10-08T11:00:00.672717030Z",
    "zendesk_event_version": "2022-11-06",
    "detail": {
        "id": "5158",
        "organization_id": "8447346622462",
        "requester_id": "8447388090494",
        "group_id": "8447320466430",
        "created_at": "2026-10-08T10:12:07Z",
        "updated_at": "2026-10-08T11:00:00Z",
        "priority": "LOW",
        "status": "OPEN",
        "subject": "Exports time out",
        "tags": ["exports", "latency"],
        "type": "INCIDENT",
    },
    "event": {"current": "OPEN", "previous": "NEW"},
}
JIRA_EXAMPLE = {
    "timestamp": 1790000000000,
    "webhookEvent": "jira:issue_created",
    "issue": {
        "id": "10042",
        "key": "ENG-42",
        "fields": {
            "summary": "CSV export drops rows over 10k",
            "created": "2026-10-02T08:15:00.000+0000",
            "updated": "2026-10-02T09:00:00.000+0000",
            "priority": {"name": "High", "id": "2"},
            "status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
            "labels": ["export"],
            "components": [{"name": "Reporting"}],
            "project": {"key": "ENG", "name": "Engineering"},
            "resolutiondate": None,
        },
    },
}
CRM_EXAMPLE = {
    "attributes": {"type": "Contact"},
    "Id": "0035g00000EDM",
    "AccountId": "0015g00000XyZ12AAB",
    "Name": "Dana Boss",
    "Email": "dana@customer.example",
    "Title": "CFO",
    "EmailBouncedReason": "550 5.1.1 The email account does not exist",
    "LastModifiedDate": "2026-10-01T08:00:00.000+0000",
}

# HubSpot's documented webhook payload (developers.hubspot.com, "Webhooks API").
HUBSPOT_EXAMPLE = [
    {
        "eventId": 1001,
        "subscriptionId": 12345,
        "portalId": 62515,
        "appId": 54321,
        "occurredAt": 1791100800000,
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0,
        "objectId": 123,
        "changeSource": "CRM",
        "propertyName": "jobtitle",
        "propertyValue": "Senior Manager",
    }
]
# Segment's track call (segment.com/docs/connections/spec/track/).
SEGMENT_EXAMPLE = {
    "type": "track",
    "event": "Report Exported",
    "userId": "u-1001",
    "messageId": "ajs-next-1791100800-9f1c",
    "timestamp": "2026-10-04T09:30:00.123Z",
    "properties": {"format": "csv"},
    "context": {"groupId": "ACME-001"},
}
