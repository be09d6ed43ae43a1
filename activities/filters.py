"""Query filters of the activity list."""

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from activities.models import UserActivity
from activities.types import ActivityType
from iam.models import MAX_ID


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A whole, positive id within the key range (a bad one is a 400, not a query)."""

    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class UserActivityFilter(django_filters.FilterSet):
    """Filter by group, type, author, active flag, and changes since a moment."""

    workspace_group = IdFilter(
        field_name="workspace_group_id", help_text="Workspace group id."
    )
    activity_type = django_filters.MultipleChoiceFilter(
        choices=ActivityType.choices, help_text="Repeat to match any of several types."
    )
    user = IdFilter(field_name="user_id", help_text="Author id.")
    is_active = django_filters.BooleanFilter()
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text="ISO 8601 date-time."
    )

    class Meta:
        model = UserActivity
        fields = [
            "workspace_group",
            "activity_type",
            "user",
            "is_active",
            "updated_since",
        ]
