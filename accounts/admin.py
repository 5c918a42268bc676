from django.contrib import admin

from accounts.models import (
    Account,
    Contact,
    ContactTitleChange,
    ImportJob,
    PriorRelationship,
    RenewalOutcome,
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
