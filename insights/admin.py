from django.contrib import admin

from insights.models import BacktestRun, RiskModel, RiskPrediction


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
