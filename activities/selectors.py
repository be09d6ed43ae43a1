"""Reads of activities and of the change stream, with the visibility rules applied."""

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from activities.exceptions import NotFoundError
from activities.models import ActivityEvent, UserActivity
from iam.models import IAMUser, Membership, WorkspaceGroup
from iam.selectors import user_admin_group_ids


def activity_visible_list(*, user: IAMUser) -> QuerySet[UserActivity]:
    """Activities the user may see: their groups', their own, or all for staff."""
    queryset = UserActivity.objects.select_related("user").prefetch_related(
        "user__details"
    )
    if user.is_staff:
        return queryset
    member_of = Membership.objects.filter(user=user).values("group_id")
    return queryset.filter(Q(workspace_group_id__in=member_of) | Q(user=user))


# Ids are 64-bit; a larger number is simply an id that does not exist.
_MAX_ID = 2**63 - 1


def activity_get(*, user: IAMUser, pk: Any, for_update: bool = False) -> UserActivity:
    """One visible activity; a hidden one is missing, so ids leak nothing.

    With `for_update` the row is locked until the caller's transaction ends.
    """
    queryset = activity_visible_list(user=user)
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        key = int(pk)
        if not 0 < key <= _MAX_ID:
            raise ValueError(key)
        return queryset.get(pk=key)
    except (UserActivity.DoesNotExist, TypeError, ValueError):
        raise NotFoundError("No UserActivity matches the given query.") from None


def activity_can_edit(*, user: IAMUser, activity: UserActivity) -> bool:
    """Author, admin of the activity's group, or staff."""
    if user.is_staff or activity.user_id == user.pk:
        return True
    return activity.workspace_group_id in user_admin_group_ids(user=user)


def writable_groups(*, user: IAMUser) -> QuerySet[WorkspaceGroup]:
    """Groups an activity of the user may be put in: those they are a member of."""
    return WorkspaceGroup.objects.filter(memberships__user=user)


def group_heads(*, group_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """For each group: (latest committed seq, access version)."""
    rows = WorkspaceGroup.objects.filter(pk__in=set(group_ids)).values_list(
        "pk", "event_seq", "access_version"
    )
    return {pk: (seq, version) for pk, seq, version in rows}


def events_after(
    *, group_id: int, after_seq: int, limit: int, up_to: int | None = None
) -> list[ActivityEvent]:
    """A group's logged events after `after_seq` (and up to `up_to`), in seq order."""
    queryset = ActivityEvent.objects.filter(
        workspace_group_id=group_id, seq__gt=after_seq
    )
    if up_to is not None:
        queryset = queryset.filter(seq__lte=up_to)
    return list(
        queryset.order_by("seq").only(
            "seq",
            "kind",
            "activity_type",
            "access_version",
            "frame",
            "workspace_group_id",
        )[:limit]
    )


def stream_position_for_member(*, user_id: int, group_id: int) -> tuple[int, int]:
    """(latest seq, replay horizon) of a group the user belongs to; else NotFoundError.

    The horizon is the group's seq when the user joined: nothing at or before it
    is theirs to replay.
    """
    row = (
        Membership.objects.filter(
            user_id=user_id, group_id=group_id, user__is_active=True
        )
        .values_list("group__event_seq", "joined_seq")
        .first()
    )
    if row is None:
        raise NotFoundError("No such workspace group.")
    return row[0], row[1]
