"""The change stream: which events a change makes, their numbering and their log.

Every event of a workspace group gets the next `seq` of that group inside the
transaction that commits the change, under the group row's lock, so events are
numbered in commit order with no gap and no repeat. The frame a subscriber will
receive is rendered here, once, and stored in the event log as the exact text that
is published and replayed.
"""

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from activities import events
from activities.models import ActivityEvent, UserActivity
from iam.models import Membership, WorkspaceGroup

Kind = ActivityEvent.Kind


@dataclass(frozen=True)
class FeedPlace:
    """Where an activity stands: its group, whether it shows in that feed, and its
    type (by which subscribers may filter the feed)."""

    group_id: int | None
    in_feed: bool
    activity_type: int

    @classmethod
    def of(cls, activity: UserActivity) -> "FeedPlace":
        return cls(
            group_id=activity.workspace_group_id,
            in_feed=activity.in_feed,
            activity_type=activity.activity_type,
        )


def change_events(
    *, before: FeedPlace | None, after: FeedPlace
) -> list[tuple[int, str]]:
    """The (group id, event kind) pairs of a change from `before` to `after`.

    An activity that enters a feed is `created` there, one that leaves is `removed`
    from it, one that stays is `updated`; a change outside every feed makes none.
    """
    was = before if before is not None and before.in_feed else None
    now = after if after.in_feed else None
    if was and now and was.group_id == now.group_id:
        return [(int(now.group_id), Kind.UPDATED)]  # type: ignore[arg-type]
    produced: list[tuple[int, str]] = []
    if was:
        produced.append((int(was.group_id), Kind.REMOVED))  # type: ignore[arg-type]
    if now:
        produced.append((int(now.group_id), Kind.CREATED))  # type: ignore[arg-type]
    return produced


def render_frame(
    *, kind: str, group_id: int, seq: int, activity: dict[str, Any]
) -> str:
    """The server-to-client frame of one event, as JSON text."""
    frame = {
        "type": kind,
        "workspace_group": group_id,
        "seq": seq,
        "activity": activity,
    }
    return json.dumps(frame, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":"))


def event_record(
    *,
    group_id: int,
    kind: str,
    activity: UserActivity,
    activity_data: dict[str, Any],
    prior_type: int | None = None,
) -> ActivityEvent:
    """Number one event in its group, log it, publish it when its change commits.

    `prior_type` is the activity's type before the change, for an event about an
    activity that was already in the group's feed (updated, removed).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("events are recorded inside the transaction of their change")
    seq, access_version = _next_seq(group_id)
    event = ActivityEvent.objects.create(
        workspace_group_id=group_id,
        seq=seq,
        kind=kind,
        activity_id=activity.pk,
        activity_type=activity.activity_type,
        prior_activity_type=prior_type,
        access_version=access_version,
        frame=render_frame(
            kind=kind, group_id=group_id, seq=seq, activity=activity_data
        ),
    )
    events.publish_on_commit(event)
    return event


def _next_seq(group_id: int) -> tuple[int, int]:
    """Take the group's next seq, and read its access version, in one statement.

    The UPDATE holds the group row's lock until the transaction ends, so writers
    of one group are numbered in commit order. On PostgreSQL it is a NO KEY UPDATE
    lock (the key does not change), which does not wait on the key-share locks
    that inserts referencing the group take. The ORM has no UPDATE ... RETURNING;
    two statements would cost a second round trip on every event.
    """
    connection = transaction.get_connection()
    table = connection.ops.quote_name(WorkspaceGroup._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET event_seq = event_seq + 1 "  # noqa: S608 (no input)
            "WHERE id = %s RETURNING event_seq, access_version",
            [group_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise WorkspaceGroup.DoesNotExist(f"No workspace group {group_id}.")
    return int(row[0]), int(row[1])


def change_record(
    *,
    before: FeedPlace | None,
    activity: UserActivity,
    activity_data: dict[str, Any],
    before_data: dict[str, Any] | None = None,
) -> list[ActivityEvent]:
    """Record every event a change of `activity` produces (see `change_events`).

    When the change moves the activity out of a group, that group's `removed`
    event carries `before_data`, the activity as its members could see it: the
    new state (its new group, perhaps new text) belongs to the new group only.
    """
    after = FeedPlace.of(activity)
    return [
        event_record(
            group_id=group_id,
            kind=kind,
            activity=activity,
            prior_type=(
                before.activity_type
                if before is not None and kind != Kind.CREATED
                else None
            ),
            activity_data=(
                before_data
                if before_data is not None
                and kind == Kind.REMOVED
                and group_id != after.group_id
                else activity_data
            ),
        )
        for group_id, kind in change_events(before=before, after=after)
    ]


# Rows deleted per statement when pruning, so no single delete holds locks for long
# while the gateway serves.
PRUNE_BATCH = 5000


def events_prune(*, max_age_secs: float, keep_per_group: int) -> int:
    """Delete logged events older than `max_age_secs` or beyond the newest
    `keep_per_group` of their group; return how many were deleted.

    Safe while the gateway serves: a replay that reaches a pruned seq answers
    `reset`, and the newest event of a group is never deleted, so the head stays
    readable.
    """
    cutoff = timezone.now() - timedelta(seconds=max_age_secs)
    deleted = 0
    for group_id, head in WorkspaceGroup.objects.filter(event_seq__gt=0).values_list(
        "pk", "event_seq"
    ):
        floor = head - max(keep_per_group, 1)
        stale = ActivityEvent.objects.filter(workspace_group_id=group_id, seq__lt=head)
        stale = stale.filter(models.Q(seq__lte=floor) | models.Q(created_at__lt=cutoff))
        while True:
            ids = list(stale.values_list("pk", flat=True)[:PRUNE_BATCH])
            if not ids:
                break
            deleted += ActivityEvent.objects.filter(pk__in=ids).delete()[0]
    return deleted


@dataclass(frozen=True)
class Admission:
    """What a subscriber needs to start reading a group's stream.

    `head` is the latest committed seq, `horizon` the seq at which the user joined
    (nothing at or before it is theirs to replay), `access_version` the group's
    access version when membership was confirmed: an event carrying a newer one
    is held until the subscriber's access is checked again.
    """

    head: int
    horizon: int
    access_version: int


def stream_admission(*, user_id: int, group_id: int) -> Admission | None:
    """The stream position of a group for one of its active members, else None."""
    row = (
        Membership.objects.filter(
            user_id=user_id, group_id=group_id, user__is_active=True
        )
        .values_list("group__event_seq", "joined_seq", "group__access_version")
        .first()
    )
    if row is None:
        return None
    return Admission(head=row[0], horizon=row[1], access_version=row[2])
