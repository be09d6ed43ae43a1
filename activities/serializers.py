"""Serializers of user activities: one JSON shape for REST and for socket events."""

import json
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import get_doc
from rest_framework import serializers

from activities import selectors
from activities.mixins import ProfilePictureMixin
from activities.models import UserActivity
from activities.types import ActivityType, category_of
from iam.models import MAX_ID, IAMUser, Membership, WorkspaceGroup

# A resource is free-form JSON, but it is stored, logged and sent to every
# subscriber of a group: these bounds keep one request from costing them all.
RESOURCE_MAX_DEPTH = 32
RESOURCE_MAX_CHARS = 64 * 1024

# PostgreSQL refuses U+0000 in jsonb and no database stores a lone surrogate.
_UNSTORABLE = {chr(0)} | {chr(code) for code in range(0xD800, 0xE000)}


class ActivityUserSerializer(ProfilePictureMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """The author as shown with an activity; read-only, whatever a request sends."""

    class Meta:
        model = IAMUser
        fields = ["id", "username", "first_name", "last_name", "profile_picture"]
        read_only_fields = fields


class WorkspaceGroupField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A workspace group the requesting user may put an activity in, by id.

    A group the caller is not a member of fails with the very text of a group that
    does not exist, so the answer tells nothing about other people's groups.
    """

    default_error_messages = {
        "does_not_exist": "No such workspace group.",
        "incorrect_type": "Expected a workspace group id, received {data_type}.",
    }

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return WorkspaceGroup.objects.none()
        return selectors.writable_groups(user=user)

    def to_internal_value(self, data: Any) -> WorkspaceGroup:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            pk = int(data)
        except ValueError:
            self.fail("incorrect_type", data_type=type(data).__name__)
        # Ids past the key range cannot exist, and some databases fail on them.
        if not 0 < pk <= MAX_ID:
            self.fail("does_not_exist")
        try:
            return self.get_queryset().get(pk=pk)  # type: ignore[no-any-return]
        except WorkspaceGroup.DoesNotExist:
            self.fail("does_not_exist")


class ResourceField(serializers.JSONField):
    """Any JSON value or null, within bounds every database and subscriber can take."""

    default_error_messages = {
        "too_deep": f"Nesting deeper than {RESOURCE_MAX_DEPTH} levels.",
        "too_large": f"More than {RESOURCE_MAX_CHARS} characters of JSON.",
        "unstorable": "Strings may not contain U+0000 or unpaired surrogates.",
    }

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        self._check_shape(value)
        if len(json.dumps(value, ensure_ascii=False)) > RESOURCE_MAX_CHARS:
            self.fail("too_large")
        return value

    def _check_shape(self, value: Any) -> None:
        # Iterative, so a hostile nesting cannot exhaust the interpreter's stack.
        pending: list[tuple[Any, int]] = [(value, 1)]
        while pending:
            item, depth = pending.pop()
            if isinstance(item, str):
                if not _UNSTORABLE.isdisjoint(item):
                    self.fail("unstorable")
                continue
            if not isinstance(item, dict | list):
                continue
            if depth > RESOURCE_MAX_DEPTH:
                self.fail("too_deep")
            children = (
                [*item.keys(), *item.values()] if isinstance(item, dict) else item
            )
            pending.extend((child, depth + 1) for child in children)


class UserActivitySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """Something a user did (logged in, joined a game, viewed a blog...).

    `user` is the author: it may be sent in a request body but never changes who
    the author is (the caller, on create). `workspace_group` takes only groups the
    caller belongs to; left out on create, it is the group named by
    `resource.workspace_group` when the caller belongs to it, else the caller's
    personal group. `activity_type` defaults to 100 (User Login).
    """

    user = ActivityUserSerializer(required=False)
    # The reference types this as a plain read-only integer; it is null only if a
    # group row is deleted behind the API's back (the relation is SET_NULL).
    workspace_group_id = serializers.IntegerField(read_only=True)
    workspace_group = WorkspaceGroupField(
        required=False,
        allow_null=True,
        help_text=UserActivity._meta.get_field("workspace_group").help_text,
    )
    activity_type = serializers.ChoiceField(
        choices=ActivityType.choices, required=False
    )
    resource = ResourceField(required=False, allow_null=True)

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


class UserActivitySchema(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]
    """Documents `user` in request bodies, where the reference lists it as required.

    Its fields are all read-only, so the generated request component would drop
    it; the reference shows it as a required object, and the server accepts and
    ignores it (a body without it is accepted too: the author is always the caller).
    """

    target_class = UserActivitySerializer

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_basic_serializer(
            self.target, direction
        )
        if direction != "request":
            return schema
        user = {"type": "object", "description": get_doc(ActivityUserSerializer)}
        schema["properties"] = {"user": user, **schema["properties"]}
        if not getattr(self.target, "partial", False):
            schema["required"] = ["user", *schema.get("required", [])]
        return schema


class ActivityTypeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """One activity type: its value, label and category."""

    value = serializers.IntegerField()
    # Named as the catalogue names it, over Field.label (the field's own title).
    label = serializers.CharField()  # type: ignore[assignment]
    category = serializers.CharField()

    @staticmethod
    def catalogue() -> list[dict[str, Any]]:
        return [
            {"value": t.value, "label": t.label, "category": category_of(t.value).value}
            for t in ActivityType
        ]


class WorkspaceGroupSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A workspace group as its member sees it: with their role and the stream head."""

    role = serializers.ChoiceField(choices=Membership.Role.choices, read_only=True)
    personal = serializers.SerializerMethodField()
    seq = serializers.IntegerField(source="event_seq", read_only=True)

    class Meta:
        model = WorkspaceGroup
        fields = ["id", "name", "role", "personal", "seq"]

    def get_personal(self, group: WorkspaceGroup) -> bool:
        return group.personal_owner_id is not None
