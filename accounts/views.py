"""Pages of the book: the account list, an account, and CSV imports."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts import coverage, selectors, services
from accounts.choices import ImportStatus
from accounts.filtersets import AccountFilterSet
from accounts.forms import AccountForm, ImportForm
from accounts.importing.reading import ImportFileError
from accounts.models import Account, ImportJob
from accounts.rules import can_change_account, can_import_accounts
from csrisk import clock, panels
from csrisk.csvfiles import check_size
from csrisk.exports import csv_writer
from csrisk.forms import add_service_errors
from csrisk.inputs import BadInput, parse_int

SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "arr": ("arr", "pk"),
    "-arr": ("-arr", "pk"),
    "renewal": ("renewal_date", "pk"),
    "-renewal": ("-renewal_date", "pk"),
}
PAGE_SIZES = (25, 50, 100)


@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def account_list(request: HttpRequest) -> HttpResponse:
    params = request.GET.copy()
    params.setdefault("status", "active")  # the working list leaves churned customers out
    columns = panels.columns("account_list")
    queryset = selectors.account_list(user=request.user)
    sorts = dict(SORTS)
    for column in columns:
        queryset = column.prepare(queryset)
        sorts.update(column.sorts or {})
    filterset = AccountFilterSet(params, queryset=queryset)
    sort = request.GET.get("sort", "name")
    if sort not in sorts:
        sort = "name"
    per_page = parse_int(request.GET.get("per_page"), default=50, allowed=PAGE_SIZES)
    queryset = filterset.qs if filterset.is_valid() else Account.objects.none()
    page = Paginator(queryset.order_by(*sorts[sort]), per_page).get_page(request.GET.get("page"))
    for column in columns:
        column.decorate(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "page": page,
        "sort": sort,
        "per_page": per_page,
        "page_sizes": PAGE_SIZES,
        "query": query.urlencode(),
        "query_no_sort": _without(query, "sort"),
        "can_import": can_import_accounts(request.user),
        "columns": columns,
        "teams": selectors.cs_teams(),
        "owners": selectors.owner_choices(),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "accounts/partials/_account_table.html", context)
    return render(request, "accounts/account_list.html", context)


def _without(query: object, key: str) -> str:
    copy = query.copy()  # type: ignore[attr-defined]
    copy.pop(key, None)
    return copy.urlencode()


@require_http_methods(["GET"])
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        account = selectors.account_detail(pk=pk)
    except Account.DoesNotExist:
        raise Http404("No such account.") from None
    return render(
        request,
        "accounts/account_detail.html",
        {
            "account": account,
            "can_change": can_change_account(request.user, account),
            "panels": panels.render("account_detail", request, account),
            "coverage": coverage.account_coverage(account, now=clock.now()),
        },
    )


@require_http_methods(["GET"])
def fact_detail(request: HttpRequest, pk: int, kind: str, fact_id: int) -> HttpResponse:
    """A fact a scorecard reason links to ("based on ticket #80"): what it says."""
    try:
        fact = selectors.account_fact(account_id=pk, kind=kind, fact_id=fact_id)
    except ObjectDoesNotExist:
        raise Http404("No such fact on this account.") from None
    return render(
        request,
        "accounts/fact_detail.html",
        {
            "account": fact.account,
            "fact": fact,
            "kind": kind.replace("_", " "),
            "rows": selectors.fact_rows(fact),
        },
    )


@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account.objects.select_related("owner", "team"), pk=pk)
    if not can_change_account(request.user, account):
        raise PermissionDenied("You may not change this account.")
    form = AccountForm(request.POST or None, instance=account, editor=request.user)
    if request.method == "POST" and form.is_valid():
        original = Account.objects.get(pk=pk)
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.account_update(account=original, by=request.user, **changed)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Account saved.")
            return redirect("accounts:detail", pk=pk)
    return render(
        request,
        "accounts/account_edit.html",
        {"account": account, "form": form},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    if not can_import_accounts(request.user):
        raise PermissionDenied("Imports are for team leads, the VP and the CEO.")
    form = ImportForm(request.POST or None, request.FILES or None)
    file_error = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                check_size(upload.size)  # before reading it into memory
                job = services.import_job_create(
                    by=request.user,
                    filename=upload.name,
                    content=upload.read(),
                    kind=form.cleaned_data["kind"] or None,
                    mapping=form.cleaned_data["mapping"],
                    encoding=form.cleaned_data["encoding"],
                )
            except ImportFileError as exc:
                file_error = str(exc)
            else:
                return redirect("accounts:import-detail", pk=job.pk)
        status = 400
    recent = ImportJob.objects.filter(created_by=request.user).defer("content")[:10]
    return render(
        request,
        "accounts/import_upload.html",
        {
            "form": form,
            "file_error": file_error,
            "recent": recent,
            "limit_mb": settings.CSRISK_IMPORT_MAX_BYTES // 1_048_576,
        },
        status=status,
    )


def _own_job(request: HttpRequest, pk: int) -> ImportJob:
    job = get_object_or_404(ImportJob.objects.defer("content"), pk=pk)
    if job.created_by_id != request.user.pk and not request.user.is_org_wide:
        raise Http404("No such import.")
    return job


@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _import_status(request, _own_job(request, pk))


def _import_status(request: HttpRequest, job: ImportJob) -> HttpResponse:
    context = {
        "job": job,
        "progress": services.import_job_progress(job),
        "running": job.status in (ImportStatus.CHECKING, ImportStatus.QUEUED, ImportStatus.RUNNING),
        "errors": job.errors[:500],
    }
    # Only the status poll (and the commit button) swap the fragment; any other htmx
    # request, such as the redirect after an upload, gets the whole page.
    if request.htmx and request.htmx.target == "import-status":
        return render(request, "accounts/partials/_import_status.html", context)
    return render(request, "accounts/import_detail.html", context)


@require_POST
def import_commit(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_job(request, pk)
    try:
        job = services.import_job_commit(job=job, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if request.htmx:
        return _import_status(request, job)
    return redirect("accounts:import-detail", pk=job.pk)


@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def coverage_page(request: HttpRequest) -> HttpResponse:
    """Data coverage of the viewer's book: per source, the accounts without its data."""
    scope = coverage.coverage_scope_q(request.user)
    if scope is None:
        raise PermissionDenied(
            "Data coverage is for CSMs (their book), team leads, the VP, the CEO and admins."
        )
    sources = _coverage_sources(request)
    gaps = coverage.book_coverage(Account.objects.filter(scope), now=clock.now(), sources=sources)
    context = {
        "gaps": gaps,
        "sources": coverage.SOURCES,
        "source": request.GET.get("source", ""),
        "total": gaps[0].total if gaps else 0,
        "shown": COVERAGE_SHOWN,
        "minus_shown": -COVERAGE_SHOWN,
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "accounts/partials/_coverage_table.html", context)
    return render(request, "accounts/coverage.html", context)


