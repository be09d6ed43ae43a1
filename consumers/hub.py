"""The process's fan-out hub: each group's events arrive once, then go to local sockets.

One hub runs per gateway process. It owns a single channel-layer channel and adds it
to the layer group of every workspace group that has a local subscriber, so an event
crosses Redis once per process, not once per socket. Per group, one task puts events
in seq order, fills gaps from the event log, re-checks access when the group's access
version moves, and writes the already-rendered frame to each subscribed socket.
Nothing on that path touches the database or re-encodes JSON.

A poll (every ACCESS_POLL_SECS) is the safety net under the layer: it notices groups
whose head moved past what was forwarded (a publish lost while Redis was down) and
access taken away by paths that bypass the ORM signals, within a second either way.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from activities import selectors as activity_selectors
from activities.events import STREAM_EVENT, group_name
from activities.stream import Admission
from consumers import protocol
from consumers.transport import text_frame
from gateway.conf import gateway_setting
from iam import selectors as iam_selectors

logger = logging.getLogger(__name__)

# Events read from the log per query while replaying or repairing a gap.
REPLAY_BATCH = 500
# Pause after a failed read of the channel layer, doubling up to the maximum.
LAYER_RETRY_SECS = 0.2
LAYER_RETRY_MAX_SECS = 5.0
# Layers forget group members after a while (a day by default); re-joining every
# hour keeps a long-lived feed subscribed without relying on the poll's repair.
GROUP_REFRESH_SECS = 3600.0


class Sink(Protocol):
    """What the hub needs of a socket."""

    user_id: int
    credential: tuple[str, str]
    # Writes a pre-built frame and returns the bytes queued for the peer (-1: the
    # socket is closing); None where the server offers no such shortcut.
    fast_write: Callable[[bytes], int] | None

    async def send_text(self, text: str) -> None: ...

    async def close_with(self, code: int) -> None: ...


class Event:
    """One event as the hub routes it: the frame is already the text to send."""

    __slots__ = ("seq", "activity_type", "prior_type", "access", "frame", "_wire")

    def __init__(
        self,
        seq: int,
        activity_type: int,
        access: int,
        frame: str,
        prior_type: int | None = None,
    ) -> None:
        self.seq = seq
        self.activity_type = activity_type
        # The type before the change, so a type filter hears of an activity leaving.
        self.prior_type = prior_type
        self.access = access
        self.frame = frame
        self._wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        """The whole WebSocket frame, encoded once for every socket of the process."""
        if self._wire is None:
            self._wire = text_frame(self.frame.encode())
        return self._wire

    @classmethod
    def of_message(cls, message: dict[str, Any]) -> Event:
        return cls(
            message["seq"],
            message["activity_type"],
            message["access"],
            message["frame"],
            message.get("prior_type"),
        )

    @classmethod
    def of_log(cls, row: Any) -> Event:
        return cls(
            row.seq,
            row.activity_type,
            row.access_version,
            row.frame,
            row.prior_activity_type,
        )


@dataclass(eq=False)
class Subscription:
    """One socket's subscription to one group, and how far it has been served."""

    sink: Sink
    group_id: int
    cursor: int
    verified: int
    types: frozenset[int] | None = None
    catching_up: bool = False
    buffer: deque[Event] = field(default_factory=deque)
    closed: bool = False

    def wants(self, event: Event) -> bool:
        """Whether the event concerns this subscription's filter: the activity has
        one of its types, or had one before the change (it leaves the filter)."""
        types = self.types
        return (
            types is None or event.activity_type in types or event.prior_type in types
        )


@dataclass(eq=False)
class GroupFeed:
    """The hub's state for one workspace group with local subscribers."""

    group_id: int
    last_seq: int
    # Every subscriber's access has been confirmed at this version or later; an
    # event carrying a newer one waits for a re-check.
    access_version: int
    subs: set[Subscription] = field(default_factory=set)
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    polled_head: int = 0
    # Whether the hub's channel is in the layer group; until it is, the poll
    # serves the feed from the log and retries the join.
    joined: bool = False


# Larger than any access version: a feed without subscribers checks nothing.
_NEVER = 2**63
_REPAIR = "hub.repair"
_RECHECK = "hub.recheck"
_STOP = "hub.stop"


