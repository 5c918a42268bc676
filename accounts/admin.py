from django.contrib import admin

from accounts.models import (
    Account,
    CompetitorEvent,
    Contact,
    ContactTitleChange,
    ImportJob,
    Milestone,
    PeopleChange,
    PriorRelationship,
    ReadinessAssessment,
    RenewalOutcome,
    SentimentResponse,
    Ticket,
    UsageSnapshot,
)


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("name", "email", "title", "roles", "at_company", "left_on")


class PriorRelationshipInline(admin.TabularInline):
    model = PriorRelationship
    extra = 0
    autocomplete_fields = ("person",)


class RenewalOutcomeInline(admin.TabularInline):
    model = RenewalOutcome
    extra = 0


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "arr", "currency", "segment", "tier", "renewal_date", "owner", "team")
    list_filter = ("segment", "tier", "lifecycle_stage", "team")
    list_select_related = ("owner", "team")
    search_fields = ("name", "crm_id", "helpdesk_org_id")
    autocomplete_fields = ("owner",)
    date_hierarchy = "renewal_date"
    inlines = [ContactInline, PriorRelationshipInline, RenewalOutcomeInline]


class ContactTitleChangeInline(admin.TabularInline):
    model = ContactTitleChange
    extra = 0


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "title", "account", "at_company")
    list_filter = ("at_company",)
    list_select_related = ("account",)
    search_fields = ("name", "email", "account__name")
    autocomplete_fields = ("account",)
    inlines = [ContactTitleChangeInline]


@admin.register(PriorRelationship)
class PriorRelationshipAdmin(admin.ModelAdmin):
    list_display = ("account", "person", "kind")
    list_filter = ("kind",)
    list_select_related = ("account", "person")
    autocomplete_fields = ("account", "person")


@admin.register(RenewalOutcome)
class RenewalOutcomeAdmin(admin.ModelAdmin):
    list_display = ("account", "renewal_date", "outcome", "arr_before", "arr_after")
    list_filter = ("outcome",)
    list_select_related = ("account",)
    autocomplete_fields = ("account",)


@admin.register(ContactTitleChange)
class ContactTitleChangeAdmin(admin.ModelAdmin):
    list_display = ("contact", "old_title", "new_title", "changed_on", "source")
    list_select_related = ("contact",)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("filename", "kind", "status", "total_rows", "created_by", "created_at")
    list_filter = ("kind", "status")
    readonly_fields = ("errors", "message", "processed_rows", "created_count", "updated_count")


class FactAdmin(admin.ModelAdmin):
    """Facts usually arrive through signals; editing one here is for corrections."""

    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    search_fields = ("account__name",)


@admin.register(Ticket)
class TicketAdmin(FactAdmin):
    list_display = (
        "account",
        "kind",
        "priority",
        "status",
        "opened_at",
        "solved_at",
        "source",
        "external_id",
    )
    list_filter = ("kind", "priority", "status", "source")
    date_hierarchy = "opened_at"


@admin.register(UsageSnapshot)
class UsageSnapshotAdmin(FactAdmin):
    list_display = ("account", "week", "active_users", "licensed_users", "adoption")
    date_hierarchy = "week"


@admin.register(SentimentResponse)
class SentimentResponseAdmin(FactAdmin):
    list_display = ("account", "responded_at", "nps", "csat", "source")
    list_filter = ("source",)


@admin.register(PeopleChange)
class PeopleChangeAdmin(FactAdmin):
    list_display = ("account", "change", "contact", "old_title", "new_title", "occurred_at")
    list_filter = ("change",)
    autocomplete_fields = ("account", "contact")


@admin.register(CompetitorEvent)
class CompetitorEventAdmin(FactAdmin):
    list_display = ("account", "competitor", "activity", "occurred_at")
    list_filter = ("activity", "competitor")


@admin.register(Milestone)
class MilestoneAdmin(FactAdmin):
    list_display = ("account", "name", "due_on", "completed_on")


@admin.register(ReadinessAssessment)
class ReadinessAssessmentAdmin(FactAdmin):
    list_display = ("account", "assessed_on", "data", "skills", "staffing")
