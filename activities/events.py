"""Publishing committed events to the channel layer: the only place that sends.

A message carries the frame already rendered as text plus the few fields a gateway
process needs to route it (group, seq, activity type, access version), all plain
values, so each process forwards the same bytes to every socket without re-encoding.
"""

import asyncio
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from activities.models import ActivityEvent
from gateway.conf import gateway_setting

logger = logging.getLogger(__name__)

# The channel-layer message type of an event; consumers.hub reads it.
STREAM_EVENT = "stream.event"


def group_name(group_id: int) -> str:
    """The channel-layer group of a workspace group (derived, never client input)."""
    return f"workspace.{int(group_id)}"


def event_message(event: ActivityEvent) -> dict[str, Any]:
    """The channel-layer message of a logged event."""
    return {
        "type": STREAM_EVENT,
        "group": event.workspace_group_id,
        "seq": event.seq,
        "kind": event.kind,
        "activity_type": event.activity_type,
        "access": event.access_version,
        "frame": event.frame,
    }


def publish_on_commit(event: ActivityEvent) -> None:
    """Publish the event once (and only if) its transaction commits."""
    message = event_message(event)
    transaction.on_commit(lambda: publish(message), robust=True)


def publish(message: dict[str, Any]) -> bool:
    """Send one message to its group; a failure is logged, never raised.

    A message lost here is not lost to subscribers: gateway processes notice that
    the group's head moved past what they forwarded and read the gap from the log.
    """
    try:
        async_to_sync(_send)(message)
    except Exception:
        logger.exception(
            "publish of group %s seq %s failed; subscribers will catch up from the log",
            message["group"],
            message["seq"],
        )
        return False
    return True


async def _send(message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    await asyncio.wait_for(
        layer.group_send(group_name(message["group"]), message),
        timeout=gateway_setting("PUBLISH_TIMEOUT_SECS"),
    )
