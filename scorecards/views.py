"""Scorecard pages: the account panel, the team lead's 1:1 review, the Monday leadership
review, and setting or clearing an override."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.choices import LifecycleStage
from accounts.models import Account
from accounts.rules import can_change_account
from csrisk import clock, panels
from csrisk.forms import add_service_errors
from csrisk.inputs import parse_id
from csrisk.models import User
from csrisk.roles import Role
from scorecards import rules, selectors
from scorecards.choices import AreaCode, Color
from scorecards.forms import OverrideForm
from scorecards.measures import COLOR_RANK
from scorecards.models import AreaScore, Override, ScorecardSettings
from scorecards.services import overrides

REVIEW_SORTS = {
    "arr": lambda r: (-r.account.arr, r.account.name),
    "renewal": lambda r: (r.account.renewal_date or dt.date.max, r.account.name),
    # worst colour first, then the lowest weighted score: a red with many weak areas leads
    "risk": lambda r: (
        -COLOR_RANK[r.overall.color] if r.overall else 1,
        r.overall.weighted_score if r.overall else 101,
        r.account.name,
    ),
    "name": lambda r: (r.account.name.lower(), r.account.pk),
}
COLOR_FILTERS = ("red", "yellow", "green")


def panel_context(request: HttpRequest, account: Account) -> dict[str, Any]:
    """The scorecard panel on the account page (registered in ScorecardsConfig.ready)."""
    return {
        "account": account,
        "card": selectors.account_scorecard(account, now=clock.now()),
        "can_override": can_change_account(request.user, account),
        "form": OverrideForm(),
        "areas": AreaCode.choices,
    }


def _panel(
    request: HttpRequest, account: Account, form: OverrideForm | None = None, status: int = 200
) -> HttpResponse:
    context = panel_context(request, account)
    if form is not None:
        context["form"] = form
    return render(request, "scorecards/partials/_account_panel.html", context, status=status)


@require_POST
def override_set(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    if not can_change_account(request.user, account):
        raise PermissionDenied("You may not override this account's scorecard.")
    form = OverrideForm(request.POST)
    if form.is_valid():
        try:
            overrides.override_set(account=account, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
    if request.htmx:
        return _panel(
            request, account, form if form.errors else None, status=400 if form.errors else 200
        )
    if form.errors:
        messages.error(
            request,
            "The override was not saved: "
            + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()),
        )
    else:
        messages.success(request, "Override saved.")
    return redirect("accounts:detail", pk=pk)


@require_POST
def override_clear(request: HttpRequest, pk: int) -> HttpResponse:
    override = get_object_or_404(Override.objects.select_related("account"), pk=pk)
    if not can_change_account(request.user, override.account):
        raise PermissionDenied("You may not change this account's scorecard.")
    try:
        overrides.override_clear(
            override=override, by=request.user, reason=request.POST.get("reason", "")[:500]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if request.htmx:
        return _panel(request, override.account)
    return redirect("accounts:detail", pk=override.account_id)


@require_GET
def area_reasons(request: HttpRequest, pk: int, area: str) -> HttpResponse:
    """Why an area has its colour: the fragment a click on a chip opens."""
    if area not in AreaCode.values:
        raise Http404("No such area.")
    score = AreaScore.objects.filter(account_id=pk, area=area).select_related("account").first()
    if score is None:
        raise Http404("No scorecard for this account yet.")
    return render(
        request,
        "scorecards/partials/_reasons.html",
        {"score": score, "account": score.account, "area": AreaCode(area).label},
    )


# The session key of the CSM a person last opened in the 1:1 review.
REVIEW_LAST = "review_csm"


def _first_to_review(request: HttpRequest, people: list[User]) -> User | None:
    """Whom the review opens on: the CSM picked last time, else the first CSM of a team the
    viewer leads, else the first CSM (the VP and the CEO see every team)."""
    last = request.session.get(REVIEW_LAST)
    picked = next((p for p in people if p.pk == last), None)
    if picked is not None:
        return picked
    own = set(request.user.led_team_ids())
    csms = [p for p in people if p.role == Role.CSM]
    return next((p for p in csms if p.team_id in own), csms[0] if csms else None) or (
        people[0] if people else None
    )


@require_GET
@vary_on_headers("HX-Request")
def review(request: HttpRequest) -> HttpResponse:
    """The team lead's 1:1 review: every account of one CSM, greens included."""
    people = rules.review_csms(request.user).select_related("team")
    if not people.exists():
        raise PermissionDenied("The 1:1 review is for team leads, the VP and the CEO.")
    teams = rules.review_teams(request.user)
    team_id = parse_id(request.GET.get("team"))
    if team_id is not None:
        people = people.filter(team_id=team_id)
    people = list(people.order_by("team__name", "first_name", "username"))
    csm_id = request.GET.get("csm") or ""
    chosen = next((p for p in people if str(p.pk) == csm_id), None)
    if chosen is None and csm_id:
        raise Http404("You cannot review this person's book.")
    if chosen is None:
        chosen = _first_to_review(request, people)
    elif request.session.get(REVIEW_LAST) != chosen.pk:
        request.session[REVIEW_LAST] = chosen.pk  # the next visit opens on them again
    columns = panels.columns("scorecard_review")
    # Sorts other apps add (e.g. expected ARR loss) order the query; ours sort the rows.
    column_sorts = panels.column_sorts(columns)
    sort = request.GET.get("sort", "risk")
    sort = sort if sort in REVIEW_SORTS or sort in column_sorts else "risk"
    color = request.GET.get("color", "")
    accounts = Account.objects.none()
    if chosen is not None:
        accounts = Account.objects.filter(owner=chosen).exclude(
            lifecycle_stage=LifecycleStage.CHURNED
        )
        if color in COLOR_FILTERS:
            accounts = accounts.filter(scorecard__color=color)
    for column in columns:
        accounts = column.prepare(accounts)
    if sort in REVIEW_SORTS:
        rows = sorted(selectors.review_rows(accounts, now=clock.now()), key=REVIEW_SORTS[sort])
    else:
        rows = selectors.review_rows(accounts.order_by(*column_sorts[sort]), now=clock.now())
    context = {
        "people": people,
        "teams": teams,
        "team_id": "" if team_id is None else str(team_id),
        "chosen": chosen,
        "rows": rows,
        "sort": sort,
        "color": color,
        "areas": AreaCode.choices,
        "counts": {
            c: sum(1 for r in rows if r.overall and r.overall.color == c) for c in Color.values
        },
        "total_arr": sum(r.account.arr for r in rows),
        "columns": columns,
        "sort_options": panels.sort_options(columns),
        # Other apps' panels beside the review (the CSM's flagged CTAs and escalations).
        "panels": panels.render("scorecard_review", request, chosen),
    }
    if request.htmx and request.htmx.target == "review-table":
        return render(request, "scorecards/partials/_review_table.html", context)
    return render(request, "scorecards/review.html", context)


@require_GET
def leadership(request: HttpRequest) -> HttpResponse:
    """The Monday leadership review: red scorecards above the ARR threshold."""
    if not rules.can_see_leadership_review(request.user):
        raise PermissionDenied("The leadership review is for leads, executives, the VP and CEO.")
    threshold = ScorecardSettings.get().leadership_arr_threshold
    cards = list(selectors.leadership_review(threshold))
    return render(
        request,
        "scorecards/leadership.html",
        {
            "cards": cards,
            "threshold": threshold,
            "arr_at_risk": sum(c.account.arr for c in cards),
            "today": clock.today(),
        },
    )
