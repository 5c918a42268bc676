from django.contrib import admin

from sponsors.models import CheckIn, HelpRequest, Program, SponsorProfile, Sponsorship


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "starts_on",
        "ends_on",
        "enterprise_min_arr",
        "strategic_min_arr",
        "enterprise_cadence_months",
        "strategic_cadence_months",
        "capacity_calls_per_week",
    ]


@admin.register(SponsorProfile)
class SponsorProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "active", "segments", "industries", "capacity_calls_per_week"]
    list_filter = ["active"]
    raw_id_fields = ["user"]


@admin.register(Sponsorship)
class SponsorshipAdmin(admin.ModelAdmin):
    """Read-mostly: assignments go through the account page so they are audited."""

    list_display = ["account", "sponsor", "started_on", "ended_on", "assigned_by", "over_capacity"]
    list_filter = ["ended_on", "over_capacity"]
    search_fields = ["account__name", "sponsor__username"]
    raw_id_fields = ["account", "sponsor", "assigned_by"]
    readonly_fields = ["started_on", "ended_on", "assigned_by", "over_capacity"]


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    list_display = ["account", "program", "slot_start", "due_date", "logged_at", "sentiment"]
    list_filter = ["program", "sentiment"]
    raw_id_fields = ["cta", "sponsorship", "account", "logged_by"]


@admin.register(HelpRequest)
class HelpRequestAdmin(admin.ModelAdmin):
    list_display = ["sponsorship", "asked_by", "created_at"]
    raw_id_fields = ["cta", "sponsorship", "asked_by"]
