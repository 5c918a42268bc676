from django.contrib import admin
from django.http import HttpRequest

from insights.models import (
    BacktestRun,
    MeasuredAccount,
    MeasureFinding,
    RiskModel,
    RiskPrediction,
)


@admin.register(RiskModel)
class RiskModelAdmin(admin.ModelAdmin):
    list_display = ["version", "kind", "trained_at", "n_renewals", "n_churned", "active"]
    list_filter = ["kind", "active"]
    readonly_fields = [f.name for f in RiskModel._meta.fields]


@admin.register(RiskPrediction)
class RiskPredictionAdmin(admin.ModelAdmin):
    list_display = ["account", "probability", "band", "expected_loss", "computed_at", "latest"]
    list_filter = ["band", "latest"]
    list_select_related = ["account"]
    raw_id_fields = ["account", "model"]
    readonly_fields = [f.name for f in RiskPrediction._meta.fields]


@admin.register(BacktestRun)
class BacktestRunAdmin(admin.ModelAdmin):
    # Read-only: runs are written by the job; "Run again" on the page asks for one.
    list_display = ["pk", "status", "progress", "as_of", "requested_by", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["requested_by"]
    exclude = ["results"]  # hundreds of figures; the page and the API show them
    readonly_fields = [f.name for f in BacktestRun._meta.fields if f.name != "results"]


@admin.register(MeasureFinding)
class MeasureFindingAdmin(admin.ModelAdmin):
    # Read-only: each recompute keeps them (insights.findings); the summary reads them.
    list_display = ["account", "measure", "value", "on", "computed_at"]
    list_filter = ["measure"]
    list_select_related = ["account"]
    search_fields = ["account__name"]
    raw_id_fields = ["account"]
    readonly_fields = [f.name for f in MeasureFinding._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(MeasuredAccount)
class MeasuredAccountAdmin(admin.ModelAdmin):
    # Read-only: the accounts a recompute has measured since findings were kept.
    list_display = ["account"]
    list_select_related = ["account"]
    raw_id_fields = ["account"]
    readonly_fields = ["account"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
