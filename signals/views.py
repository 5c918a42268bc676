"""Pages of the signals app: the recent-signals feed, ingestion health, unmatched
organisations with the match action, CSV upload, and the account timeline panel."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.importing import ImportFileError, check_size
from accounts.models import Account
from accounts.rules import can_import_accounts
from accounts.selectors import recent_facts
from signals import selectors, services
from signals.filtersets import SignalFilterSet
from signals.models import SignalImport


def timeline_panel_context(request: HttpRequest, account: Account) -> dict[str, Any]:
    signals = selectors.timeline(account.pk)
    # An account whose facts came from a CSV or the demo seed, not an integration, still
    # shows what is on record (the facts its reasons cite), not "no signals".
    facts = [] if signals else recent_facts(account.pk)
    return {
        "account": account,
        "signals": signals,
        "facts": facts,
        # Backfills are made of signals: none without them (and no query).
        "backfills": selectors.account_backfills(account.pk) if signals else [],
    }


@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def feed(request: HttpRequest) -> HttpResponse:
    filterset = SignalFilterSet(request.GET, queryset=selectors.feed())
    queryset = filterset.qs if filterset.is_valid() else selectors.feed().none()
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {"filter": filterset, "page": page, "query": params.urlencode()}
    if request.htmx:
        return render(request, "signals/partials/_feed_table.html", context)
    return render(request, "signals/feed.html", context)


@require_http_methods(["GET"])
def signal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One signal: its payload, who sent it (provenance) and its earlier versions."""
    signal = get_object_or_404(selectors.signal_detail(), pk=pk)
    return render(
        request, "signals/detail.html", {"signal": signal, "versions": selectors.versions(signal)}
    )


@require_http_methods(["GET"])
def health(request: HttpRequest) -> HttpResponse:
    return render(request, "signals/health.html", {"rows": selectors.health()})


class MatchForm(forms.Form):
    source = forms.CharField(max_length=40, widget=forms.HiddenInput)
    org_ref = forms.CharField(max_length=200, widget=forms.HiddenInput)
    account = forms.CharField(max_length=64, label="Account (CRM id, help-desk id or csrisk id)")

    def clean_account(self) -> Account:
        value = self.cleaned_data["account"].strip()
        account = (
            Account.objects.filter(crm_id=value).first()
            or Account.objects.filter(helpdesk_org_id=value).first()
            or (Account.objects.filter(pk=int(value)).first() if value.isdigit() else None)
        )
        if account is None:
            raise ValidationError("No account has this id.")
        return account


@require_http_methods(["GET"])
def unmatched(request: HttpRequest) -> HttpResponse:
    return render(request, "signals/unmatched.html", {"orgs": selectors.unmatched_orgs()})


@require_POST
def match(request: HttpRequest) -> HttpResponse:
    form = MatchForm(request.POST)
    if form.is_valid():
        try:
            n = services.org_match(
                source=form.cleaned_data["source"],
                org_ref=form.cleaned_data["org_ref"],
                account=form.cleaned_data["account"],
                by=request.user,
            )
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                f"{form.cleaned_data['org_ref']} is now {form.cleaned_data['account']}: "
                f"{n} parked signal{'s' if n != 1 else ''} released.",
            )
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    # A plain form post and redirect: the whole list changes (released organisations go).
    return redirect("signals:unmatched")


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=SignalImport.KINDS, label="What the file holds")
    file = forms.FileField(label="CSV file")
    history = forms.BooleanField(
        required=False,
        label="This file is history (a backfill)",
        help_text=(
            "Colours and history are updated, but nobody is alerted about changes dated "
            "before the import; rule CTAs open only for what is still true now."
        ),
    )


@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    if not can_import_accounts(request.user):
        raise PermissionDenied("Uploads are for team leads, the VP and the CEO.")
    form = UploadForm(request.POST or None, request.FILES or None)
    file_error, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            f = form.cleaned_data["file"]
            try:
                check_size(f.size)
                job = services.signal_import_create(
                    by=request.user,
                    filename=f.name,
                    content=f.read(),
                    kind=form.cleaned_data["kind"],
                    history=form.cleaned_data["history"],
                )
            except ImportFileError as exc:
                file_error = str(exc)
            else:
                return redirect("signals:upload-detail", pk=job.pk)
        status = 400
    recent = SignalImport.objects.filter(created_by=request.user).defer("content")[:10]
    return render(
        request,
        "signals/upload.html",
        {
            "form": form,
            "file_error": file_error,
            "recent": recent,
            "limit_mb": settings.CSRISK_IMPORT_MAX_BYTES // 1_048_576,
        },
        status=status,
    )


def _own_upload(request: HttpRequest, pk: int) -> SignalImport:
    job = get_object_or_404(
        SignalImport.objects.defer("content").select_related("backfill__created_by"), pk=pk
    )
    if job.created_by_id != request.user.pk and not request.user.is_org_wide:
        raise Http404("No such upload.")
    return job


@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def upload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An upload: its preview or result and, for a backfill, its progress (htmx polls the
    progress fragment while its signals are processed)."""
    job = _own_upload(request, pk)
    progress = selectors.backfill_progress(job.backfill) if job.backfill_id else None
    context = {"job": job, "errors": job.errors[:500], "progress": progress}
    if request.htmx:
        return render(request, "signals/partials/_backfill_progress.html", context)
    return render(request, "signals/upload_detail.html", context)


@require_POST
def upload_commit(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_upload(request, pk)
    try:
        services.signal_import_commit(upload=job, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("signals:upload-detail", pk=job.pk)
