from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from csrisk.models import (
    AuditEntry,
    DeliveryFailure,
    Notification,
    NotificationPreference,
    Team,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "team", "is_active")
    list_filter = ("role", "team", "is_active", "is_superuser")
    list_select_related = ("team",)
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("csrisk", {"fields": ("role", "team", "title")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("csrisk", {"fields": ("email", "role", "team")}),
    )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "function", "lead")
    list_filter = ("function",)
    list_select_related = ("lead",)
    search_fields = ("name",)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "target_type", "target_id", "account_id")
    list_filter = ("action", "target_type")
    search_fields = ("reason", "actor__username")
    date_hierarchy = "at"

    # The audit trail is append-only, even for superusers.
    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


class DeliveryFailureInline(admin.TabularInline):
    model = DeliveryFailure
    fields = ("at", "channel", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "title", "created_at", "read_at", "emailed_at")
    list_filter = ("kind",)
    list_select_related = ("user",)
    search_fields = ("title", "user__username")
    inlines = [DeliveryFailureInline]


@admin.register(DeliveryFailure)
class DeliveryFailureAdmin(admin.ModelAdmin):
    """E-mail and chat that could not be sent: fix the address, the header or the server."""

    list_display = ("at", "user", "channel", "subject", "error")
    list_filter = ("channel",)
    list_select_related = ("user",)
    search_fields = ("subject", "error", "user__username")
    date_hierarchy = "at"
    readonly_fields = ("at", "user", "notification", "channel", "subject", "error")

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "email", "chat")
    list_filter = ("kind", "email", "chat")
    list_select_related = ("user",)
