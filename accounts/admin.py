from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from accounts.choices import PeopleChangeKind
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
from accounts.services import PeopleChangeIn, people_changes_record
from csrisk import clock


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
    search_fields = ("name", "crm_id", "helpdesk_org_id", "hubspot_company_id")
    autocomplete_fields = ("owner",)
    date_hierarchy = "renewal_date"
    inlines = [ContactInline, PriorRelationshipInline, RenewalOutcomeInline]


class ContactTitleChangeInline(admin.TabularInline):
    """A contact's title history, derived from its people changes: read only."""

    model = ContactTitleChange
    extra = 0
    can_delete = False
    readonly_fields = ("old_title", "new_title", "changed_on", "source")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "title", "account", "at_company")
    list_filter = ("at_company",)
    list_select_related = ("account",)
    search_fields = ("name", "email", "account__name")
    autocomplete_fields = ("account",)
    inlines = [ContactTitleChangeInline]

    def save_model(self, request: HttpRequest, obj: Contact, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "title" in form.changed_data:
            # A title typed here is a people change like any other (the company measures).
            people_changes_record(
                [
                    PeopleChangeIn(
                        account_id=obj.account_id,
                        change=PeopleChangeKind.TITLE_CHANGED,
                        occurred_at=clock.now(),
                        contact=obj,
                        old_title=form.initial.get("title") or "",
                        new_title=obj.title,
                        source="admin",
                    )
                ]
            )


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
    """Derived from the people changes (``accounts.services.people_changes_record``)."""

    list_display = ("contact", "old_title", "new_title", "changed_on", "source")
    list_select_related = ("contact",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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

    def save_model(
        self, request: HttpRequest, obj: PeopleChange, form: ModelForm, change: bool
    ) -> None:
        if change:  # a correction of the record itself
            super().save_model(request, obj, form, change)
            return
        # A new change goes the one way every people change goes: contact and title history.
        (recorded,) = people_changes_record(
            [
                PeopleChangeIn(
                    account_id=obj.account_id,
                    change=obj.change,
                    occurred_at=obj.occurred_at,
                    contact=obj.contact,
                    roles=obj.roles or None,
                    old_title=obj.old_title,
                    new_title=obj.new_title,
                    from_company=obj.from_company,
                    source=obj.source,
                    external_id=obj.external_id,
                )
            ]
        )
        if recorded.record is not None:
            obj.pk = recorded.record.pk
        else:  # a title change to the title on record: kept as typed, a correction
            super().save_model(request, obj, form, change)


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
