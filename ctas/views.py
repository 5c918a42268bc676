"""The cockpit: a CSM's working list of CTAs, worked in place; and a CTA's own page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.models import Account
from accounts.rules import can_change_account
from csrisk import clock, live, panels
from csrisk.forms import add_service_errors, submission_key
from csrisk.inputs import parse_id, redirect_next
from csrisk.models import User
from csrisk.roles import DEPARTMENT_ROLES, Role
from ctas import rules
from ctas.choices import LIVE_STATUSES, Outcome, Status
from ctas.filtersets import DUE_WINDOWS, CtaFilterSet
from ctas.forms import CtaCreateForm
from ctas.models import Cta, CtaTask
from ctas.services import chatter, creation, cta_tasks, transitions
from scorecards import raci
from scorecards.choices import AreaCode

PAGE_SIZE = 25


def _cockpit_owner(request: HttpRequest) -> User:
    raw = request.GET.get("user") or request.POST.get("cockpit_user")
    if not raw:
        return request.user
    pk = parse_id(raw)
    if pk is None:
        raise Http404("No such person.")
    person = get_object_or_404(User, pk=pk, is_active=True)
    if not rules.can_open_cockpit(request.user, person):
        raise PermissionDenied("You may open your own cockpit, or your team's as their lead.")
    return person


def _live(owner: User) -> QuerySet[Cta]:
    return Cta.objects.filter(owner=owner, status__in=LIVE_STATUSES)


def _counters(owner: User) -> dict[str, int]:
    today = clock.today()
    return _live(owner).aggregate(
        open=Count("pk", filter=~Q(status=Status.SNOOZED)),
        flagged=Count("pk", filter=Q(flagged=True)),
        overdue=Count("pk", filter=Q(due_date__lt=today) & ~Q(status=Status.SNOOZED)),
        snoozed=Count("pk", filter=Q(status=Status.SNOOZED)),
    )


def _rows(qs: QuerySet[Cta]) -> QuerySet[Cta]:
    """Live CTAs in cockpit order (flagged, then overdue, then by due date and priority),
    with their account's name and task progress.

    Those come as subqueries, not joins: with 2,000 live CTAs a join (and a GROUP BY over
    tasks) ran for every one of them before the sort, while PostgreSQL evaluates these
    subqueries after the sort and LIMIT, for the page shown only.
    """
    today = clock.today()
    tasks = CtaTask.objects.filter(cta=OuterRef("pk")).order_by().values("cta")
    return qs.annotate(
        overdue=Case(
            When(due_date__lt=today, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
        priority_rank=Case(
            When(priority="urgent", then=Value(0)),
            When(priority="high", then=Value(1)),
            When(priority="medium", then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        ),
        account_name=Subquery(
            Account.objects.filter(pk=OuterRef("account_id")).order_by().values("name")
        ),
        tasks_total=Coalesce(Subquery(tasks.annotate(n=Count("pk")).values("n")), 0),
        tasks_done=Coalesce(
            Subquery(tasks.filter(done_at__isnull=False).annotate(n=Count("pk")).values("n")), 0
        ),
    ).order_by("-flagged", "-overdue", "due_date", "priority_rank", "pk")


def _url_maker(name: str) -> Callable[[int], str]:
    """``reverse(name, args=[pk])`` for many pks at a fraction of the cost: a list of rows
    spent more time reversing URLs than rendering. For patterns whose one argument is an
    int."""
    marker = 987654321
    head, tail = reverse(name, args=[marker]).split(str(marker))
    return lambda pk: f"{head}{pk}{tail}"


ROW_URLS = {
    "url": "cockpit:cta",
    "flag_url": "cockpit:flag",
    "unflag_url": "cockpit:unflag",
    "form_url": "cockpit:form",
    "work_url": "cockpit:work",
}


def decorate_rows(ctas: Iterable[Cta]) -> list[Cta]:
    """Set the links a CTA row shows on each CTA (rows come from ``_rows``)."""
    rows = list(ctas)
    makers = {attr: _url_maker(name) for attr, name in ROW_URLS.items()}
    account_url = _url_maker("accounts:detail")
    for r in rows:
        for attr, make in makers.items():
            setattr(r, attr, make(r.pk))
        r.account_url = account_url(r.account_id)
    return rows


def _teammates(owner: User) -> QuerySet[User]:
    return User.objects.filter(
        team_id=owner.team_id, is_active=True, role__in=[Role.CSM, Role.TEAM_LEAD]
    ).order_by("first_name")


@require_GET
@vary_on_headers("HX-Request")
def cockpit(request: HttpRequest) -> HttpResponse:
    owner = _cockpit_owner(request)
    params = request.GET.copy()
    show_snoozed = params.get("status") == Status.SNOOZED
    base = _live(owner) if show_snoozed else _live(owner).exclude(status=Status.SNOOZED)
    data = {k: v for k, v in params.items() if k not in ("user", "page", "sort") and v}
    filterset = CtaFilterSet(data, queryset=base)
    qs = filterset.qs if filterset.is_valid() else Cta.objects.none()
    counters = _counters(owner)
    # Columns other apps add to a CTA row (e.g. its account's renewal risk), with the
    # orders they offer; without a sort the cockpit keeps its own order.
    columns = panels.columns("cockpit")
    sorts = panels.column_sorts(columns)
    sort = params.get("sort", "")
    sort = sort if sort in sorts else ""
    rows_qs = _rows(qs)
    for column in columns:
        rows_qs = column.prepare(rows_qs)
    if sort:
        rows_qs = rows_qs.order_by(*sorts[sort])
    paginator = Paginator(rows_qs, PAGE_SIZE)
    if not data:  # the unfiltered list is exactly the open CTAs the counters just counted
        paginator.count = counters["open"]
    page = paginator.get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for row in rows:
        row.owner = owner  # the cockpit lists only the owner's CTAs
    page.object_list = decorate_rows(rows)
    query = params.copy()
    query.pop("page", None)
    context = {
        "owner": owner,
        "page": page,
        "filter": filterset,
        "counters": counters,
        "query": query.urlencode(),
        "areas": AreaCode.choices,
        "due_windows": DUE_WINDOWS,
        "team_people": _people_for(request.user),
        "cta_columns": columns,
        "sort": sort,
        "sort_options": panels.sort_options(columns),
    }
    if request.htmx and request.htmx.target == "cockpit-list":
        return render(request, "ctas/partials/_cockpit_list.html", context)
    return render(request, "ctas/cockpit.html", context)


@require_GET
@vary_on_headers("HX-Request")
def area_queue(request: HttpRequest) -> HttpResponse:
    """A department's queue (RACI): the live CTAs of the areas its team owns, flagged
    first, worked in place with the cockpit's rows and actions."""
    user = request.user
    areas = raci.user_areas(user)
    if not areas and user.role not in DEPARTMENT_ROLES:
        raise Http404("Your team owns no risk area, so it has no area queue (RACI).")
    # A department's person whose team owns no area yet lands here too: an empty queue
    # that says why, not a 404 after logging in.
    live = Cta.objects.filter(area__in=areas, status__in=LIVE_STATUSES).exclude(
        status=Status.SNOOZED
    )
    counts = live.aggregate(open=Count("pk"), flagged=Count("pk", filter=Q(flagged=True)))
    paginator = Paginator(_rows(live.select_related("owner")), PAGE_SIZE)
    paginator.count = counts["open"]
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = decorate_rows(page.object_list)
    labels = dict(AreaCode.choices)
    context = {
        "title": f"{user.team.name if user.team_id else Role(user.role).label} queue",
        "areas": [labels.get(a, a) for a in areas],
        "page": page,
        "counts": counts,
        "query": "",
    }
    if request.htmx and request.htmx.target == "cockpit-list":
        return render(request, "ctas/partials/_cockpit_list.html", context)
    return render(request, "ctas/queue.html", context)


