"""Ingestion endpoints: the generic batch, and the native Zendesk, Jira, CRM, HubSpot and
Segment webhooks.

Each one reads the raw body itself (the HMAC is over the exact bytes; the idempotency key
is compared with a digest of them), turns it into generic signals and stores them in one
transaction that commits before the 202. Every problem is a 4xx with a reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from csrisk import clock, db
from csrisk.api.parsers import MalformedJSON, parse_json
from csrisk.permissions import IsIntegration, IsStaffMember
from signals import adapters, normalise, provenance, selectors, services
from signals.api import schemas
from signals.api.serializers import (
    BackfillStatusSerializer,
    IngestAnswerSerializer,
    SignalDetailSerializer,
    SignalSerializer,
)
from signals.filtersets import SignalApiFilterSet
from signals.models import Backfill, IdempotencyRecord, Signal
from signals.normalise import Invalid
from signals.services import backfills
from signals.throttling import IngestRateThrottle

ERRORS = {
    400: {
        "description": "Malformed JSON, or nothing accepted: the one signal sent, or every "
        "signal of a list, was rejected (reasons given per item)."
    },
    401: {"description": "No or invalid credentials, or a bad webhook signature."},
    403: {"description": "Not an integration user: people may not push signals."},
    413: {"description": "Body larger than the limit, or more than 5,000 signals."},
    422: {"description": "Idempotency-Key reused with a different body."},
    429: {"description": "Rate limit of this token exceeded; retry after Retry-After."},
}


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


# A 400 is either the per-item answer (nothing in it was accepted) or one plain reason.
INGEST_400 = {
    "anyOf": [
        {"$ref": "#/components/schemas/IngestAnswer"},
        {"$ref": "#/components/schemas/Error"},
    ]
}
RESULT_SCHEMA = {
    202: OpenApiResponse(
        IngestAnswerSerializer,
        description=(
            "Stored (committed) before this answer; one result per item, in order. "
            "Rejected items do not stop the others."
        ),
    ),
    400: OpenApiResponse(INGEST_400, description=ERRORS[400]["description"]),
    **{
        code: OpenApiResponse(ErrorSerializer, description=text["description"])
        for code, text in ERRORS.items()
        if code != 400
    },
}
IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Same key → same answer; same key with another body → 422.",
)
BACKFILL = OpenApiParameter(
    "backfill",
    OpenApiTypes.BOOL,
    OpenApiParameter.QUERY,
    description=(
        "true: these signals are history (a backfill): facts, colours and history are "
        "updated, but changes dated before the backfill started alert nobody, and rule CTAs "
        "open only for what is still true now. The answer names the backfill; its status is "
        "at /api/v1/backfills/{id}/. Not covered by a webhook's signature."
    ),
)
BACKFILL_ID = OpenApiParameter(
    "backfill_id",
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    description="Add to the open backfill this sender started (a long one, in many requests).",
)
INGEST_PARAMETERS = [IDEMPOTENCY, BACKFILL, BACKFILL_ID]


class History:
    """What a request asks of ``backfill`` / ``backfill_id``: nothing (news), a new
    backfill, or one this sender started."""

    def __init__(self, request: Request) -> None:
        params = request.query_params
        self.continued = (params.get("backfill_id") or "").strip()
        self.wanted = bool(self.continued) or backfills.wanted(params.get("backfill"))

    def backfill(self, request: Request, sender: provenance.Sender, via: str) -> Backfill | None:
        if not self.wanted:
            return None
        if self.continued:
            return backfills.backfill_continued(self.continued, sender=sender)
        user = request.user if request.user and request.user.is_authenticated else None
        return backfills.backfill_start(via=via, sender=sender, by=user)


class _Replay(Exception):
    """Another request with this Idempotency-Key committed first."""


def _error(code: int, detail: str, **extra: Any) -> Response:
    return Response({"detail": normalise.printable(detail), **extra}, status=code)


def _body(request: Request) -> bytes | Response:
    limit = settings.CSRISK_SIGNALS_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _error(413, f"The body is {declared} bytes; the limit is {limit}.")
    body = request.body
    if len(body) > limit:
        return _error(413, f"The body is {len(body)} bytes; the limit is {limit}.")
    return body


def _json(body: bytes) -> Any:
    if not body.strip():
        raise Invalid("The body is empty; send a JSON object or list.")
    try:
        # The API's parser (csrisk.api.parsers), as lenient as json.loads has always been
        # here: NaN is read, and refused by the field that gets it.
        return parse_json(body, strict=False)
    except MalformedJSON as exc:
        raise Invalid(str(exc)) from None


def ingest(
    request: Request,
    body: bytes,
    raws: list[Any],
    *,
    single: bool,
    sender: provenance.Sender,
    source: str = "",
    history: History | None = None,
    via: str = "rest",
) -> Response:
    """Store ``raws`` as sent by ``sender`` and answer with a result per item (shared by
    every endpoint); ``history``: as a backfill (signals.services.backfills)."""
    if len(raws) > services.MAX_BATCH:
        return _error(413, f"{len(raws)} signals; send at most {services.MAX_BATCH} per request.")
    if not raws:
        return _error(400, "No signals in the body.")
    user = request.user if request.user and request.user.is_authenticated else None
    key = (request.headers.get("Idempotency-Key") or "").strip()[:200]
    # The query string too: the same body sent as a backfill is another request.
    digest = hashlib.sha256(request.get_full_path().encode() + b"\n" + body).hexdigest()
    if key and user is not None:
        replay = _replayed(user, key, digest)
        if replay is not None:
            return replay
    try:
        with transaction.atomic():
            backfill = history.backfill(request, sender, via) if history else None
            outcomes = services.signals_store(
                raws, default_source=source, sender=sender, backfill=backfill
            )
            answer = {
                "accepted": sum(o.status == services.ACCEPTED for o in outcomes),
                "duplicates": sum(o.status == services.DUPLICATE for o in outcomes),
                "rejected": sum(o.status == services.REJECTED for o in outcomes),
                "unmatched": sum(o.unmatched for o in outcomes),
                "results": [o.as_dict() for o in outcomes],
                "sender": sender.label,  # as the stored signals record it
            }
            if backfill is not None:
                answer["backfill"] = {
                    "id": backfill.pk,
                    "url": reverse("api-backfill", args=[backfill.pk]),
                }
            code = 202
            if single and outcomes[0].status == services.REJECTED:
                code = 400
                answer["detail"] = outcomes[0].reason
            elif all(o.status == services.REJECTED for o in outcomes):
                # Nothing usable at all is a client error; one bad item among good ones
                # is not (the good ones are stored, and the 202 names the bad one).
                code = 400
                answer["detail"] = "Every signal was rejected; see results for each reason."
            if key and user is not None:
                try:
                    with transaction.atomic():
                        IdempotencyRecord.objects.create(
                            user=user,
                            key=key,
                            request_digest=digest,
                            status_code=code,
                            response=answer,
                            created_at=clock.now(),
                        )
                except IntegrityError:
                    raise _Replay from None
    except _Replay:
        return _replayed(user, key, digest) or _error(409, "Retry this request.")
    except Invalid as exc:  # a backfill_id that is not this sender's open backfill
        return _error(400, str(exc))
    return Response(answer, status=code)


def _replayed(user: Any, key: str, digest: str) -> Response | None:
    record = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if record is None:
        return None
    if record.request_digest != digest:
        return _error(422, "This Idempotency-Key was used with a different body; use a new key.")
    response = Response(record.response, status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def _handle(
    request: Request,
    convert: Callable[[Any], tuple[list[Any], bool]],
    sender: provenance.Sender,
    source: str = "",
    via: str = "rest",
) -> Response:
    body = _body(request)
    if isinstance(body, Response):
        return body
    with db.gc_paused():  # parsing a batch allocates as much as storing it
        try:
            history = History(request)
            raws, single = convert(_json(body))
        except Invalid as exc:
            services.rejection_record(source=source or "api", count=1, reason=str(exc))
            return _error(400, str(exc))
        return ingest(
            request,
            body,
            raws,
            single=single,
            sender=sender,
            source=source,
            history=history,
            via=via,
        )


LIST_ERRORS = {
    # The parameter's name mapped to the reason (the generic error schema).
    400: OpenApiResponse(description="A bad filter or page parameter, named."),
    401: OpenApiResponse(ErrorSerializer, description=ERRORS[401]["description"]),
    403: OpenApiResponse(
        ErrorSerializer, description="An integration token: integrations push, people read."
    ),
}


class SignalIngestView(ListAPIView):
    """GET the recent-signals feed (people, as the /signals/ page); POST one generic signal
    or a JSON list of up to 5,000 (CONTRACT.md; integration users only)."""

    serializer_class = SignalSerializer
    filterset_class = SignalApiFilterSet
    ordering_fields = ["received_at", "occurred_at"]

    def get_queryset(self) -> QuerySet[Signal]:
        return selectors.feed()

    def get_permissions(self) -> list[BasePermission]:
        # One address, two audiences: integrations push (issue 19), people read the feed.
        if self.request.method == "POST":
            return [IsIntegration()]
        return [IsStaffMember()]

    def get_throttles(self) -> list[BaseThrottle]:
        return [IngestRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        responses={200: SignalSerializer(many=True), **LIST_ERRORS},
        summary="List signals",
        description="The /signals/ feed, newest received first, with its filters.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={"application/json": {"type": "array", "items": {"type": "object"}}},
        responses=RESULT_SCHEMA,
        parameters=INGEST_PARAMETERS,
        summary="Push signals",
        description=(
            "One signal object or a list of up to 5,000; kinds ticket, org_change, "
            "competitor, usage, sentiment. A bad item is rejected with its index and "
            "reason; the good ones are stored."
        ),
    )
    def post(self, request: Request) -> Response:
        def convert(data: Any) -> tuple[list[Any], bool]:
            if isinstance(data, list):
                return data, False
            if isinstance(data, dict):
                return [data], True
            raise Invalid("Send a JSON object (one signal) or a list of them.")

        return _handle(request, convert, provenance.sender_of_token(request.user, request.auth))


class SignalDetailView(RetrieveAPIView):
    """GET one signal as its page shows it: payload, sender, earlier versions."""

    serializer_class = SignalDetailSerializer

    def get_queryset(self) -> QuerySet[Signal]:
        return selectors.signal_detail()

    @extend_schema(
        responses={
            200: SignalDetailSerializer,
            **LIST_ERRORS,
            404: OpenApiResponse(ErrorSerializer, description="No such signal."),
        },
        summary="One signal",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        signal = self.get_object()
        signal.earlier_versions = selectors.versions(signal)
        return Response(SignalDetailSerializer(signal).data)


class SignedWebhookView(APIView):
    """A native webhook: authenticated by its HMAC signature when a secret is configured
    (the sender is then the tool itself), otherwise by an integration user's token. A
    signed request also carries the time it was sent (signed with it), and one older than
    CSRISK_WEBHOOK_TOLERANCE_SECONDS is refused as a replay."""

    permission_classes = [AllowAny]  # checked in ``post``: signature or token
    throttle_classes = [IngestRateThrottle]
    source = ""

    def secret(self) -> str:
        return ""

    def signature_error(self, request: Request, body: bytes) -> str | None:
        """Why the signature does not prove the body came from the tool, or None."""
        return None

    def signed_at(self, request: Request, body: bytes) -> tuple[Any, str]:
        """When the tool sent the request (a signed header or a field of the body), and
        where that time is read from (for the reason of a refusal)."""
        return None, ""

    def verify(self, request: Request, body: bytes) -> Response | None:
        reason = self.signature_error(request, body) or _replay_error(
            *self.signed_at(request, body)
        )
        return _error(401, reason) if reason else None

    def convert(self, data: Any) -> tuple[list[Any], bool]:
        """The tool's payload as generic signals, and whether it was a single one: what the
        generic ``accept`` stores. A view with its own ``accept`` (HubSpot, Segment) has
        none, and says so if it is ever asked."""
        raise Invalid(f"The {self.source} webhook carries no generic signals.")

    def accept(self, request: Request, body: bytes, sender: provenance.Sender) -> Response:
        """Store what an authenticated request carries (the generic path by default)."""
        return _handle(request, self.convert, sender, self.source, via="webhook")

    def post(self, request: Request) -> Response:
        body = _body(request)
        if isinstance(body, Response):
            return body
        if self.secret():
            refused = self.verify(request, body)
            if refused is not None:
                services.rejection_record(
                    source=self.source, count=1, reason=refused.data["detail"]
                )
                return refused
            sender = provenance.sender_of_webhook(self.source)
        elif not (request.user and request.user.is_authenticated and request.user.is_active):
            return _error(401, "Authentication credentials were not provided.")
        elif not request.user.is_integration:
            return _error(403, provenance.NOT_INTEGRATION)
        else:
            sender = provenance.sender_of_token(request.user, request.auth)
        return self.accept(request, body, sender)


def _replay_error(sent: Any, where: str) -> str | None:
    """The replay window of every signed webhook: the time the sender signed must be within
    CSRISK_WEBHOOK_TOLERANCE_SECONDS of now."""
    if sent in (None, ""):
        return f"Missing {where}: a signed webhook carries the time it was sent."
    now = clock.now()
    try:
        when = normalise.parse_time(sent, where, now=now)
    except Invalid:
        return f"Unreadable {where}."
    age = abs((now - when).total_seconds())
    if age > settings.CSRISK_WEBHOOK_TOLERANCE_SECONDS:
        return f"Stale webhook: signed {int(age)} s ago; replays are refused."
    return None


class ZendeskWebhookView(SignedWebhookView):
    """Zendesk ticket event webhooks and Ticket API objects."""

    source = adapters.ZENDESK

    def secret(self) -> str:
        return settings.ZENDESK_WEBHOOK_SECRET

    def signature_error(self, request: Request, body: bytes) -> str | None:
        signature = request.headers.get("X-Zendesk-Webhook-Signature", "")
        stamp = request.headers.get("X-Zendesk-Webhook-Signature-Timestamp", "")
        if not signature or not stamp:
            return "Missing X-Zendesk-Webhook-Signature(-Timestamp)."
        if not adapters.timestamped_signature_ok(self.secret(), stamp, body, signature):
            return "Invalid Zendesk webhook signature."
        return None

    def signed_at(self, request: Request, body: bytes) -> tuple[Any, str]:
        stamp = request.headers.get("X-Zendesk-Webhook-Signature-Timestamp", "")
        return stamp, "X-Zendesk-Webhook-Signature-Timestamp"

    def convert(self, data: Any) -> tuple[list[Any], bool]:
        items = adapters.zendesk_signals(data)
        return items, len(items) == 1

    @extend_schema(
        request={"application/json": schemas.ZENDESK_SCHEMA},
        examples=[
            OpenApiExample("Zendesk ticket event", value=schemas.ZENDESK_EXAMPLE, request_only=True)
        ],
        responses=RESULT_SCHEMA,
        parameters=INGEST_PARAMETERS,
        summary="Zendesk webhook",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class JiraWebhookView(SignedWebhookView):
    """Jira issue webhooks → defect tickets."""

    source = adapters.JIRA

    def secret(self) -> str:
        return settings.JIRA_WEBHOOK_SECRET

    def signature_error(self, request: Request, body: bytes) -> str | None:
        given = request.headers.get("X-Hub-Signature", "")
        if not adapters.jira_signature_ok(self.secret(), body, given):
            return "Invalid or missing X-Hub-Signature."
        return None

    def signed_at(self, request: Request, body: bytes) -> tuple[Any, str]:
        # Jira puts the time of the event in the signed body (epoch milliseconds).
        try:
            data = _json(body)
        except Invalid:
            return None, "timestamp (the body is not JSON)"
        sent = data.get("timestamp") if isinstance(data, dict) else None
        return sent, "timestamp"

    def convert(self, data: Any) -> tuple[list[Any], bool]:
        return adapters.jira_signals(data, account_field=settings.JIRA_ACCOUNT_FIELD), True

    @extend_schema(
        request={"application/json": schemas.JIRA_SCHEMA},
        examples=[
            OpenApiExample("Jira issue created", value=schemas.JIRA_EXAMPLE, request_only=True)
        ],
        responses=RESULT_SCHEMA,
        parameters=INGEST_PARAMETERS,
        summary="Jira issue webhook",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class CrmWebhookView(SignedWebhookView):
    """Salesforce-style Contact records or change events → people changes. Signed like
    Zendesk (X-CRM-Signature: base64 HMAC-SHA256 of X-CRM-Signature-Timestamp + body) when
    CRM_WEBHOOK_SECRET is set, by the middleware or flow that forwards the CRM's events."""

    source = adapters.CRM

    def secret(self) -> str:
        return settings.CRM_WEBHOOK_SECRET

    def signature_error(self, request: Request, body: bytes) -> str | None:
        signature = request.headers.get("X-CRM-Signature", "")
        stamp = request.headers.get("X-CRM-Signature-Timestamp", "")
        if not signature or not stamp:
            return "Missing X-CRM-Signature(-Timestamp)."
        if not adapters.timestamped_signature_ok(self.secret(), stamp, body, signature):
            return "Invalid CRM webhook signature."
        return None

    def signed_at(self, request: Request, body: bytes) -> tuple[Any, str]:
        return request.headers.get("X-CRM-Signature-Timestamp", ""), "X-CRM-Signature-Timestamp"

    def convert(self, data: Any) -> tuple[list[Any], bool]:
        items = adapters.crm_signals(data, now=clock.now())
        if not items:
            raise Invalid("No people change in this contact record (nothing to store).")
        return items, len(items) == 1

    @extend_schema(
        request={"application/json": schemas.CRM_SCHEMA},
        examples=[
            OpenApiExample(
                "Salesforce Contact record", value=schemas.CRM_EXAMPLE, request_only=True
            )
        ],
        responses=RESULT_SCHEMA,
        parameters=INGEST_PARAMETERS,
        summary="CRM contact change",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class BackfillStatusView(APIView):
    """GET a backfill's progress: what was sent, stored and processed, and its status."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={
            200: BackfillStatusSerializer,
            401: OpenApiResponse(ErrorSerializer, description=ERRORS[401]["description"]),
            404: OpenApiResponse(
                ErrorSerializer, description="No such backfill, or not one you started."
            ),
        },
        summary="Backfill status",
    )
    def get(self, request: Request, pk: int) -> Response:
        backfill = Backfill.objects.select_related("created_by").filter(pk=pk).first()
        mine = backfill is not None and backfill.created_by_id == request.user.pk
        org_wide = getattr(request.user, "is_org_wide", False) and not request.user.is_integration
        if backfill is None or not (mine or org_wide):
            raise Http404("No such backfill.")
        return Response(BackfillStatusSerializer(selectors.backfill_progress(backfill)).data)


def _json_or_400(body: bytes, source: str) -> Any:
    """The body as JSON, or a 400 with the reason (counted in ingestion health)."""
    try:
        return _json(body)
    except Invalid as exc:
        services.rejection_record(source=source, count=1, reason=str(exc))
        return _error(400, str(exc))


class HubSpotWebhookView(SignedWebhookView):
    """HubSpot webhooks (API v3): a JSON array of CRM events → people changes. Signed with
    the app's client secret (X-HubSpot-Signature-v3 over method + URI + body + timestamp,
    X-HubSpot-Request-Timestamp in milliseconds; older than five minutes is refused)."""

    source = adapters.HUBSPOT

    def secret(self) -> str:
        return settings.HUBSPOT_CLIENT_SECRET

    def uri(self, request: Request) -> str:
        """The URI HubSpot signed: the full one it called (HubSpot decodes the URL-encoded
        characters before signing, so this does too)."""
        base = settings.HUBSPOT_WEBHOOK_URL
        if base:
            query = request.META.get("QUERY_STRING", "")
            return unquote(base + (f"?{query}" if query else ""))
        return unquote(request.build_absolute_uri())

    def signature_error(self, request: Request, body: bytes) -> str | None:
        signature = request.headers.get("X-HubSpot-Signature-v3", "")
        stamp = request.headers.get("X-HubSpot-Request-Timestamp", "")
        if not signature or not stamp:
            return "Missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp."
        method = request.method or "POST"
        uri = self.uri(request)
        if not adapters.hubspot_signature_ok(self.secret(), method, uri, body, stamp, signature):
            return f"Invalid HubSpot signature (v3, computed over {method} {uri})."
        return None

    def signed_at(self, request: Request, body: bytes) -> tuple[Any, str]:
        stamp = request.headers.get("X-HubSpot-Request-Timestamp", "").strip()
        return (int(stamp) if stamp.isdigit() else stamp), "X-HubSpot-Request-Timestamp"

    def accept(self, request: Request, body: bytes, sender: provenance.Sender) -> Response:
        data = _json_or_400(body, self.source)
        if isinstance(data, Response):
            return data
        try:
            history = History(request)
            events = adapters.hubspot_events(data)
        except Invalid as exc:
            services.rejection_record(source=self.source, count=1, reason=str(exc))
            return _error(400, str(exc))
        with transaction.atomic():  # the associations and the signals commit together
            raws, ignored = services.hubspot_signals(events)
            if not raws:
                return Response(
                    {"accepted": 0, "duplicates": 0, "rejected": 0, "unmatched": 0,
                     "ignored": ignored, "results": [], "sender": sender.label},
                    status=200,
                )  # fmt: skip
            response = ingest(
                request,
                body,
                raws,
                single=False,
                sender=sender,
                source=self.source,
                history=history,
                via="webhook",
            )
        response.data["ignored"] = ignored
        return response

    @extend_schema(
        request={"application/json": schemas.HUBSPOT_SCHEMA},
        examples=[
            OpenApiExample("HubSpot title change", value=schemas.HUBSPOT_EXAMPLE, request_only=True)
        ],
        responses={
            **RESULT_SCHEMA,
            200: OpenApiResponse(
                IngestAnswerSerializer,
                description="Nothing in the batch is a change csrisk reads (all ignored).",
            ),
        },
        summary="HubSpot webhook",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class SegmentWebhookView(SignedWebhookView):
    """Segment's webhook destination: track / identify / group calls (one, or an array
    when batched) rolled up into daily usage per account. X-Signature: hex HMAC-SHA1 of
    the body with the shared secret. Segment signs no time: a replay is harmless, since
    every message id is counted once (signals.services.usage)."""

    source = adapters.SEGMENT

    def secret(self) -> str:
        return settings.SEGMENT_WEBHOOK_SECRET

    def verify(self, request: Request, body: bytes) -> Response | None:
        signature = request.headers.get("X-Signature", "")
        if not signature:
            return _error(401, "Missing X-Signature.")
        if not adapters.segment_signature_ok(self.secret(), body, signature):
            return _error(401, "Invalid Segment signature (X-Signature).")
        return None

    def accept(self, request: Request, body: bytes, sender: provenance.Sender) -> Response:
        refusal = sender.source_refusal(self.source)
        if refusal:
            return _error(403, refusal)
        data = _json_or_400(body, self.source)
        if isinstance(data, Response):
            return data
        try:
            calls = adapters.segment_calls(data)
        except Invalid as exc:
            services.rejection_record(source=self.source, count=1, reason=str(exc))
            return _error(400, str(exc))
        if len(calls) > services.MAX_BATCH:
            return _error(413, f"{len(calls)} calls; send at most {services.MAX_BATCH}.")
        answer = services.usage_record(calls, source=self.source).as_dict()
        answer["sender"] = sender.label
        if answer["rejected"] and not (
            answer["accepted"] or answer["duplicates"] or answer["ignored"]
        ):
            answer["detail"] = "Every call was rejected; see rejections for each reason."
            return Response(answer, status=400)
        return Response(answer, status=202)

    @extend_schema(
        request={"application/json": schemas.SEGMENT_SCHEMA},
        examples=[
            OpenApiExample("Segment track call", value=schemas.SEGMENT_EXAMPLE, request_only=True)
        ],
        responses={
            202: OpenApiResponse(description="Counted (committed) before this answer."),
            **{c: r for c, r in RESULT_SCHEMA.items() if c != 202},
        },
        summary="Segment webhook",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)
