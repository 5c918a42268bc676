from django.contrib import admin
from django.http import HttpRequest

from escalation.models import (
    AccountSuggestion,
    AgendaReview,
    Escalation,
    EscalationLevel,
    EscalationSettings,
    EscalationStep,
    Meeting,
    Suggestion,
)


@admin.register(EscalationLevel)
class EscalationLevelAdmin(admin.ModelAdmin):
    list_display = ["level", "role", "ack_business_days", "escalate_after_business_days"]
    filter_horizontal = ["people"]


@admin.register(EscalationSettings)
class EscalationSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "renewal_window_days", "people_change_days"]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return not EscalationSettings.objects.exists()


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "weekday", "team", "areas", "red_scorecards", "active"]
    list_filter = ["kind", "active"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["attendees"]


class StepInline(admin.TabularInline):
    model = EscalationStep
    extra = 0
    readonly_fields = ["at", "by", "action", "from_level", "to_level", "reason"]
    can_delete = False


class SuggestionInline(admin.TabularInline):
    model = Suggestion
    extra = 0
    readonly_fields = [
        "rule",
        "level",
        "reason",
        "status",
        "created_at",
        "decided_by",
        "decided_at",
    ]
    can_delete = False


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    """Read-mostly: escalations change through the app so every step is on the timeline."""

    list_display = ["cta", "account", "level", "status", "opened_at", "deadline_at"]
    list_filter = ["status", "level"]
    search_fields = ["account__name", "cta__reason"]
    raw_id_fields = ["cta", "account", "opened_by", "acknowledged_by", "resolved_by"]
    readonly_fields = ["level", "status", "opened_at", "level_since", "routes"]
    inlines = [SuggestionInline, StepInline]


@admin.register(AgendaReview)
class AgendaReviewAdmin(admin.ModelAdmin):
    list_display = ["meeting", "date", "item_key", "reviewed_by", "reviewed_at"]
    list_filter = ["meeting"]
    raw_id_fields = ["account", "cta", "reviewed_by"]


@admin.register(EscalationStep)
class EscalationStepAdmin(admin.ModelAdmin):
    """The timeline is written by the app only."""

    list_display = ["at", "escalation", "action", "from_level", "to_level", "by"]
    list_filter = ["action"]
    raw_id_fields = ["escalation", "by"]

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ["escalation", "rule", "level", "status", "decided_by", "decided_at"]
    list_filter = ["rule", "status"]
    raw_id_fields = ["escalation", "decided_by"]


@admin.register(AccountSuggestion)
class AccountSuggestionAdmin(admin.ModelAdmin):
    """The VP's lane, read-only: decisions are made on /escalations/ (who is recorded)."""

    list_display = ["account", "rule", "status", "decided_by", "decided_at", "updated_at"]
    list_filter = ["status", "rule"]
    search_fields = ["account__name", "reason"]
    readonly_fields = [f.name for f in AccountSuggestion._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