# Accounts listed per source on the page (most ARR first); the CSV has them all.
COVERAGE_SHOWN = 25


@require_http_methods(["GET"])
def coverage_csv(request: HttpRequest) -> HttpResponse:
    """Every gap of the viewer's book, one row per account and missing source."""
    scope = coverage.coverage_scope_q(request.user)
    if scope is None:
        raise PermissionDenied(
            "Data coverage is for CSMs (their book), team leads, the VP, the CEO and admins."
        )
    gaps = coverage.book_coverage(
        Account.objects.filter(scope), now=clock.now(), sources=_coverage_sources(request)
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="coverage-{clock.today():%Y-%m-%d}.csv"'
    )
    writer = csv_writer(response)
    writer.writerow(
        ["source", "account_id", "account", "crm_id", "owner", "arr", "renewal_date", "missing",
         "fix"]
    )  # fmt: skip
    for gap in gaps:
        for a in gap.accounts:
            writer.writerow(
                [
                    gap.source.code,
                    a.pk,
                    a.name,
                    a.crm_id,
                    a.owner.username if a.owner else "",
                    a.arr,
                    a.renewal_date or "",
                    gap.source.missing,
                    gap.source.fix,
                ]
            )
    return response


def _coverage_sources(request: HttpRequest) -> tuple[coverage.Source, ...]:
    """The sources asked for (``?source=``; all by default); an unknown one is a 400."""
    code = request.GET.get("source", "")
    if not code:
        return coverage.SOURCES
    if code not in coverage.BY_CODE:
        raise BadInput(f"Unknown source {code!r}: one of {', '.join(coverage.BY_CODE)}.")
    return (coverage.BY_CODE[code],)
