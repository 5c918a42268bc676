from django.contrib import admin

from ctas.models import Comment, Cta, CtaReason, CtaTask, Playbook, PlaybookStep


class PlaybookStepInline(admin.TabularInline):
    model = PlaybookStep
    extra = 1


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    list_display = ("name", "cta_type")
    list_filter = ("cta_type",)
    inlines = [PlaybookStepInline]


@admin.register(PlaybookStep)
class PlaybookStepAdmin(admin.ModelAdmin):
    list_display = ("playbook", "position", "title", "owner_role", "due_offset_days", "min_arr")
    list_select_related = ("playbook",)


@admin.register(CtaReason)
class CtaReasonAdmin(admin.ModelAdmin):
    list_display = ("label", "type", "area", "active")
    list_filter = ("type", "area", "active")
    list_editable = ("active",)


class CtaTaskInline(admin.TabularInline):
    model = CtaTask
    extra = 0
    readonly_fields = ("done_at", "done_by")


@admin.register(Cta)
class CtaAdmin(admin.ModelAdmin):
    """Look at CTAs here; flag, close and reassign in the cockpit so they are audited."""

    list_display = ("account", "type", "area", "reason", "owner", "status", "flagged", "due_date")
    list_filter = ("type", "area", "status", "flagged", "source", "priority")
    list_select_related = ("account", "owner")
    search_fields = ("account__name", "reason")
    readonly_fields = (
        "account",
        "type",
        "area",
        "reason",
        "owner",
        "status",
        "flagged",
        "flagged_by",
        "flagged_at",
        "flag_reason",
        "outcome",
        "source",
        "created_by",
        "created_at",
        "updated_at",
        "closed_at",
        "snoozed_until",
        "playbook",
        "priority",
        "due_date",
        "description",
    )
    inlines = [CtaTaskInline]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(CtaTask)
class CtaTaskAdmin(admin.ModelAdmin):
    list_display = ("title", "cta", "owner", "due_date", "done_at")
    list_select_related = ("cta__account", "owner")


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("cta", "author", "created_at")
    list_select_related = ("cta__account", "author")
    readonly_fields = ("cta", "author", "body", "created_at", "mentions")

    def has_add_permission(self, request: object) -> bool:
        return False
