"""Use cases on user activities, shared by the REST views, the admin and commands.

Each one checks, changes the row, records the change's events in the same
transaction, and leaves publishing to the commit (see activities.stream).
"""

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from activities import selectors
from activities.exceptions import NotFoundError, PermissionDeniedError
from activities.models import UserActivity
from activities.serializers import UserActivitySerializer
from activities.stream import FeedPlace, change_record
from iam.models import IAMUser, WorkspaceGroup
from iam.selectors import group_is_member
from iam.services import personal_group_ensure

logger = logging.getLogger(__name__)

_WRITABLE = (
    "text",
    "activity_type",
    "deleted_at",
    "is_active",
    "created_by",
    "updated_by",
    "deleted_by",
    "resource",
    "workspace_group",
)


@functools.cache
def _representer() -> UserActivitySerializer:
    # Building a model serializer's fields costs milliseconds, several times per
    # write; reading through one built instance is stateless and thread-safe.
    return UserActivitySerializer()


def activity_representation(activity: UserActivity) -> dict[str, Any]:
    """The JSON of an activity, the same for a REST response and a socket event."""
    return dict(_representer().to_representation(activity))


def workspace_group_derive(*, author: IAMUser, resource: Any) -> WorkspaceGroup:
    """The group the resource context names if the author is in it, else their own."""
    if isinstance(resource, dict):
        named = resource.get("workspace_group")
        if isinstance(named, int) and not isinstance(named, bool):
            if group_is_member(user_id=author.pk, group_id=named):
                return WorkspaceGroup.objects.get(pk=named)
    return personal_group_ensure(user=author)


def activity_create(*, actor: IAMUser, data: dict[str, Any]) -> UserActivity:
    """Create an activity authored by `actor` and publish it to its group's feed."""
    fields = {name: data[name] for name in _WRITABLE if name in data}
    fields.setdefault("created_by", actor.username)
    fields.setdefault("updated_by", actor.username)
    with transaction.atomic():
        if fields.get("workspace_group") is None:
            fields["workspace_group"] = workspace_group_derive(
                author=actor, resource=fields.get("resource")
            )
        activity = UserActivity.objects.create(user=actor, **fields)
        _record(activity, before=None)
    logger.debug(
        "activity %s created in group %s", activity.pk, activity.workspace_group_id
    )
    return activity


def activity_update(
    *,
    actor: IAMUser,
    activity_id: Any,
    data: Mapping[str, Any] | Callable[[UserActivity], Mapping[str, Any]],
) -> UserActivity:
    """Apply `data` to a visible activity the actor may edit, and publish the change.

    `data` may be a function of the locked activity that returns the changes: the
    REST view validates the body there, after the 404 and 403 checks and against
    the very row it changes, without reading that row twice.
    """
    with transaction.atomic():
        activity = _locked(actor=actor, activity_id=activity_id)
        changes = data(activity) if callable(data) else data
        before = FeedPlace.of(activity)
        # The group an activity leaves is told of it as its members last saw it;
        # rendering costs a query, so only a move pays for it.
        moving = "workspace_group" in changes and (
            getattr(changes["workspace_group"], "pk", None)
            != activity.workspace_group_id
        )
        before_data = activity_representation(activity) if moving else None
        for name in _WRITABLE:
            if name in changes:
                setattr(activity, name, changes[name])
        if "updated_by" not in changes:
            activity.updated_by = actor.username
        activity.save()
        _record(activity, before=before, before_data=before_data)
    return activity


def activity_delete(*, actor: IAMUser, activity_id: Any) -> UserActivity:
    """Soft delete: the row stays, marked inactive, and leaves its group's feed."""
    with transaction.atomic():
        activity = _locked(actor=actor, activity_id=activity_id)
        if activity.deleted_at is not None and not activity.is_active:
            return activity
        before = FeedPlace.of(activity)
        activity.deleted_at = timezone.now()
        activity.deleted_by = actor.username
        activity.is_active = False
        activity.save()
        _record(activity, before=before)
    return activity


def _locked(*, actor: IAMUser, activity_id: Any) -> UserActivity:
    """The activity, row-locked for this transaction, with its author's details
    loaded (rendering it costs no query): NotFoundError if it is hidden from the
    actor or missing, PermissionDeniedError if visible but not theirs to change."""
    # Lock by key alone, then apply the rules to the locked row: a lock taken
    # through the visibility query would re-evaluate its membership subquery.
    activity, role = selectors.activity_lock_for(user=actor, pk=activity_id)
    if not selectors.activity_is_visible(user=actor, activity=activity, role=role):
        raise NotFoundError("No UserActivity matches the given query.")
    if not selectors.activity_can_edit(user=actor, activity=activity, role=role):
        raise PermissionDeniedError("You may see this activity but not change it.")
    return activity


def _record(
    activity: UserActivity,
    *,
    before: FeedPlace | None,
    before_data: dict[str, Any] | None = None,
) -> None:
    change_record(
        before=before,
        activity=activity,
        activity_data=activity_representation(activity),
        before_data=before_data,
    )
