"""Escalation pages: the list at my level, a CTA's escalation panel and its actions, the
meetings with their agendas, the live queues, and the panels on the account and 1:1 pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.models import Account
from csrisk import clock, live
from csrisk.inputs import parse_int
from csrisk.models import User
from csrisk.roles import Role
from ctas.choices import LIVE_STATUSES
from ctas.models import Cta
from escalation import rules, selectors
from escalation.choices import EscalationStatus, Level, MeetingKind
from escalation.models import AccountSuggestion, Escalation, Meeting, Suggestion
from escalation.services import agendas, lane, levels, suggestions

SHORT = {1: "Level 1 · team", 2: "Level 2 · VP", 3: "Level 3 · CEO"}


def _levels_for(user: User, escalation: Escalation | None) -> list[tuple[int, str]]:
    if escalation is None:
        return []
    return [
        (value, label)
        for value, label in Level.choices
        if rules.can_escalate(user, escalation, value)
    ]


def cta_panel(request: HttpRequest, cta: Cta) -> dict[str, Any]:
    """The escalation panel on a CTA's page (registered in EscalationConfig.ready)."""
    current, past = selectors.escalation_detail(cta)
    user = request.user
    return {
        "cta": cta,
        "escalation": current,
        "past": past,
        "up_levels": _levels_for(user, current),
        "down_levels": [
            (v, label) for v, label in Level.choices if current is not None and v < current.level
        ]
        if current is not None and rules.can_de_escalate(user, current)
        else [],
        "can_acknowledge": current is not None and rules.can_acknowledge(user, current),
        "can_resolve": current is not None and rules.can_resolve(user, current),
        "now": clock.now(),
    }


def account_panel(request: HttpRequest, account: Account) -> dict[str, Any]:
    """Escalations of an account and their timeline (on the account page)."""
    return {
        "account": account,
        "now": clock.now(),
        "open": list(
            selectors.escalations(account=account, status=EscalationStatus.OPEN).order_by(
                "-level", "deadline_at"
            )
        ),
        "steps": selectors.account_timeline(account),
    }


def review_panel(request: HttpRequest, csm: User | None) -> dict[str, Any]:
    """The CSM's flagged CTAs and escalations beside the 1:1 scorecard review."""
    if csm is None:
        return {"csm": None, "flagged": []}
    flagged = list(
        Cta.objects.filter(owner=csm, flagged=True, status__in=LIVE_STATUSES)
        .select_related("account__scorecard")
        .order_by("flagged_at", "pk")
    )
    open_escalations = selectors.open_for_ctas([c.pk for c in flagged])
    for cta in flagged:
        cta.escalation = open_escalations.get(cta.pk)
    return {"csm": csm, "flagged": flagged, "now": clock.now()}


# --- the list ---------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
def escalation_list(request: HttpRequest) -> HttpResponse:
    context = _list_context(request)
    if request.htmx:
        return render(request, "escalation/partials/_list_table.html", context)
    return render(request, "escalation/list.html", context)


@require_GET
def escalation_live(request: HttpRequest) -> HttpResponse:
    """The queue, polled: 204 (htmx leaves the page alone, open forms too) while nothing
    in the escalations or the lane moved since the fingerprint the page holds; else the
    table, retargeted into the page (it carries the new fingerprint)."""
    fingerprint = queue_fingerprint()
    if request.GET.get("fp") == fingerprint:
        return HttpResponse(status=204)
    context = _list_context(request, fingerprint=fingerprint)
    response = render(request, "escalation/partials/_list_table.html", context)
    response["HX-Retarget"] = "#escalation-table"
    response["HX-Reswap"] = "innerHTML"
    return response


def queue_fingerprint() -> str:
    """What any escalation queue shows, in two aggregates: a new, moved, acknowledged or
    resolved escalation, or a lane suggestion decided or changed, changes it."""
    e = Escalation.objects.aggregate(
        n=Count("pk"),
        last=Max("pk"),
        moved=Max("level_since"),
        ack=Max("acknowledged_at"),
        done=Max("resolved_at"),
    )
    s = AccountSuggestion.objects.aggregate(n=Count("pk"), changed=Max("updated_at"))
    return live.etag_of(*e.values(), *s.values()).strip('"')


