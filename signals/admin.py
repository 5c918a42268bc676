from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from csrisk import audit
from signals.models import (
    Backfill,
    IdempotencyRecord,
    IngestRejection,
    OrgAlias,
    Signal,
    SignalImport,
    SignalRule,
    SignalVersion,
)


@admin.register(Signal)
class SignalAdmin(admin.ModelAdmin):
    list_display = (
        "source", "external_id", "kind", "account", "status", "version", "occurred_at", "sender",
    )  # fmt: skip
    list_filter = ("status", "kind", "source", "sent_via")
    search_fields = ("external_id", "org_ref", "sender")
    raw_id_fields = ("account", "sent_by", "backfill")
    list_select_related = ("account",)


@admin.register(Backfill)
class BackfillAdmin(admin.ModelAdmin):
    """Imports of history: a record of who did what, read only."""

    list_display = (
        "pk", "via", "source", "sender", "started_at", "finished_at", "accepted", "rejected",
    )  # fmt: skip
    list_filter = ("via",)
    list_select_related = ("created_by",)
    readonly_fields = [f.name for f in Backfill._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SignalVersion)
class SignalVersionAdmin(admin.ModelAdmin):
    list_display = ("signal", "version", "received_at")
    raw_id_fields = ("signal",)
    list_select_related = ("signal",)


@admin.register(OrgAlias)
class OrgAliasAdmin(admin.ModelAdmin):
    list_display = ("source", "org_ref", "account", "created_by", "created_at")
    raw_id_fields = ("account",)
    list_select_related = ("account", "created_by")


@admin.register(IngestRejection)
class IngestRejectionAdmin(admin.ModelAdmin):
    list_display = ("source", "day", "count", "last_reason")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("user", "key", "status_code", "created_at")
    list_select_related = ("user",)


@admin.register(SignalImport)
class SignalImportAdmin(admin.ModelAdmin):
    list_display = ("filename", "kind", "status", "total_rows", "created_by", "created_at")
    exclude = ("content",)
    raw_id_fields = ("backfill",)
    list_select_related = ("created_by",)


@admin.register(SignalRule)
class SignalRuleAdmin(admin.ModelAdmin):
    """Rules are configuration people edit; every save is audited."""

    list_display = ("name", "active", "trigger", "threshold", "cta_area", "cta_priority")
    list_filter = ("active", "trigger")

    def save_model(self, request: HttpRequest, obj: SignalRule, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action="signals.rule_changed" if change else "signals.rule_created",
            target=obj,
            changes={f: (form.initial.get(f), form.cleaned_data.get(f)) for f in form.changed_data},
        )

    def delete_model(self, request: HttpRequest, obj: SignalRule) -> None:
        audit.record(actor=request.user, action="signals.rule_deleted", target=obj, reason=obj.name)
        super().delete_model(request, obj)
