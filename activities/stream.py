"""The change stream: which events a change makes, their numbering and their log.

Every event of a workspace group gets the next `seq` of that group inside the
transaction that commits the change, under the group row's lock, so events are
numbered in commit order with no gap and no repeat. The frame a subscriber will
receive is rendered here, once, and stored in the event log as the exact text that
is published and replayed.
"""

import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from rest_framework.utils.encoders import JSONEncoder

from activities import events
from activities.models import ActivityEvent, UserActivity
from iam.models import WorkspaceGroup

Kind = ActivityEvent.Kind


@dataclass(frozen=True)
class FeedPlace:
    """Where an activity stands: its group, and whether it shows in that feed."""

    group_id: int | None
    in_feed: bool

    @classmethod
    def of(cls, activity: UserActivity) -> "FeedPlace":
        return cls(group_id=activity.workspace_group_id, in_feed=activity.in_feed)


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
    *, group_id: int, kind: str, activity: UserActivity, activity_data: dict[str, Any]
) -> ActivityEvent:
    """Number one event in its group, log it, publish it when its change commits."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("events are recorded inside the transaction of their change")
    head = (
        WorkspaceGroup.objects.select_for_update()
        .only("event_seq", "access_version")
        .get(pk=group_id)
    )
    seq = head.event_seq + 1
    WorkspaceGroup.objects.filter(pk=group_id).update(event_seq=seq)
    event = ActivityEvent.objects.create(
        workspace_group_id=group_id,
        seq=seq,
        kind=kind,
        activity_id=activity.pk,
        activity_type=activity.activity_type,
        access_version=head.access_version,
        frame=render_frame(
            kind=kind, group_id=group_id, seq=seq, activity=activity_data
        ),
    )
    events.publish_on_commit(event)
    return event


def change_record(
    *, before: FeedPlace | None, activity: UserActivity, activity_data: dict[str, Any]
) -> list[ActivityEvent]:
    """Record every event a change of `activity` produces (see `change_events`)."""
    return [
        event_record(
            group_id=group_id, kind=kind, activity=activity, activity_data=activity_data
        )
        for group_id, kind in change_events(before=before, after=FeedPlace.of(activity))
    ]