def _list_context(request: HttpRequest, fingerprint: str | None = None) -> dict[str, Any]:
    user = request.user
    raw_level = request.GET.get("level")
    if raw_level is None:
        level = selectors.default_level(user)
    else:
        level = int(raw_level) if raw_level in {"1", "2", "3"} else None
    status = request.GET.get("status", EscalationStatus.OPEN)
    status = status if status in EscalationStatus.values else ""
    # A team lead's list opens on their own teams' level 1; anyone can widen it.
    explicit = {k: v for k, v in request.GET.items() if k != "fp"}
    mine = request.GET.get("mine") == "1" or (not explicit and user.role == Role.TEAM_LEAD)
    qs = selectors.escalation_list(user, level=level, status=status, mine=mine)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    counts = dict(
        Escalation.objects.filter(status=EscalationStatus.OPEN)
        .values_list("level")
        .annotate(n=Count("pk"))
        .values_list("level", "n")
    )
    return {
        "page": page,
        "level": level,
        "status": status,
        "mine": mine,
        "levels": [(value, label, counts.get(value, 0)) for value, label in Level.choices],
        "now": clock.now(),
        "lane": _lane(user) if level == Level.VP and status == EscalationStatus.OPEN else None,
        "live_fp": fingerprint or queue_fingerprint(),
    }


def _lane(user: User) -> dict[str, Any] | None:
    """The "suggested for level 2" lane, for the people who may raise level 2."""
    if rules.max_level_for(user) < Level.VP:
        return None
    rows, total = selectors.level_two_lane()
    return {"rows": rows, "total": total}