@require_GET
def counters(request: HttpRequest) -> HttpResponse:
    """The cockpit's counters, polled: a 304 while they are the same."""
    owner = _cockpit_owner(request)
    values = _counters(owner)

    def build() -> HttpResponse:
        return render(request, "ctas/partials/_counters.html", {"counters": values, "owner": owner})

    return live.fragment(request, live.etag_of("counters", owner.pk, *values.values()), build)


def _people_for(user: User) -> list[User]:
    """Whose cockpit ``user`` may open (for the switcher)."""
    if not user.is_org_wide and user.role != Role.TEAM_LEAD:
        return [user]  # a CSM opens only their own: no query for the most common visitor
    people = User.objects.filter(is_active=True, role__in=[Role.CSM, Role.TEAM_LEAD])
    if user.is_org_wide:
        return list(people.select_related("team").order_by("team__name", "first_name"))
    return list(people.filter(team__in=user.led_team_ids()).order_by("first_name"))


def _act(request: HttpRequest, pk: int, fn: Callable[[Cta], Any]) -> HttpResponse:
    """Run one action on a CTA; answer htmx with the row and the counters, else redirect."""
    cta = get_object_or_404(Cta.objects.select_related("account", "owner"), pk=pk)
    if not rules.can_work_cta(request.user, cta):
        raise PermissionDenied("You may not work this CTA: it is another team's.")
    error = None
    try:
        fn(cta)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    except PermissionDenied as exc:
        error = str(exc)
    if request.htmx:
        columns = panels.columns("cockpit")
        rows = _rows(Cta.objects.filter(pk=pk).select_related("owner"))
        for column in columns:
            rows = column.prepare(rows)
        row = rows.first()
        context = {
            "cta_columns": columns,
            "cta": decorate_rows([row])[0] if row else None,
            "counters": _counters(cta.owner),
            "owner": cta.owner,
            "error": error,
            "oob": True,
        }
        return render(
            request, "ctas/partials/_cta_action.html", context, status=400 if error else 200
        )
    if error:
        messages.error(request, error)
    return redirect_next(request, "cockpit:index")


