"""The /ws/activities/ consumer: authenticates, validates frames, delegates to the hub.

A socket holds many group subscriptions. Live events never pass through this class:
the process's hub writes them straight to the socket, so the consumer only handles
what the client sends (subscribe, unsubscribe, ping) and the socket's lifetime.
"""

import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from activities.stream import stream_admission
from consumers import protocol
from consumers.hub import Hub, get_hub
from consumers.transport import (
    frame_writer_probe,
    innermost_send,
    protocol_close_probe,
    queued_bytes_probe,
)
from gateway.conf import gateway_setting

logger = logging.getLogger(__name__)

# Enough for a wall of dashboards; a socket asking for more is misbehaving.
MAX_SUBSCRIPTIONS_PER_SOCKET = 200


class RateLimiter:
    """A token bucket over client frames, with a count of frames refused in a row."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()
        self.refused_in_a_row = 0

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.refused_in_a_row = 0
            return True
        self.refused_in_a_row += 1
        return False


class ActivityConsumer(AsyncWebsocketConsumer):
    """One client socket: many group subscriptions, fed by the process hub."""

    # No per-socket channel-layer channel: the hub owns the process's only one.
    channel_layer_alias = "hub-only"

    user_id: int
    credential: tuple[str, str]
    hub: Hub | None = None
    closed = False
    fast_write: Callable[[bytes], int] | None = None
    _queued: Callable[[], int] | None = None
    _buffer_limit = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # A handler that raised ends the consumer without disconnect(); the hub
            # must forget the socket all the same, or it would keep serving it.
            if self.hub is not None:
                with contextlib.suppress(Exception):
                    await self.hub.detach(self)

    async def connect(self) -> None:
        user = self.scope.get("user")
        credential = self.scope.get("credential")
        await self.accept()
        if user is None or not user.is_authenticated or not credential:
            logger.info("socket closed: not authenticated")
            await self.close_with(protocol.CLOSE_UNAUTHENTICATED)
            return
        self.user_id = user.pk
        self.credential = credential
        self.limiter = RateLimiter(
            gateway_setting("WS_RATE_PER_SEC"), gateway_setting("WS_RATE_BURST")
        )
        self._send_frame = innermost_send(self.base_send)
        self.fast_write = frame_writer_probe(self._send_frame)
        self._close_frame = protocol_close_probe(self._send_frame)
        self._queued = queued_bytes_probe(self._send_frame)
        self._buffer_limit = gateway_setting("SOCKET_BUFFER_LIMIT_BYTES")
        self.hub = await get_hub()
        self.hub.attach(self)
        logger.info("socket open: user %s by %s", self.user_id, credential[0])

    async def disconnect(self, code: int) -> None:
        self.closed = True
        if self.hub is not None:
            await self.hub.detach(self)
            logger.info("socket closed: user %s, code %s", self.user_id, code)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        if self.hub is None or self.closed:
            return
        try:
            await self._handle(text_data, bytes_data)
        except Exception:
            # A bug must cost this socket, not the worker's log or its other sockets.
            logger.exception("socket of user %s: a frame failed; closing", self.user_id)
            await self.close_with(protocol.CLOSE_INTERNAL_ERROR)

    async def _handle(self, text_data: str | None, bytes_data: bytes | None) -> None:
        assert self.hub is not None
        size = (
            len(bytes_data)
            if bytes_data is not None
            else len((text_data or "").encode())
        )
        if size > protocol.MAX_FRAME_BYTES:
            logger.warning(
                "socket of user %s sent %s bytes; closing", self.user_id, size
            )
            await self.close_with(protocol.CLOSE_TOO_BIG)
            return
        if not self.limiter.allow():
            if self.limiter.refused_in_a_row == 1:
                await self.send_text(
                    protocol.error_frame(
                        protocol.ERROR_RATE_LIMITED, "Too many frames; slow down."
                    )
                )
            elif self.limiter.refused_in_a_row > self.limiter.burst:
                logger.warning("socket of user %s kept flooding; closing", self.user_id)
                await self.close_with(protocol.CLOSE_RATE_LIMITED)
            return
        if text_data is None:
            await self._bad_request("Frames must be JSON text, not binary.")
            return
        try:
            command = protocol.parse_client_frame(text_data)
        except protocol.ProtocolError as exc:
            await self._bad_request(str(exc))
            return
        if isinstance(command, protocol.Ping):
            await self.send_text(protocol.PONG_FRAME)
        elif isinstance(command, protocol.Subscribe):
            await self._subscribe(command)
        else:
            await self._unsubscribe(command)

    async def _subscribe(self, command: protocol.Subscribe) -> None:
        assert self.hub is not None
        group_id = command.workspace_group
        already = self.hub.subscription(self, group_id) is not None
        if (
            not already
            and len(self.hub.sinks.get(self, ())) >= MAX_SUBSCRIPTIONS_PER_SOCKET
        ):
            await self._bad_request(
                f"At most {MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions per socket."
            )
            return
        admission = await database_sync_to_async(stream_admission)(
            user_id=self.user_id, group_id=group_id
        )
        if admission is None:
            logger.warning(
                "user %s refused group %s: not a member", self.user_id, group_id
            )
            await self.send_text(
                protocol.error_frame(
                    protocol.ERROR_NOT_FOUND, "No such workspace group."
                )
            )
            return
        if command.since is not None and command.since > admission.head:
            await self._bad_request(
                f"'since' {command.since} is ahead of group {group_id}'s "
                f"latest seq {admission.head}."
            )
            return
        await self.hub.subscribe(
            self,
            group_id=group_id,
            admission=admission,
            since=command.since,
            types=command.activity_types,
        )

    async def _unsubscribe(self, command: protocol.Unsubscribe) -> None:
        assert self.hub is not None
        if not await self.hub.unsubscribe(self, command.workspace_group):
            await self.send_text(
                protocol.error_frame(
                    protocol.ERROR_NOT_FOUND, "Not subscribed to that group."
                )
            )
            return
        await self.send_text(
            protocol.unsubscribed_frame(command.workspace_group, protocol.REASON_CLIENT)
        )

    async def _bad_request(self, detail: str) -> None:
        await self.send_text(protocol.error_frame(protocol.ERROR_BAD_REQUEST, detail))

    # -- the hub's side (consumers.hub.Sink) ---------------------------------------

    async def send_text(self, text: str) -> None:
        if self.closed:
            return
        await self._send_frame({"type": "websocket.send", "text": text})
        queued = self._queued() if self._queued is not None else 0
        if queued > self._buffer_limit:
            logger.warning(
                "socket of user %s is not reading (%s bytes queued); closing",
                self.user_id,
                queued,
            )
            await self.close_with(protocol.CLOSE_RESYNC)

    async def close_with(self, code: int) -> None:
        if self.closed:
            return
        self.closed = True
        # Served no more from now on, whether or not the peer ever answers the close.
        if self.hub is not None:
            await self.hub.detach(self)
        # 1000 and 3000-4999 go through ASGI; the RFC's own codes (1009, 1012) need
        # the server's close frame when it has one.
        reserved = code != 1000 and not 3000 <= code <= 4999
        if reserved and getattr(self, "_close_frame", None) and self._close_frame(code):
            return
        await self.close(code)