def _lane_act(
    request: HttpRequest, pk: int, fn: Callable[[AccountSuggestion], Any], done: str
) -> HttpResponse:
    suggestion = get_object_or_404(AccountSuggestion.objects.select_related("account"), pk=pk)
    error, status = "", 200
    try:
        fn(suggestion)
    except ValidationError as exc:
        error, status = " ".join(exc.messages), 400
    except PermissionDenied as exc:
        if not request.htmx:
            raise
        error, status = str(exc) or "Not allowed.", 403
    if request.htmx:
        # The lane and the level-2 table below it: an accepted account moves from one to
        # the other in the same swap.
        qs = selectors.escalation_list(request.user, level=Level.VP)
        context = {
            "page": Paginator(qs, 50).get_page(1),
            "level": Level.VP,
            "status": EscalationStatus.OPEN,
            "now": clock.now(),
            "lane": _lane(request.user),
            "live_fp": queue_fingerprint(),
            "error": error,
            "done": "" if error else done,
        }
        return render(request, "escalation/partials/_list_table.html", context, status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect(reverse("escalation:list") + "?level=2#lane")


@require_POST
def lane_accept(request: HttpRequest, pk: int) -> HttpResponse:
    return _lane_act(
        request,
        pk,
        lambda s: lane.lane_accept(suggestion=s, by=request.user),
        "Raised to level 2; the team lead and the CSM are told.",
    )


@require_POST
def lane_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    return _lane_act(
        request,
        pk,
        lambda s: lane.lane_dismiss(
            suggestion=s, by=request.user, note=request.POST.get("note", "")[:300]
        ),
        "Dismissed until its reason changes.",
    )


# --- actions ------------------------------------------------------------------------------


def _act(
    request: HttpRequest, escalation: Escalation, fn: Callable[[], Any], done: str
) -> HttpResponse:
    error = ""
    status = 200
    try:
        fn()
    except ValidationError as exc:
        error, status = " ".join(exc.messages), 400
    except PermissionDenied as exc:
        if not request.htmx:
            raise  # the 403 page; an htmx caller gets the panel with the reason instead
        error, status = str(exc) or "Not allowed.", 403
    cta = Cta.objects.select_related("account", "owner__team__lead").get(pk=escalation.cta_id)
    if request.htmx:
        context = cta_panel(request, cta)
        context["error"] = error
        context["done"] = "" if error else done
        return render(request, "escalation/partials/_cta_panel.html", context, status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect(reverse("cockpit:cta", args=[cta.pk]) + "#escalation")


def _escalation(pk: int) -> Escalation:
    return get_object_or_404(
        Escalation.objects.select_related("cta__owner__team__lead", "cta__account", "account"),
        pk=pk,
    )


def _level(raw: str | None) -> int:
    level = parse_int(raw, default=0)
    if not level:
        raise ValidationError({"level": "Choose a level."})
    return level


@require_POST
def escalate(request: HttpRequest, pk: int) -> HttpResponse:
    escalation = _escalation(pk)
    reason = request.POST.get("reason", "")[:2000]

    def run() -> Escalation:
        return levels.escalation_escalate(
            escalation=escalation,
            by=request.user,
            level=_level(request.POST.get("level")),
            reason=reason,
        )

    return _act(request, escalation, run, "Escalated.")


@require_POST
def de_escalate(request: HttpRequest, pk: int) -> HttpResponse:
    escalation = _escalation(pk)

    def run() -> Escalation:
        return levels.escalation_de_escalate(
            escalation=escalation,
            by=request.user,
            level=_level(request.POST.get("level")),
            reason=request.POST.get("reason", "")[:2000],
        )

    return _act(request, escalation, run, "Handed back down.")


@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    escalation = _escalation(pk)
    return _act(
        request,
        escalation,
        lambda: levels.escalation_acknowledge(
            escalation=escalation, by=request.user, note=request.POST.get("note", "")[:1000]
        ),
        "Acknowledged.",
    )


@require_POST
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    escalation = _escalation(pk)
    return _act(
        request,
        escalation,
        lambda: levels.escalation_resolve(
            escalation=escalation, by=request.user, reason=request.POST.get("reason", "")[:2000]
        ),
        "Resolved.",
    )


@require_POST
def suggestion_accept(request: HttpRequest, pk: int) -> HttpResponse:
    suggestion = get_object_or_404(Suggestion.objects.select_related("escalation"), pk=pk)
    return _act(
        request,
        suggestion.escalation,
        lambda: suggestions.suggestion_accept(suggestion=suggestion, by=request.user),
        f"Escalated to level {suggestion.level}.",
    )


@require_POST
def suggestion_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    suggestion = get_object_or_404(Suggestion.objects.select_related("escalation"), pk=pk)
    return _act(
        request,
        suggestion.escalation,
        lambda: suggestions.suggestion_dismiss(
            suggestion=suggestion, by=request.user, note=request.POST.get("note", "")[:300]
        ),
        "Suggestion dismissed.",
    )


# --- meetings -----------------------------------------------------------------------------


@require_GET
def meeting_list(request: HttpRequest) -> HttpResponse:
    today = clock.today()
    kinds = selectors.meeting_kinds()
    return render(
        request,
        "escalation/meetings.html",
        {
            "meetings": [(m, selectors.meeting_date(m, today)) for m in kinds[MeetingKind.MEETING]],
            "queues": kinds[MeetingKind.QUEUE],
        },
    )


def _date(raw: str | None, default: dt.date) -> dt.date:
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise Http404("Give the date as YYYY-MM-DD.") from None


@require_GET
def agenda(request: HttpRequest, slug: str) -> HttpResponse:
    meeting = get_object_or_404(Meeting.objects.select_related("team"), slug=slug)
    date = _date(request.GET.get("date"), selectors.meeting_date(meeting, clock.today()))
    items = selectors.agenda(meeting, date)
    past = selectors.reviewed_dates(meeting)
    template = (
        "escalation/queue.html" if meeting.kind == MeetingKind.QUEUE else "escalation/agenda.html"
    )
    return render(
        request,
        template,
        {
            "meeting": meeting,
            "date": date,
            "items": items,
            "reviewed": sum(1 for i in items if i.review),
            "past_dates": list(past),
            "now": clock.now(),
        },
    )


@require_POST
def agenda_review(request: HttpRequest, slug: str) -> HttpResponse:
    """The room records an outcome and next step for one item (marks it reviewed)."""
    meeting = get_object_or_404(Meeting, slug=slug)
    date = _date(request.POST.get("date"), clock.today())
    key = request.POST.get("item", "")
    item = next((i for i in selectors.agenda(meeting, date) if i.key == key), None)
    if item is None:
        raise Http404("That item is not on this agenda.")
    try:
        services_review = agendas.agenda_review(
            meeting=meeting,
            date=date,
            item=item,
            by=request.user,
            outcome=request.POST.get("outcome", "")[:4000],
            next_step=request.POST.get("next_step", "")[:300],
        )
    except PermissionDenied as exc:
        return HttpResponse(str(exc), status=403)
    item.review = services_review
    if request.htmx:
        return render(
            request,
            "escalation/partials/_agenda_item.html",
            {"item": item, "meeting": meeting, "date": date, "now": clock.now()},
        )
    messages.success(request, "Reviewed.")
    agenda = reverse("escalation:agenda", args=[meeting.slug])
    return redirect(f"{agenda}?date={date.isoformat()}#{key}")