def _date(raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except (TypeError, ValueError):
        raise ValidationError("Choose a date (YYYY-MM-DD).") from None


@require_POST
def flag(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda c: transitions.cta_flag(
            cta=c, by=request.user, reason=request.POST.get("reason", "")
        ),
    )


@require_POST
def unflag(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda c: transitions.cta_unflag(cta=c, by=request.user))


@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda c: transitions.cta_close(
            cta=c,
            by=request.user,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", "")[:2000],
        ),
    )


@require_POST
def snooze(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda c: transitions.cta_snooze(
            cta=c, by=request.user, until=_date(request.POST.get("until", ""))
        ),
    )


@require_POST
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    def run(c: Cta) -> Cta:
        pk = parse_id(request.POST.get("owner"))
        person = User.objects.filter(pk=pk).first() if pk else None
        if person is None:
            raise ValidationError("Choose who takes it over.")
        return transitions.cta_reassign(cta=c, by=request.user, owner=person)

    return _act(request, pk, run)


@require_GET
def cta_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cta = get_object_or_404(Cta.objects.select_related("account", "owner", "flagged_by"), pk=pk)
    return render(
        request,
        "ctas/cta_detail.html",
        {
            "cta": cta,
            "tasks": cta.tasks.select_related("owner"),
            "comments": cta.comments.select_related("author"),
            "can_work": rules.can_work_cta(request.user, cta),
            "next": request.path,
            "panels": panels.render("cta_detail", request, cta),
            **_form_context(cta),
        },
    )


def _form_context(cta: Cta) -> dict[str, Any]:
    return {
        "outcomes": Outcome.choices,
        "teammates": list(_teammates(cta.owner)),
        "snooze_default": clock.today() + dt.timedelta(days=7),
    }


@require_GET
def cta_form(request: HttpRequest, pk: int) -> HttpResponse:
    """An action form of a CTA (``?action=`` close, snooze or reassign; all three without
    it), loaded into its cockpit row."""
    cta = get_object_or_404(Cta.objects.select_related("account", "owner"), pk=pk)
    if not rules.can_work_cta(request.user, cta):
        raise PermissionDenied("You may not work this CTA: it is another team's.")
    action = request.GET.get("action", "")
    if action not in ("", "close", "snooze", "reassign"):
        raise Http404("No such action.")
    context = {"cta": cta, "action": action, "in_row": True, **_form_context(cta)}
    return render(request, "ctas/partials/_cta_form.html", context)


@require_GET
def cta_work(request: HttpRequest, pk: int) -> HttpResponse:
    """Tasks and chatter of one CTA, loaded into its cockpit row (in place)."""
    return _work(request, pk)


def _work(request: HttpRequest, pk: int) -> HttpResponse:
    cta = get_object_or_404(Cta.objects.select_related("account", "owner"), pk=pk)
    return render(
        request,
        "ctas/partials/_cta_work.html",
        {
            "cta": cta,
            "tasks": cta.tasks.select_related("owner"),
            "comments": cta.comments.select_related("author"),
            "can_work": rules.can_work_cta(request.user, cta),
            "teammates": list(_teammates(cta.owner)),
        },
    )


