"""Serializers of user activities: one JSON shape for REST and for socket events."""

from typing import Any

from rest_framework import serializers

from activities.mixins import ProfilePictureMixin
from activities.models import UserActivity
from activities.types import ActivityType, category_of
from iam.models import IAMUser, WorkspaceGroup


class ActivityUserSerializer(ProfilePictureMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """The author as shown with an activity; read-only, whatever a request sends."""

    class Meta:
        model = IAMUser
        fields = ["id", "username", "first_name", "last_name", "profile_picture"]
        read_only_fields = fields


class UserActivitySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A user activity with exactly the reference endpoint's response fields.

    `user` is accepted in a request body, as the reference lists it, but it never
    changes the author. `workspace_group` accepts only the caller's groups; the view
    narrows its queryset, so a foreign group reads exactly like a missing one.
    """

    user = ActivityUserSerializer(required=False)
    workspace_group_id = serializers.IntegerField(read_only=True, allow_null=True)
    workspace_group = serializers.PrimaryKeyRelatedField(
        queryset=WorkspaceGroup.objects.none(),
        required=False,
        allow_null=True,
        help_text=UserActivity._meta.get_field("workspace_group").help_text,
    )
    activity_type = serializers.ChoiceField(
        choices=ActivityType.choices, required=False
    )

    class Meta:
        model = UserActivity
        fields = [
            "id",
            "user",
            "workspace_group_id",
            "uid",
            "created_at",
            "updated_at",
            "text",
            "activity_type",
            "deleted_at",
            "is_active",
            "created_by",
            "updated_by",
            "deleted_by",
            "resource",
            "workspace_group",
        ]
        read_only_fields = ["id", "uid", "created_at", "updated_at"]

    def validate_workspace_group(
        self, value: WorkspaceGroup | None
    ) -> WorkspaceGroup | None:
        if value is None and self.instance is not None:
            raise serializers.ValidationError(
                "An activity stays in a workspace group; name the group to move it to."
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.pop("user", None)
        return attrs


class ActivityTypeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """One activity type: its value, label and category."""

    value = serializers.IntegerField()
    label = serializers.CharField()
    category = serializers.CharField()

    @staticmethod
    def catalogue() -> list[dict[str, Any]]:
        return [
            {"value": t.value, "label": t.label, "category": category_of(t.value).value}
            for t in ActivityType
        ]


class WorkspaceGroupSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A workspace group as its member sees it: with their role and the stream head."""

    role = serializers.CharField(read_only=True)
    personal = serializers.SerializerMethodField()
    seq = serializers.IntegerField(source="event_seq", read_only=True)

    class Meta:
        model = WorkspaceGroup
        fields = ["id", "name", "role", "personal", "seq"]

    def get_personal(self, group: WorkspaceGroup) -> bool:
        return group.personal_owner_id is not None
