"""Pages of the insights app: the executive summary with its CSV and one-click actions,
the signal backtest, and the leading signals per segment."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.models import Account
from csrisk import clock
from csrisk.exports import csv_writer
from csrisk.inputs import parse_int, require_id
from insights import aggregates, backtest, backtest_runs, charts, services
from insights.predictions import PRIOR_NOTE
from insights.summary import SIGNAL_LABELS, Action, BlindSpot, executive_summary


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
        "insights/segments.html",
        {
            "trends": trends,
            "complaints": aggregates.recurring_complaints(now=now),
            "window": aggregates.WINDOW_DAYS,
        },
    )


# --- executive summary and backtest (mounted at /summary/) ----------------------------------

RISK_HEADERS = ("churn_probability", "expected_loss", "risk_source")
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
        "prior_note": PRIOR_NOTE,
        # Opening CTAs follows cta_create's rule; executives read, the VP and CEO act.
        "can_act": request.user.is_org_wide,
    }
    return render(request, "insights/summary.html", context)


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
        writer.writerow(["account", "arr", "renewal_date", "signal", "what", "date", *RISK_HEADERS])
        for b in data.blind_spots:
            writer.writerow(
                [
                    *(b.account, b.arr, b.renewal_date or "", b.signal, b.sentence, b.on),
                    *_risk_cells(b),
                ]
            )
    elif table == "actions":
        writer.writerow(
            [
                *("rank", "account", "arr", "renewal_date", "signal", "what", "priority"),
                *("response", *RISK_HEADERS),
            ]
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
                    *_risk_cells(a),
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
            [
                *(table, "total_arr", "red_arr", "yellow_arr", "at_risk_arr", "change_30d"),
                *("change_90d", "expected_loss"),
            ]
        )
        for b in buckets:
            writer.writerow(
                [
                    *(b.label, b.total, b.red, b.yellow, b.at_risk, b.change_30, b.change_90),
                    "" if b.expected_loss is None else b.expected_loss,
                ]
            )
    return response


def _risk_cells(row: BlindSpot | Action) -> list[object]:
    """A row's renewal-risk columns: probability, expected loss and where it came from."""
    if row.probability is None:
        return ["", "", ""]
    return [f"{row.probability:.4f}", row.expected_loss, "prior" if row.prior else "learned"]


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
        return render(request, "insights/partials/_action_done.html", {"cta": cta, "text": text})
    messages.success(request, text)
    return redirect("summary:index")


def _backtest_context(state: backtest_runs.BacktestState, horizon: int) -> dict[str, Any]:
    results = state.results(horizon)
    probabilities = [r for r in results if r.kind == backtest.PROBABILITY]
    return {
        "state": state,
        "latest": state.latest,
        "active": state.active,
        "results": results,
        "horizon": horizon,
        "horizons": backtest.HORIZONS,
        "reading": backtest.reading(results) if state.latest else [],
        "chart": charts.auc_bars([(r.label, r.auc) for r in results]),
        "min_flagged": backtest.min_flagged(),
        "flag_at": backtest.probability_flag_at(),
        "has_probabilities": bool(probabilities),
    }


@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def backtest_page(request: HttpRequest) -> HttpResponse:
    """The last run's results at once; a run is queued (never computed here) when there is
    none fresh, and the page polls its progress."""
    _leadership_only(request)
    horizon = parse_int(request.GET.get("horizon"), default=90, allowed=backtest.HORIZONS)
    state = backtest_runs.backtest_run_if_stale(by=request.user)
    context = _backtest_context(state, horizon)
    if request.htmx and request.htmx.target == "backtest-body":
        return render(request, "insights/partials/_backtest_body.html", context)
    return render(request, "insights/backtest.html", context)


@require_POST
def backtest_run(request: HttpRequest) -> HttpResponse:
    """Run again: queue a run (or join the one under way), recording who asked."""
    _leadership_only(request)
    horizon = parse_int(request.POST.get("horizon"), default=90, allowed=backtest.HORIZONS)
    backtest_runs.backtest_run_request(by=request.user)
    if request.htmx:
        context = _backtest_context(backtest_runs.backtest_state(), horizon)
        return render(request, "insights/partials/_backtest_body.html", context)
    return redirect(f"{reverse('summary:backtest')}?horizon={horizon}")
