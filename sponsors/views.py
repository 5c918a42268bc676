"""Sponsor program pages: the program (load, capacity, coverage), the sponsor panel on an
account (suggestions, assignment, help requests), and the check-in panel on its CTA."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Account
from csrisk import clock
from csrisk.inputs import parse_id
from csrisk.models import User
from ctas.models import Cta
from scorecards.choices import AreaCode
from sponsors import rules, selectors, services
from sponsors.models import CheckIn, Program, Sentiment, Sponsorship

RISK_ROWS = 3


def account_panel(request: HttpRequest, account: Account) -> dict[str, Any]:
    """The sponsor panel on the account page (registered in SponsorsConfig.ready)."""
    program = Program.current()
    current = (
        Sponsorship.objects.filter(account=account, ended_on=None)
        .select_related("sponsor", "assigned_by")
        .first()
    )
    user = request.user
    can_assign = rules.can_assign_sponsor(user, account)
    eligible = program is not None and selectors.eligible(program).filter(pk=account.pk).exists()
    return {
        "account": account,
        "program": program,
        "eligible": eligible,
        "sponsorship": current,
        "can_assign": can_assign,
        "can_overrule": rules.can_overrule_capacity(user),
        "can_ask": current is not None and rules.can_ask_for_help(user, account),
        "candidates": selectors.candidates(account, program)
        if program is not None and can_assign and (eligible or current)
        else [],
        "checkins": list(
            CheckIn.objects.filter(account=account)
            .select_related("cta__owner", "logged_by")
            .order_by("-slot_start")[:4]
        ),
        "edm": selectors.edm_contact(account) if current else None,
    }


def checkin_panel(request: HttpRequest, cta: Cta) -> dict[str, Any]:
    """On a check-in CTA's page: whom to write to, the questions, the log form."""
    checkin = (
        CheckIn.objects.filter(cta=cta).select_related("account", "logged_by", "program").first()
    )
    if checkin is None:
        return {"checkin": None}
    return {
        "checkin": checkin,
        "edm": selectors.edm_contact(checkin.account),
        "questions": selectors.checkin_questions(cta.playbook),
        "can_log": rules.can_log_checkin(request.user, checkin),
        "can_open": rules.can_log_checkin(request.user, checkin)
        or rules.can_ask_for_help(request.user, checkin.account),
        "sentiments": Sentiment.choices,
        "areas": AreaCode.choices,
        "risk_rows": range(RISK_ROWS),
        "overdue": not checkin.is_logged and checkin.due_date < clock.today(),
    }


@require_GET
def program(request: HttpRequest) -> HttpResponse:
    """The program: its period, thresholds and cadences, load per sponsor, coverage."""
    today = clock.today()
    current = Program.current(today)
    upcoming = Program.objects.filter(starts_on__gt=today).order_by("starts_on").first()
    context: dict[str, Any] = {"program": current, "upcoming": upcoming}
    if current is not None:
        loads = sorted(
            selectors.loads(current).values(), key=lambda x: (-x.calls, x.sponsor.username)
        )
        context.update(
            loads=loads,
            over=[x for x in loads if x.over],
            coverage=selectors.coverage(current),
            mine=[x for x in loads if x.sponsor.pk == request.user.pk],
            my_checkins=list(
                CheckIn.objects.filter(cta__owner=request.user, logged_at__isnull=True)
                .select_related("account", "cta")
                .order_by("due_date")
            ),
            today=today,
        )
    return render(request, "sponsors/program.html", context)


def _back(request: HttpRequest, account_id: int, fn: Callable[[], Any], done: str) -> HttpResponse:
    try:
        fn()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect(reverse("accounts:detail", args=[account_id]) + "#sponsor")


@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    if not rules.can_assign_sponsor(request.user, account):
        raise PermissionDenied("Team leads (for their teams), the VP and the CEO assign sponsors.")
    sponsor_id = parse_id(request.POST.get("sponsor"))
    sponsor = User.objects.filter(pk=sponsor_id).first() if sponsor_id else None

    def run() -> Sponsorship:
        if sponsor is None:
            raise ValidationError("Choose a sponsor.")
        return services.sponsorship_assign(
            account=account,
            sponsor=sponsor,
            by=request.user,
            reason=request.POST.get("reason", "")[:300],
            force=request.POST.get("force") == "1",
        )

    return _back(request, account.pk, run, f"{sponsor} now sponsors {account.name}.")


@require_POST
def end(request: HttpRequest, pk: int) -> HttpResponse:
    sponsorship = get_object_or_404(Sponsorship.objects.select_related("account"), pk=pk)
    if not rules.can_assign_sponsor(request.user, sponsorship.account):
        raise PermissionDenied("Team leads (for their teams), the VP and the CEO remove sponsors.")
    return _back(
        request,
        sponsorship.account_id,
        lambda: services.sponsorship_end(
            sponsorship=sponsorship, by=request.user, reason=request.POST.get("reason", "")[:300]
        ),
        "Sponsorship ended.",
    )


@require_POST
def ask_for_help(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    if not rules.can_ask_for_help(request.user, account):
        raise PermissionDenied("The account's CSM, their team lead or the VP ask its sponsor.")
    return _back(
        request,
        account.pk,
        lambda: services.help_request_create(
            account=account, by=request.user, context=request.POST.get("context", "")[:4000]
        ),
        "The sponsor has your request.",
    )


@require_POST
def checkin_log(request: HttpRequest, pk: int) -> HttpResponse:
    checkin = get_object_or_404(CheckIn.objects.select_related("cta", "account"), pk=pk)
    if not rules.can_log_checkin(request.user, checkin):
        raise PermissionDenied("The sponsor logs their check-in.")
    risks = [
        {
            "area": request.POST.get(f"risk_area_{i}", ""),
            "description": request.POST.get(f"risk_{i}", "")[:200],
        }
        for i in range(RISK_ROWS)
    ]
    try:
        services.checkin_log(
            checkin=checkin,
            by=request.user,
            notes=request.POST.get("notes", "")[:8000],
            sentiment=request.POST.get("sentiment", ""),
            risks=risks,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Check-in logged.")
    return redirect(reverse("cockpit:cta", args=[checkin.cta_id]) + "#checkin")


@require_POST
def checkin_open_risk(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    checkin = get_object_or_404(CheckIn.objects.select_related("cta", "account"), pk=pk)
    try:
        cta = services.checkin_open_risk(checkin=checkin, index=index, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(reverse("cockpit:cta", args=[checkin.cta_id]) + "#checkin")
    messages.success(request, f"Risk CTA opened for {cta.owner}.")
    return redirect("cockpit:cta", cta.pk)