class Hub:
    """Routes every event of the process's subscribed groups to their sockets."""

    def __init__(self) -> None:
        self.feeds: dict[int, GroupFeed] = {}
        self.sinks: dict[Sink, set[Subscription]] = {}
        self.channel_name = ""
        self._started = False
        self._tasks: list[asyncio.Task[None]] = []
        self._feed_lock = asyncio.Lock()
        self._replays: set[asyncio.Task[None]] = set()
        self._closing = False
        self._queue_limit: int = gateway_setting("SOCKET_QUEUE_LIMIT")
        self._buffer_limit: int = gateway_setting("SOCKET_BUFFER_LIMIT_BYTES")

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        # Nothing here may fail: with Redis down the hub still starts, serves from
        # the log through the poll, and joins the layer when Redis answers.
        layer = get_channel_layer()
        if layer is not None:
            self._tasks.append(asyncio.create_task(self._receive_loop(layer)))
        self._tasks.append(asyncio.create_task(self._poll_loop()))

    async def stop(self, close_code: int = protocol.CLOSE_SERVICE_RESTART) -> None:
        """Close every socket with `close_code` and stop the hub's tasks."""
        self._closing = True
        await asyncio.gather(
            *(sink.close_with(close_code) for sink in list(self.sinks)),
            return_exceptions=True,
        )
        feed_tasks = [feed.task for feed in self.feeds.values() if feed.task]
        for task in [*self._tasks, *feed_tasks, *self._replays]:
            task.cancel()

    # -- sockets -----------------------------------------------------------------

    def attach(self, sink: Sink) -> None:
        self.sinks.setdefault(sink, set())

    async def detach(self, sink: Sink) -> None:
        for sub in list(self.sinks.pop(sink, ())):
            await self._drop(sub)

    def subscription(self, sink: Sink, group_id: int) -> Subscription | None:
        for sub in self.sinks.get(sink, ()):
            if sub.group_id == group_id:
                return sub
        return None

    async def subscribe(
        self,
        sink: Sink,
        *,
        group_id: int,
        admission: Admission,
        since: int | None,
        types: frozenset[int] | None,
    ) -> None:
        """Start serving `group_id` to `sink` after seq `since` (or from the head).

        The caller has confirmed membership (`admission`) and sent nothing yet;
        this sends `subscribed`, then the replay (or `reset`), then live events.
        """
        if self._closing:
            await sink.close_with(protocol.CLOSE_SERVICE_RESTART)
            return
        old = self.subscription(sink, group_id)
        if old is not None:
            await self._drop(old)
        head = admission.head
        feed = await self._feed(group_id, head)
        start = head if since is None else since
        sub = Subscription(
            sink=sink,
            group_id=group_id,
            cursor=start,
            verified=admission.access_version,
            types=types,
        )
        await sink.send_text(protocol.subscribed_frame(group_id, head))
        if start < admission.horizon:
            # Events before the user joined are not theirs to receive.
            await sink.send_text(protocol.reset_frame(group_id, head))
            sub.cursor = head
        feed.subs.add(sub)
        feed.access_version = min(feed.access_version, sub.verified)
        self.sinks.setdefault(sink, set()).add(sub)
        if sub.cursor < max(head, feed.last_seq):
            self._catch_up(sub)
        logger.debug(
            "user %s subscribed to group %s from %s", sink.user_id, group_id, start
        )

    async def unsubscribe(self, sink: Sink, group_id: int) -> bool:
        sub = self.subscription(sink, group_id)
        if sub is None:
            return False
        await self._drop(sub)
        return True

    # -- feeds -------------------------------------------------------------------

    async def _feed(self, group_id: int, head: int) -> GroupFeed:
        async with self._feed_lock:
            feed = self.feeds.get(group_id)
            if feed is not None:
                return feed
            # The version starts at infinity: the first subscriber lowers it to
            # the version its membership was confirmed at.
            feed = GroupFeed(group_id=group_id, last_seq=head, access_version=_NEVER)
            feed.polled_head = head
            self.feeds[group_id] = feed
            feed.task = asyncio.create_task(self._run_feed(feed))
            await self._join(feed)
            return feed

    async def _join(self, feed: GroupFeed) -> None:
        """Put the hub's channel in the feed's layer group, if the layer answers."""
        layer = get_channel_layer()
        if layer is None or not self.channel_name or feed.joined:
            return
        try:
            await asyncio.wait_for(
                layer.group_add(group_name(feed.group_id), self.channel_name),
                LAYER_RETRY_MAX_SECS,
            )
        except Exception as exc:
            logger.warning(
                "group %s: layer join failed (%s); will retry", feed.group_id, exc
            )
            return
        feed.joined = True

    async def _drop(self, sub: Subscription) -> None:
        sub.closed = True
        self.sinks.get(sub.sink, set()).discard(sub)
        feed = self.feeds.get(sub.group_id)
        if feed is None:
            return
        feed.subs.discard(sub)
        if not feed.subs:
            await self._retire(feed)

    async def _retire(self, feed: GroupFeed) -> None:
        async with self._feed_lock:
            if feed.subs or self.feeds.get(feed.group_id) is not feed:
                return
            del self.feeds[feed.group_id]
            feed.queue.put_nowait({"type": _STOP})
            layer = get_channel_layer()
            if layer is not None and feed.joined:
                try:
                    await layer.group_discard(
                        group_name(feed.group_id), self.channel_name
                    )
                except Exception:
                    logger.warning("could not leave layer group of %s", feed.group_id)

    async def _open_channel(self, layer: Any) -> None:
        delay = LAYER_RETRY_SECS
        while not self.channel_name:
            try:
                self.channel_name = await asyncio.wait_for(
                    layer.new_channel("hub."), LAYER_RETRY_MAX_SECS
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning(
                    "channel layer unavailable (%s); retrying in %.1fs", exc, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, LAYER_RETRY_MAX_SECS)
        for feed in list(self.feeds.values()):
            await self._join(feed)

    async def _receive_loop(self, layer: Any) -> None:
        await self._open_channel(layer)
        delay = LAYER_RETRY_SECS
        while True:
            try:
                message = await layer.receive(self.channel_name)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("channel layer read failed; retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, LAYER_RETRY_MAX_SECS)
                continue
            delay = LAYER_RETRY_SECS
            if message.get("type") != STREAM_EVENT:
                continue
            feed = self.feeds.get(message["group"])
            if feed is not None:
                feed.queue.put_nowait(message)

    async def _run_feed(self, feed: GroupFeed) -> None:
        while True:
            message = await feed.queue.get()
            kind = message["type"]
            try:
                if kind == _STOP:
                    return
                if kind == _RECHECK:
                    await self._recheck(feed, message["access"])
                elif kind == _REPAIR:
                    await self._repair(feed, up_to=message["seq"])
                else:
                    await self._forward(feed, message)
            except asyncio.CancelledError:
                raise
            except Exception:
                # A failed read of the log leaves the gap for the next poll to repair.
                logger.exception("group %s feed step %s failed", feed.group_id, kind)

    async def _forward(self, feed: GroupFeed, message: dict[str, Any]) -> None:
        event = Event.of_message(message)
        if event.seq <= feed.last_seq:
            return
        if event.seq > feed.last_seq + 1:
            await self._repair(feed, up_to=event.seq - 1)
            if event.seq <= feed.last_seq:
                return
        await self._fan_out(feed, event)

    async def _repair(self, feed: GroupFeed, *, up_to: int) -> None:
        """Forward the logged events after `feed.last_seq` up to `up_to`."""
        while feed.last_seq < up_to:
            events = await _read_log(feed.group_id, after=feed.last_seq, up_to=up_to)
            if events is None:
                # Pruned before this process saw it: the subscribers must refetch.
                logger.warning(
                    "group %s events %s..%s gone from the log; resetting subscribers",
                    feed.group_id,
                    feed.last_seq + 1,
                    up_to,
                )
                feed.last_seq = up_to
                for sub in list(feed.subs):
                    sub.cursor = up_to
                    sub.buffer.clear()
                    await sub.sink.send_text(protocol.reset_frame(feed.group_id, up_to))
                return
            logger.info(
                "group %s: forwarding %s events from the log after seq %s",
                feed.group_id,
                len(events),
                feed.last_seq,
            )
            for event in events:
                await self._fan_out(feed, event)

    async def _fan_out(self, feed: GroupFeed, event: Event) -> None:
        if event.access > feed.access_version:
            await self._recheck(feed, event.access)
        feed.last_seq = seq = event.seq
        limit = self._buffer_limit
        # The hot loop: per socket, a few comparisons and one write of shared bytes.
        for sub in tuple(feed.subs):
            if sub.closed or seq <= sub.cursor:
                continue
            if sub.catching_up or seq != sub.cursor + 1 or event.access > sub.verified:
                # Behind, or not yet checked at this event's access version (it
                # joined during the re-check above): the catch-up path checks it.
                await self._hold(sub, event)
                continue
            sub.cursor = seq
            if sub.types is not None and not sub.wants(event):
                continue
            write = sub.sink.fast_write
            if write is None:
                await sub.sink.send_text(event.frame)
            elif write(event.wire) > limit:
                await self._resync(sub)

    async def _hold(self, sub: Subscription, event: Event) -> None:
        """Keep an event for a subscription that is replaying or found a gap."""
        sub.buffer.append(event)
        if len(sub.buffer) > self._queue_limit:
            await self._resync(sub)
        elif not sub.catching_up:
            self._catch_up(sub)

    async def _write(self, sub: Subscription, event: Event) -> None:
        write = sub.sink.fast_write
        if write is None:
            await sub.sink.send_text(event.frame)
        elif write(event.wire) > self._buffer_limit:
            await self._resync(sub)

    async def _resync(self, sub: Subscription) -> None:
        logger.warning(
            "user %s fell behind on group %s at seq %s; closing for resync",
            sub.sink.user_id,
            sub.group_id,
            sub.cursor,
        )
        await self.detach(sub.sink)
        await sub.sink.close_with(protocol.CLOSE_RESYNC)

    # -- replay and gap repair per subscription -------------------------------------

    def _catch_up(self, sub: Subscription) -> None:
        sub.catching_up = True
        # The loop keeps only weak references to tasks: hold it until it ends.
        task = asyncio.create_task(self._run_catch_up(sub))
        self._replays.add(task)
        task.add_done_callback(self._replays.discard)

    async def _run_catch_up(self, sub: Subscription) -> None:
        try:
            await self._replay(sub)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("replay of group %s failed", sub.group_id)
            await self._resync(sub)

    async def _replay(self, sub: Subscription) -> None:
        """Send what the subscription missed, from its buffer or the log, in order."""
        while not sub.closed:
            # Serve the buffer first whenever it continues the cursor.
            while sub.buffer and sub.buffer[0].seq <= sub.cursor + 1:
                event = sub.buffer.popleft()
                if event.seq == sub.cursor + 1 and not await self._send_one(sub, event):
                    return
            feed = self.feeds.get(sub.group_id)
            last = feed.last_seq if feed is not None else sub.cursor
            target = sub.buffer[0].seq - 1 if sub.buffer else last
            if sub.cursor >= target:
                sub.catching_up = False
                return
            events = await _read_log(sub.group_id, after=sub.cursor, up_to=target)
            if events is None:
                head = max(target, last)
                await sub.sink.send_text(protocol.reset_frame(sub.group_id, head))
                sub.cursor = head
                continue
            for event in events:
                if not await self._send_one(sub, event):
                    return

    async def _send_one(self, sub: Subscription, event: Event) -> bool:
        """Send one replayed event if access still holds; False once the sub is gone."""
        if event.access > sub.verified:
            feed = self.feeds.get(sub.group_id)
            if feed is None:
                return False
            await self._recheck(feed, event.access)
        if sub.closed:
            return False
        sub.cursor = event.seq
        if sub.wants(event):
            await self._write(sub, event)
        return not sub.closed

    # -- access ------------------------------------------------------------------

    async def _recheck(self, feed: GroupFeed, version: int) -> None:
        """Drop the subscribers who lost access, before anything newer goes out."""
        subs = list(feed.subs)
        if subs:
            verdict = await database_sync_to_async(_access_verdict)(
                [(s.sink.user_id, s.group_id) for s in subs],
                {s.sink: s.sink.credential for s in subs},
            )
            await self._apply_verdict(verdict)
        # Only the subscriptions that were checked: one that joined the feed while
        # the verdict was read is checked when it next meets a newer event.
        for sub in subs:
            if not sub.closed:
                sub.verified = max(sub.verified, version)
        feed.access_version = min((sub.verified for sub in feed.subs), default=_NEVER)

    async def _apply_verdict(self, verdict: _Verdict) -> None:
        for sink, code in verdict.closed_sinks.items():
            if sink in self.sinks:
                logger.info(
                    "closing socket of user %s with %s: access ended",
                    sink.user_id,
                    code,
                )
                await self.detach(sink)
                await sink.close_with(code)
        for sink, subs in list(self.sinks.items()):
            for sub in list(subs):
                if (sink.user_id, sub.group_id) in verdict.revoked_pairs:
                    logger.info(
                        "user %s lost access to group %s; ending subscription",
                        sink.user_id,
                        sub.group_id,
                    )
                    await self._drop(sub)
                    await sink.send_text(
                        protocol.unsubscribed_frame(
                            sub.group_id, protocol.REASON_ACCESS_REVOKED
                        )
                    )

    async def _poll_loop(self) -> None:
        interval = gateway_setting("ACCESS_POLL_SECS")
        refreshed = asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(interval)
            try:
                await self._poll()
                now = asyncio.get_running_loop().time()
                if now - refreshed > GROUP_REFRESH_SECS:
                    refreshed = now
                    await self._refresh_groups()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("hub poll failed")

    async def _poll(self) -> None:
        if not self.sinks:
            return
        pairs = [
            (sink.user_id, sub.group_id)
            for sink, subs in self.sinks.items()
            for sub in subs
        ]
        credentials = {sink: sink.credential for sink in self.sinks}
        group_ids = list(self.feeds)
        verdict, heads = await database_sync_to_async(_poll_reads)(
            pairs, credentials, group_ids
        )
        await self._apply_verdict(verdict)
        for unjoined in [feed for feed in self.feeds.values() if not feed.joined]:
            await self._join(unjoined)
        for group_id, (head, version) in heads.items():
            feed = self.feeds.get(group_id)
            if feed is None:
                continue
            if version > feed.access_version:
                feed.queue.put_nowait({"type": _RECHECK, "access": version})
            # Behind a head already seen one poll ago: that publish is not coming.
            if feed.last_seq < feed.polled_head:
                feed.queue.put_nowait({"type": _REPAIR, "seq": feed.polled_head})
            feed.polled_head = head

    async def _refresh_groups(self) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        for feed in list(self.feeds.values()):
            feed.joined = False
            await self._join(feed)


async def _read_log(group_id: int, *, after: int, up_to: int) -> list[Event] | None:
    """The next logged events of a group after seq `after` (up to `up_to`), or None
    when the log no longer holds the one right after `after` (it was pruned)."""
    rows = await database_sync_to_async(activity_selectors.events_after)(
        group_id=group_id, after_seq=after, up_to=up_to, limit=REPLAY_BATCH
    )
    if not rows or rows[0].seq != after + 1:
        return None
    return [Event.of_log(row) for row in rows]


@dataclass
class _Verdict:
    revoked_pairs: set[tuple[int, int]]
    closed_sinks: dict[Any, int]


def _access_verdict(
    pairs: list[tuple[int, int]], credentials: dict[Any, tuple[str, str]]
) -> _Verdict:
    valid = iam_selectors.memberships_still_valid(pairs=pairs)
    user_ids = {sink.user_id for sink in credentials}
    active = iam_selectors.active_user_ids(user_ids=user_ids)
    tokens = iam_selectors.live_token_keys(
        keys=[key for kind, key in credentials.values() if kind == "token"]
    )
    sessions = iam_selectors.live_session_keys(
        keys=[key for kind, key in credentials.values() if kind == "session"]
    )
    closed: dict[Any, int] = {}
    for sink, (kind, key) in credentials.items():
        if sink.user_id not in active:
            closed[sink] = protocol.CLOSE_FORBIDDEN
        elif (kind == "token" and key not in tokens) or (
            kind == "session" and key not in sessions
        ):
            closed[sink] = protocol.CLOSE_UNAUTHENTICATED
    revoked = {pair for pair in pairs if pair not in valid}
    return _Verdict(revoked_pairs=revoked, closed_sinks=closed)


def _poll_reads(
    pairs: list[tuple[int, int]],
    credentials: dict[Any, tuple[str, str]],
    group_ids: list[int],
) -> tuple[_Verdict, dict[int, tuple[int, int]]]:
    return (
        _access_verdict(pairs, credentials),
        activity_selectors.group_heads(group_ids=group_ids),
    )


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


async def get_hub() -> Hub:
    """The hub of the running event loop (one per gateway process), started."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        for stale in [lp for lp in _hubs if lp.is_closed()]:
            del _hubs[stale]
        hub = _hubs[loop] = Hub()
    await hub.start()
    return hub


def running_hubs() -> list[Hub]:
    return list(_hubs.values())
