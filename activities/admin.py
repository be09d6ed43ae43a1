"""Admin of activities; edits go through the services so they reach live feeds."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from activities import services
from activities.models import ActivityEvent, UserActivity


@admin.register(UserActivity)
class UserActivityAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "id",
        "user",
        "workspace_group",
        "activity_type",
        "is_active",
        "updated_at",
    ]
    list_filter = ["activity_type", "is_active"]
    search_fields = ["text"]
    raw_id_fields = ["user", "workspace_group"]
    readonly_fields = ["uid", "created_at", "updated_at"]

    def save_model(
        self, request: HttpRequest, obj: UserActivity, form: Any, change: bool
    ) -> None:
        data = {
            name: getattr(obj, name) for name in form.changed_data if name != "user"
        }
        if change:
            services.activity_update(actor=request.user, activity_id=obj.pk, data=data)  # type: ignore[arg-type]
        else:
            data.setdefault("text", obj.text)
            data.setdefault("activity_type", obj.activity_type)
            created = services.activity_create(actor=obj.user, data=data)
            obj.pk = created.pk

    def delete_model(self, request: HttpRequest, obj: UserActivity) -> None:
        services.activity_delete(actor=request.user, activity_id=obj.pk)  # type: ignore[arg-type]


@admin.register(ActivityEvent)
class ActivityEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["id", "workspace_group", "seq", "kind", "activity_id", "created_at"]
    list_filter = ["kind"]
    readonly_fields = [f.name for f in ActivityEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
