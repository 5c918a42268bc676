from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest

from csrisk import audit, clock, tokens, webhooks
from csrisk.models import (
    ApiToken,
    AuditEntry,
    CalendarFeed,
    DeliveryFailure,
    Notification,
    NotificationPreference,
    SsoIdentity,
    Team,
    User,
    WebhookDelivery,
    WebhookSubscription,
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
    list_display = ("name", "function", "lead", "chat_format")
    list_filter = ("function",)
    list_select_related = ("lead",)
    search_fields = ("name",)
    # A chat webhook URL typed without a scheme is https (Django 6's default; 5.2 warns).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


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


class ApiTokenForm(forms.ModelForm):
    """Sources as "zendesk, jira" rather than JSON."""

    sources = forms.CharField(
        required=False,
        help_text="Integration tokens: the signal sources it may write, comma-separated "
        "(empty: any source).",
    )

    class Meta:
        model = ApiToken
        fields = ["user", "name", "sources", "expires_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["sources"] = ", ".join(self.instance.sources or [])

    def clean_sources(self) -> list[str]:
        sources = tokens.clean_sources(self.cleaned_data.get("sources") or "")
        user = self.cleaned_data.get("user") or getattr(self.instance, "user", None)
        if sources and user is not None and not user.is_integration:
            raise forms.ValidationError("Only integration tokens are bound to signal sources.")
        return sources


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens of everyone: add one (its key is shown once), bind sources, revoke."""

    form = ApiTokenForm
    list_display = ("prefix", "user", "name", "sources", "created_at", "expires_at", "revoked_at")
    list_filter = ("user__role",)
    search_fields = ("prefix", "user__username", "name")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    actions = ["revoke"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # revoke instead: the record of which token sent what stays

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        if obj is None:
            return ()
        return ("user", "prefix", "created_at", "created_by", "last_used_at", "revoked_at")

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            audit.record(
                actor=request.user,
                action="csrisk.token_changed",
                target=obj,
                changes={
                    f: (form.initial.get(f), form.cleaned_data.get(f)) for f in form.changed_data
                },
            )
            return
        token, key = tokens.token_create(
            user=obj.user,
            by=request.user,
            name=obj.name,
            sources=obj.sources,
            expires_at=obj.expires_at if obj.expires_at else "default",
        )
        obj.pk = token.pk
        messages.warning(
            request, f"The new token for {obj.user} (copy it now, it is not shown again): {key}"
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        n = sum(tokens.token_revoke(token=t, by=request.user) for t in queryset)
        messages.success(request, f"Revoked {n} token{'s' if n != 1 else ''}.")


class WebhookSubscriptionForm(forms.ModelForm):
    """Events as checkboxes; the URL checked as the service checks it (public addresses)."""

    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=webhooks.EVENT_CHOICES, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "events", "active"]

    def clean_url(self) -> str:
        try:
            return webhooks.clean_url(self.cleaned_data["url"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["url"]) from exc


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ("created_at", "event", "status", "attempts", "response_code", "last_error")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ("-created_at",)

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).order_by("-created_at")


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    """Where csrisk POSTs its events; the secret is what the receiver verifies with."""

    form = WebhookSubscriptionForm
    list_display = ("name", "url", "active", "created_by", "created_at")
    list_filter = ("active",)
    search_fields = ("name", "url")
    readonly_fields = ("secret", "created_at", "created_by")

    def save_model(
        self, request: HttpRequest, obj: WebhookSubscription, form: Any, change: bool
    ) -> None:
        data = {k: form.cleaned_data[k] for k in ("name", "url", "events", "active")}
        if change:
            original = WebhookSubscription.objects.get(pk=obj.pk)
            webhooks.subscription_update(subscription=original, by=request.user, **data)
            return
        obj.pk = webhooks.subscription_create(by=request.user, **data).pk

    def delete_model(self, request: HttpRequest, obj: WebhookSubscription) -> None:
        webhooks.subscription_delete(subscription=obj, by=request.user)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: every event sent to every subscription, and how it went."""

    list_display = (
        "created_at", "event", "subscription", "status", "attempts", "response_code",
        "next_attempt_at", "last_error",
    )  # fmt: skip
    list_filter = ("status", "event", "subscription")
    list_select_related = ("subscription",)
    search_fields = ("message_id", "last_error")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Retry the selected deliveries now")
    def retry(self, request: HttpRequest, queryset: Any) -> None:
        for delivery in queryset.select_related("subscription"):
            webhooks.delivery_retry(delivery=delivery, by=request.user)
        messages.success(request, f"Queued {queryset.count()} deliveries again.")


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Calendar addresses (their keys are never stored); revoke one by setting revoked."""

    list_display = ("prefix", "user", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("user",)
    readonly_fields = ("user", "prefix", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SsoIdentity)
class SsoIdentityAdmin(admin.ModelAdmin):
    """Link a person to their identity provider account by hand (docs/sso.md): the way in
    for an account whose e-mail the provider does not verify, or a superuser."""

    list_display = ("user", "issuer", "subject", "created_at", "last_login_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email", "subject")
    autocomplete_fields = ("user",)
    readonly_fields = ("last_login_at",)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"issuer": settings.OIDC_ISSUER, "created_at": clock.now()}
