from django.contrib import admin

from scorecards.models import (
    Area,
    AreaScore,
    ColorChange,
    CtaPressure,
    MeasureConfig,
    Override,
    PendingRecompute,
    RecomputeChunk,
    RecomputeRun,
    Scorecard,
    ScorecardSettings,
)


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "owning_function", "owning_team", "weight", "position")
    list_editable = ("owning_function", "owning_team", "weight", "position")
    readonly_fields = ("code",)

    def has_add_permission(self, request: object) -> bool:
        # The eight areas are the product's vocabulary; their ownership is what is configured.
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(MeasureConfig)
class MeasureConfigAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "area",
        "label",
        "yellow_at",
        "red_at",
        "higher_is_worse",
        "window_days",
        "enabled",
    )
    list_editable = ("yellow_at", "red_at", "window_days", "enabled")
    list_filter = ("area", "enabled")
    readonly_fields = ("code", "area")

    def has_add_permission(self, request: object) -> bool:
        return False  # measures are code; their thresholds are configuration


@admin.register(ScorecardSettings)
class ScorecardSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "leadership_arr_threshold", "override_max_days")

    def has_add_permission(self, request: object) -> bool:
        return not ScorecardSettings.objects.exists()


class ReadOnlyAdmin(admin.ModelAdmin):
    """Computed state and history: look, never edit (change it through the services)."""

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(AreaScore)
class AreaScoreAdmin(ReadOnlyAdmin):
    list_display = ("account", "area", "color", "no_data", "score", "computed_color", "changed_at")
    list_filter = ("area", "color", "no_data")
    list_select_related = ("account",)
    search_fields = ("account__name",)


@admin.register(Scorecard)
class ScorecardAdmin(ReadOnlyAdmin):
    list_display = ("account", "color", "score", "weighted_score", "worst_area", "changed_at")
    list_filter = ("color", "worst_area")
    list_select_related = ("account",)
    search_fields = ("account__name",)


@admin.register(ColorChange)
class ColorChangeAdmin(ReadOnlyAdmin):
    list_display = ("account", "area", "from_color", "to_color", "at", "cause")
    list_filter = ("area", "to_color", "cause")
    list_select_related = ("account",)
    date_hierarchy = "at"


@admin.register(Override)
class OverrideAdmin(ReadOnlyAdmin):
    list_display = (
        "account",
        "area",
        "color",
        "set_by",
        "set_at",
        "expires_at",
        "ended_at",
        "end_reason",
    )
    list_filter = ("area", "color", "end_reason")
    list_select_related = ("account", "set_by")


@admin.register(CtaPressure)
class CtaPressureAdmin(ReadOnlyAdmin):
    list_display = ("account", "area", "color", "updated_at")
    list_select_related = ("account",)


@admin.register(PendingRecompute)
class PendingRecomputeAdmin(ReadOnlyAdmin):
    list_display = ("account", "requested_at")


@admin.register(RecomputeRun)
class RecomputeRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "created_at", "cause", "accounts", "chunk_size", "finished_at")


@admin.register(RecomputeChunk)
class RecomputeChunkAdmin(ReadOnlyAdmin):
    list_display = (
        "run",
        "first_account_id",
        "last_account_id",
        "accounts",
        "attempts",
        "claimed_until",
        "done_at",
    )
    list_filter = ("done_at",)
    list_select_related = ("run",)
