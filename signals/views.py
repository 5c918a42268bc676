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
from csrisk import clock
from csrisk.exports import csv_writer
from csrisk.inputs import parse_int, require_id
from signals import aggregates, backtest, charts, selectors, services
from signals.filtersets import SignalFilterSet
from signals.models import SignalImport
from signals.summary import SIGNAL_LABELS, executive_summary


def timeline_panel_context(request: HttpRequest, account: Account) -> dict[str, Any]:
    return {"account": account, "signals": selectors.timeline(account.pk)}


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
    job = get_object_or_404(SignalImport.objects.defer("content"), pk=pk)
    if job.created_by_id != request.user.pk and not request.user.is_org_wide:
        raise Http404("No such upload.")
    return job


@require_http_methods(["GET"])
def upload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_upload(request, pk)
    return render(request, "signals/upload_detail.html", {"job": job, "errors": job.errors[:500]})


@require_POST
def upload_commit(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_upload(request, pk)
    try:
        services.signal_import_commit(upload=job, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("signals:upload-detail", pk=job.pk)


@require_http_methods(["GET"])
def segments(request: HttpRequest) -> HttpResponse:
    """Leading signals per segment and week: velocity, adoption, recurring complaints."""
    now = clock.now()
    trends = aggregates.segment_trends(now=now)
    for trend in trends:
        trend.velocity_points = aggregates.sparkline(trend.velocity)
        trend.adoption_points = aggregates.sparkline(trend.adoption)
    return render(
        request,
        "signals/segments.html",
        {
            "trends": trends,
            "complaints": aggregates.recurring_complaints(now=now),
            "window": aggregates.WINDOW_DAYS,
        },
    )


# --- executive summary and backtest (mounted at /summary/) ----------------------------------

CSV_TABLES = ("area", "segment", "team", "quarter", "blind_spots", "actions")


def _leadership_only(request: HttpRequest) -> None:
    if not services.can_see_summary(request.user):
        raise PermissionDenied("The executive summary is for the VP, the CEO and executives.")


@require_http_methods(["GET"])
def summary(request: HttpRequest) -> HttpResponse:
    _leadership_only(request)
    data = executive_summary(clock.now())
    context = {
        "s": data,
        "tables": [
            ("area", "By area", data.by_area),
            ("segment", "By segment", data.by_segment),
            ("team", "By team", data.by_team),
            ("quarter", "By renewal quarter", data.by_quarter),
        ],
        "area_chart": charts.stacked_bars([(b.label, b.red, b.yellow) for b in data.by_area]),
        "trend_chart": charts.line([(f"{p.on:%b %d}", p.at_risk) for p in data.trend]),
        "signal_labels": SIGNAL_LABELS,
        # Opening CTAs follows cta_create's rule; executives read, the VP and CEO act.
        "can_act": request.user.is_org_wide,
    }
    return render(request, "signals/summary.html", context)


@require_http_methods(["GET"])
def summary_csv(request: HttpRequest) -> HttpResponse:
    _leadership_only(request)
    table = request.GET.get("table", "area")
    if table not in CSV_TABLES:
        raise Http404("Unknown table.")
    data = executive_summary(clock.now())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="summary-{table}-{clock.today():%Y-%m-%d}.csv"'
    )
    writer = csv_writer(response)
    if table == "blind_spots":
        writer.writerow(["account", "arr", "renewal_date", "signal", "what", "date"])
        for b in data.blind_spots:
            writer.writerow([b.account, b.arr, b.renewal_date or "", b.signal, b.sentence, b.on])
    elif table == "actions":
        writer.writerow(
            ["rank", "account", "arr", "renewal_date", "signal", "what", "priority", "response"]
        )
        for i, a in enumerate(data.actions, start=1):
            writer.writerow(
                [
                    i,
                    a.account,
                    a.arr,
                    a.renewal_date or "",
                    a.signal,
                    a.sentence,
                    round(a.priority),
                    a.response.label,
                ]
            )
    else:
        buckets = {
            "area": data.by_area,
            "segment": data.by_segment,
            "team": data.by_team,
            "quarter": data.by_quarter,
        }[table]
        writer.writerow(
            [table, "total_arr", "red_arr", "yellow_arr", "at_risk_arr", "change_30d", "change_90d"]
        )
        for b in buckets:
            writer.writerow(
                [b.label, b.total, b.red, b.yellow, b.at_risk, b.change_30, b.change_90]
            )
    return response


@require_POST
def summary_action(request: HttpRequest) -> HttpResponse:
    _leadership_only(request)
    account = get_object_or_404(
        Account, pk=require_id(request.POST.get("account"), field="account")
    )
    signal = request.POST.get("signal", "")
    try:
        cta = services.summary_action_take(
            account=account, signal=signal, by=request.user, note=request.POST.get("note", "")
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("summary:index")
    text = f"{cta.get_type_display()} CTA #{cta.pk} open for {account.name}: {cta.reason}"
    if request.htmx:
        return render(request, "signals/partials/_action_done.html", {"cta": cta, "text": text})
    messages.success(request, text)
    return redirect("summary:index")


@require_http_methods(["GET"])
def backtest_page(request: HttpRequest) -> HttpResponse:
    _leadership_only(request)
    horizon = parse_int(request.GET.get("horizon"), default=90, allowed=backtest.HORIZONS)
    results = backtest.cached_backtest(horizon)
    chart = charts.auc_bars([(r.label, r.auc) for r in results])
    return render(
        request,
        "signals/backtest.html",
        {
            "results": results,
            "horizon": horizon,
            "horizons": backtest.HORIZONS,
            "reading": backtest.reading(results),
            "chart": chart,
        },
    )
