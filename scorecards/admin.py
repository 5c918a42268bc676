from django.contrib import admin

from scorecards.models import Area


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
