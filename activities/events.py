"""Publishing committed events to the channel layer: the only place that sends.

A message carries the frame already rendered as text plus the few fields a gateway
process needs to route it (group, seq, the activity's type before and after the
change, access version), all plain values, so each process forwards the same bytes
to every socket without re-encoding.
"""

import asyncio
import logging
import sys
import threading
import time
from collections.abc import Callable
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
        "prior_type": event.prior_activity_type,
        "access": event.access_version,
        "frame": event.frame,
    }


def publish_on_commit(event: ActivityEvent) -> None:
    """Publish the event once (and only if) its transaction commits."""
    message = event_message(event)
    transaction.on_commit(lambda: publish(message), robust=True)


# The server's event loop, when this process runs one (bound by gateway.asgi).
_server_loop: asyncio.AbstractEventLoop | None = None


def bind_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Let publishes from request threads hand their message to `loop` and go on."""
    global _server_loop
    _server_loop = loop


def publish(message: dict[str, Any]) -> bool:
    """Send one message to its group; a failure is logged, never raised.

    In a server process the send is handed to the server's event loop and the
    request thread goes on without waiting for Redis or for the loop, which may be
    busy writing the previous event to a thousand sockets. Elsewhere (commands,
    shells, tests without a server) it is sent before returning.

    A message lost here is not lost to subscribers: gateway processes notice that
    the group's head moved past what they forwarded and read the gap from the log.
    """
    loop = _server_loop
    if loop is not None and not _runs_in(loop):
        if not loop.is_running() or loop.is_closed():
            # The server is stopping: waiting on its loop would never end. The
            # event is in the log; the other processes' polls deliver it.
            logger.warning(
                "publish of group %s seq %s skipped: the server is stopping",
                message["group"],
                message["seq"],
            )
            return False
        future = asyncio.run_coroutine_threadsafe(_send(message), loop)
        future.add_done_callback(lambda done: _log_failure(done, message))
        return True
    try:
        async_to_sync(_send)(message)
    except Exception:
        _log_failure(None, message)
        return False
    return True


def _runs_in(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


# While Redis is down every commit fails to publish; one report per interval, with
# a count, says as much as one per commit and keeps the log readable.
FAILURE_REPORT_SECS = 5.0


class _FailureReports:
    """When the last publish failure was reported, and how many went unreported."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.reported_at = -FAILURE_REPORT_SECS
        self.unreported = 0

    def due(self) -> int | None:
        """The failures not reported yet if a report is due now, else None."""
        with self.lock:
            now = self.clock()
            if now - self.reported_at < FAILURE_REPORT_SECS:
                self.unreported += 1
                return None
            self.reported_at = now
            missed, self.unreported = self.unreported, 0
            return missed


_failures = _FailureReports()


def _log_failure(done: Any, message: dict[str, Any]) -> None:
    if done is not None and (done.cancelled() or done.exception() is None):
        return
    missed = _failures.due()
    if missed is None:
        return
    error = done.exception() if done is not None else sys.exc_info()[1]
    logger.error(
        "publish of group %s seq %s failed (%s: %s), and %s more since the last "
        "report; subscribers will catch up from the log",
        message["group"],
        message["seq"],
        type(error).__name__,
        error,
        missed,
    )


async def _send(message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    await asyncio.wait_for(
        layer.group_send(group_name(message["group"]), message),
        timeout=gateway_setting("PUBLISH_TIMEOUT_SECS"),
    )
