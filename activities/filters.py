"""Query filters of the activity list."""

from datetime import UTC, datetime

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
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


class MomentField(IsoDateTimeField):
    """An ISO 8601 date-time that can also be expressed in UTC (how it is stored)."""

    def clean(self, value: object) -> datetime | None:
        moment: datetime | None = super().clean(value)
        if moment is not None:
            try:
                moment.astimezone(UTC)
            except OverflowError:
                raise forms.ValidationError("Date-time out of range.") from None
        return moment


class MomentFilter(django_filters.IsoDateTimeFilter):
    field_class = MomentField


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
    updated_since = MomentFilter(
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
