from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from iam.models import IAMUser, IAMUserDetail, Membership, WorkspaceGroup


class DetailInline(admin.StackedInline):  # type: ignore[type-arg]
    model = IAMUserDetail
    extra = 0


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(IAMUser)
class IAMUserAdmin(UserAdmin):  # type: ignore[type-arg]
    inlines = [DetailInline]


@admin.register(IAMUserDetail)
class IAMUserDetailAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["id", "user", "profile_picture"]
    raw_id_fields = ["user"]


@admin.register(WorkspaceGroup)
class WorkspaceGroupAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["id", "name", "personal_owner", "event_seq"]
    search_fields = ["name"]
    readonly_fields = ["event_seq", "access_version"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["id", "user", "group", "role"]
    list_filter = ["role"]
    raw_id_fields = ["user", "group"]
