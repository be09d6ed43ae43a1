"""Reads of activities and of the change stream, with the visibility rules applied."""

from collections.abc import Iterable
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery

from activities.exceptions import NotFoundError
from activities.models import ActivityEvent, UserActivity
from iam.models import IAMUser, Membership, WorkspaceGroup


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


def _activity_key(pk: Any) -> int:
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise NotFoundError("No UserActivity matches the given query.") from None
    if not 0 < key <= _MAX_ID:
        raise NotFoundError("No UserActivity matches the given query.")
    return key


def activity_get(*, user: IAMUser, pk: Any) -> UserActivity:
    """One visible activity; a hidden one is missing, so ids leak nothing."""
    try:
        return activity_visible_list(user=user).get(pk=_activity_key(pk))
    except UserActivity.DoesNotExist:
        raise NotFoundError("No UserActivity matches the given query.") from None


def activity_lock_for(*, user: IAMUser, pk: Any) -> tuple[UserActivity, str | None]:
    """One activity by id, whoever may see it, and the user's role in its group.

    The row is locked until the caller's transaction ends; its author and the
    author's details come along (rendering it costs no further query), and the
    role ("member", "admin", or None when the user is not in the group) is read
    in the same statement. Callers apply the rules (`activity_is_visible`,
    `activity_can_edit`).
    """
    role = Membership.objects.filter(
        user_id=user.pk, group_id=OuterRef("workspace_group_id")
    ).values("role")[:1]
    activity = (
        UserActivity.objects.select_related("user")
        .prefetch_related("user__details")
        .annotate(viewer_role=Subquery(role))
        .select_for_update(of=("self",))
        .filter(pk=_activity_key(pk))
        .first()
    )
    if activity is None:
        raise NotFoundError("No UserActivity matches the given query.")
    return activity, activity.viewer_role


def activity_is_visible(
    *, user: IAMUser, activity: UserActivity, role: str | None
) -> bool:
    """The rule of `activity_visible_list` for one activity: staff, its author, or
    a member of its group (`role` is the user's role there, None if not in it)."""
    return user.is_staff or activity.user_id == user.pk or role is not None


def activity_can_edit(
    *, user: IAMUser, activity: UserActivity, role: str | None
) -> bool:
    """Staff, an admin of the activity's group, or its author while a member of
    that group (or when it is in none); `role` is the user's role in the group.

    An author who is not in the group still sees the activity, but writing to it
    would write into the live feed of a group they have no part in (a removed
    member could keep posting there).
    """
    if user.is_staff:
        return True
    if activity.workspace_group_id is None:
        return activity.user_id == user.pk
    return role == Membership.Role.ADMIN or (
        role is not None and activity.user_id == user.pk
    )


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
            "prior_activity_type",
            "access_version",
            "frame",
            "workspace_group_id",
        )[:limit]
    )
