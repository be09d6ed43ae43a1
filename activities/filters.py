"""Query filters of the activity list."""

import django_filters

from activities.models import UserActivity
from activities.types import ActivityType


class UserActivityFilter(django_filters.FilterSet):
    """Filter by group, type, author, active flag, and changes since a moment."""

    workspace_group = django_filters.NumberFilter(field_name="workspace_group_id")
    activity_type = django_filters.MultipleChoiceFilter(
        choices=ActivityType.choices, help_text="Repeat to match any of several types."
    )
    user = django_filters.NumberFilter(field_name="user_id", help_text="Author id.")
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
