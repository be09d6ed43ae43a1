"""Fixtures for driving /ws/activities/ through the real ASGI stack.

Sockets go through gateway.asgi.application, so session, token and Origin
middleware all run. Every communicator a test opens is disconnected afterwards,
and the event loop's hub is stopped, so no task outlives the test's loop.
"""

import asyncio
import json
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client
from rest_framework.utils.encoders import JSONEncoder

from activities import services as activity_services
from activities.models import UserActivity
from activities.types import ActivityType
from consumers import hub as hub_module
from iam.models import IAMUser, WorkspaceGroup

with warnings.catch_warnings():
    # WhiteNoise warns when STATIC_ROOT has not been collected yet; the socket
    # tests never serve static files.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    from gateway.asgi import application

PATH = "/ws/activities/"
# A bound on every wait for a frame: long enough for a slow CI machine, short
# enough that a missing frame fails the test quickly.
FRAME_TIMEOUT_SECS = 3.0


def token_headers(user: IAMUser) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Token {user.auth_token.key}".encode())]


def session_cookie(user: IAMUser) -> bytes:
    """Log the user in through Django and return the Cookie header value."""
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


class Socket:
    """A WebsocketCommunicator with JSON helpers and bounded waits."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator

    async def send(self, frame: Any) -> None:
        await self.communicator.send_to(text_data=json.dumps(frame))

    async def send_text(self, text: str) -> None:
        await self.communicator.send_to(text_data=text)

    async def send_bytes(self, data: bytes) -> None:
        await self.communicator.send_to(bytes_data=data)

    async def receive(self, timeout: float = FRAME_TIMEOUT_SECS) -> dict[str, Any]:
        return json.loads(await self.communicator.receive_from(timeout=timeout))

    async def receive_output(
        self, timeout: float = FRAME_TIMEOUT_SECS
    ) -> dict[str, Any]:
        return await self.communicator.receive_output(timeout=timeout)

    async def nothing(self, timeout: float = 0.3) -> bool:
        return await self.communicator.receive_nothing(timeout=timeout)

    async def subscribe(self, group_id: int, **extra: Any) -> dict[str, Any]:
        await self.send({"type": "subscribe", "workspace_group": group_id, **extra})
        return await self.receive()

    async def ping_pong(self) -> None:
        """Assert the socket is still open and serving: ping gets pong."""
        await self.send({"type": "ping"})
        assert await self.receive() == {"type": "pong"}


Opener = Callable[..., Awaitable[tuple[bool, Any, Socket]]]


def revoked(group: WorkspaceGroup) -> dict[str, Any]:
    """The frame that ends a subscription whose access was taken away."""
    return {
        "type": "unsubscribed",
        "workspace_group": group.pk,
        "reason": "access_revoked",
    }


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    # Users are made per test; the production hasher would dominate the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
async def open_socket() -> AsyncIterator[Opener]:
    """Open sockets on the real stack; all are disconnected and the hub stopped."""
    opened: list[WebsocketCommunicator] = []

    async def open_(
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> tuple[bool, Any, Socket]:
        communicator = WebsocketCommunicator(application, PATH, headers=headers or [])
        opened.append(communicator)
        connected, detail = await communicator.connect(timeout=FRAME_TIMEOUT_SECS)
        return connected, detail, Socket(communicator)

    yield open_

    for communicator in opened:
        try:
            await communicator.disconnect(timeout=FRAME_TIMEOUT_SECS)
        except Exception:  # noqa: S110 (already closed by the server)
            pass
    loop = asyncio.get_running_loop()
    hub = hub_module._hubs.pop(loop, None)
    if hub is not None:
        await hub.stop()
        await asyncio.sleep(0)
    layer = get_channel_layer()
    if layer is not None and hasattr(layer, "flush"):
        await layer.flush()
    # The ORM ran in asgiref's one sync thread, whose connection (kept for
    # CONN_MAX_AGE) would otherwise hold the test database open past the session.
    await database_sync_to_async(connections.close_all)()


@pytest.fixture
def token_socket(open_socket: Opener) -> Callable[[IAMUser], Awaitable[Socket]]:
    """Open a token-authenticated socket for a user and assert it was accepted."""

    async def open_(user: IAMUser) -> Socket:
        connected, _, socket = await open_socket(headers=token_headers(user))
        assert connected
        return socket

    return open_


@database_sync_to_async
def create_activity(user: IAMUser, group: WorkspaceGroup, **data: Any) -> UserActivity:
    data.setdefault("text", "did a thing")
    data.setdefault("activity_type", ActivityType.USER_LOGIN)
    return activity_services.activity_create(
        actor=user, data={"workspace_group": group, **data}
    )


@database_sync_to_async
def update_activity(user: IAMUser, activity_id: int, **data: Any) -> UserActivity:
    return activity_services.activity_update(
        actor=user, activity_id=activity_id, data=data
    )


@database_sync_to_async
def delete_activity(user: IAMUser, activity_id: int) -> UserActivity:
    return activity_services.activity_delete(actor=user, activity_id=activity_id)


@database_sync_to_async
def representation(activity_id: int) -> dict[str, Any]:
    """The activity's JSON as REST serves it, read fresh from the database."""
    activity = UserActivity.objects.select_related("user").get(pk=activity_id)
    data = activity_services.activity_representation(activity)
    return json.loads(json.dumps(data, cls=JSONEncoder))


@database_sync_to_async
def group_head(group: WorkspaceGroup) -> int:
    return WorkspaceGroup.objects.values_list("event_seq", flat=True).get(pk=group.pk)