@require_POST
def task_add(request: HttpRequest, pk: int) -> HttpResponse:
    cta = get_object_or_404(Cta.objects.select_related("account", "owner"), pk=pk)
    try:
        cta_tasks.task_add(cta=cta, by=request.user, title=request.POST.get("title", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if request.htmx:
        return _work(request, pk)
    return redirect("cockpit:cta", pk=pk)


@require_POST
def task_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(CtaTask.objects.select_related("cta__account", "cta__owner"), pk=pk)
    pk = parse_id(request.POST.get("owner"))
    person = User.objects.filter(pk=pk).first() if pk else None
    if person is None:
        messages.error(request, "Choose who takes the task over.")
    else:
        cta_tasks.task_reassign(task=task, by=request.user, owner=person)
    if request.htmx:
        return render(
            request,
            "ctas/partials/_task.html",
            {"task": task, "can_work": True, "teammates": list(_teammates(task.cta.owner))},
        )
    return redirect("cockpit:cta", pk=task.cta_id)


@require_POST
def comment(request: HttpRequest, pk: int) -> HttpResponse:
    cta = get_object_or_404(Cta.objects.select_related("account"), pk=pk)
    error = None
    try:
        chatter.comment_add(
            cta=cta,
            by=request.user,
            body=request.POST.get("body", ""),
            submission=submission_key(request.POST),
        )
    except ValidationError as exc:
        error = " ".join(exc.messages)
    except PermissionDenied:
        raise
    if request.htmx:
        return render(
            request,
            "ctas/partials/_chatter.html",
            {
                "cta": cta,
                "comments": cta.comments.select_related("author"),
                "error": error,
                "can_work": True,
            },
            status=400 if error else 200,
        )
    if error:
        messages.error(request, error)
    return redirect("cockpit:cta", pk=pk)


@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(CtaTask.objects.select_related("cta__account", "cta__owner"), pk=pk)
    try:
        cta_tasks.task_complete(task=task, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if request.htmx:
        return render(request, "ctas/partials/_task.html", {"task": task, "can_work": True})
    return redirect("cockpit:cta", pk=task.cta_id)  # without JavaScript


@require_GET
def people(request: HttpRequest) -> JsonResponse:
    """@mention autocomplete: people whose username or name starts with ``q``."""
    q = request.GET.get("q", "").strip()[:50]
    found = User.objects.filter(is_active=True).exclude(role=Role.INTEGRATION)
    if q:
        found = found.filter(
            Q(username__istartswith=q) | Q(first_name__istartswith=q) | Q(last_name__istartswith=q)
        )
    return JsonResponse(
        {
            "results": [
                {
                    "username": u.username,
                    "name": u.get_full_name() or u.username,
                    "role": u.get_role_display(),
                }
                for u in found.order_by("username")[:8]
            ]
        }
    )


def account_panel(request: HttpRequest, account: Any) -> dict[str, Any]:
    """The CTA panel on the account page (registered in CtasConfig.ready)."""
    live = _rows(
        Cta.objects.filter(account=account, status__in=LIVE_STATUSES).select_related("owner")
    )
    return {
        "account": account,
        "ctas": decorate_rows(live),
        "can_open": can_change_account(request.user, account),
        "form": CtaCreateForm(),
        "reasons": CtaCreateForm.reasons(),
    }


@require_POST
def cta_open(request: HttpRequest, account_id: int) -> HttpResponse:
    """Open a CTA by hand from the account page."""

    account = get_object_or_404(Account, pk=account_id)
    if not can_change_account(request.user, account):
        raise PermissionDenied("You may open CTAs only on accounts of your book or team.")
    form = CtaCreateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            cta = creation.cta_create(
                account=account,
                by=request.user,
                type=data["type"],
                area=data["area"] or "",
                reason=data["reason"],
                priority=data["priority"],
                due_date=data["due_date"],
                playbook=data["playbook"],
                description=data["description"],
                submission=submission_key(request.POST),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"CTA opened: {cta.reason}.")
            return redirect("accounts:detail", pk=account.pk)
    messages.error(
        request,
        "The CTA was not opened: "
        + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()),
    )
    return redirect("accounts:detail", pk=account.pk)
