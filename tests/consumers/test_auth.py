"""Who may open /ws/activities/: a token on the handshake, or the session cookie."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from iam.models import IAMUser
from tests.consumers.conftest import Opener, Socket, session_cookie, token_headers

pytestmark = pytest.mark.django_db(transaction=True)

MakeUser = Callable[..., IAMUser]


async def assert_closed_unauthenticated(socket: Socket) -> None:
    assert await socket.receive_output() == {"type": "websocket.close", "code": 4401}
    assert await socket.nothing()


async def test_connect_without_credentials_accepts_then_closes_4401(
    open_socket: Opener,
) -> None:
    """Tests that a browser can read why: accepted, then closed, nothing sent."""
    connected, _, socket = await open_socket()

    assert connected
    await assert_closed_unauthenticated(socket)


async def test_connect_with_unknown_token_closes_4401(
    open_socket: Opener, make_user: MakeUser
) -> None:
    connected, _, socket = await open_socket(
        headers=[(b"authorization", b"Token 0123456789abcdef0123456789abcdef01234567")]
    )

    assert connected
    await assert_closed_unauthenticated(socket)


async def test_connect_with_malformed_authorization_closes_4401(
    open_socket: Opener, make_user: MakeUser
) -> None:
    user = await database_sync_to_async(make_user)()
    key = user.auth_token.key.encode()

    for value in (b"Bearer " + key, b"Token", b"Token " + key + b" extra", key):
        connected, _, socket = await open_socket(headers=[(b"authorization", value)])
        assert connected, value
        await assert_closed_unauthenticated(socket)


async def test_connect_with_token_of_inactive_user_closes_4401(
    open_socket: Opener, make_user: MakeUser
) -> None:
    user = await database_sync_to_async(make_user)(is_active=False)

    connected, _, socket = await open_socket(headers=token_headers(user))

    assert connected
    await assert_closed_unauthenticated(socket)


async def test_connect_with_token_and_no_origin_serves(
    token_socket: Callable[[IAMUser], Awaitable[Socket]], make_user: MakeUser
) -> None:
    user = await database_sync_to_async(make_user)()

    socket = await token_socket(user)

    await socket.ping_pong()


async def test_connect_with_session_and_allowed_origin_serves(
    open_socket: Opener, make_user: MakeUser, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["testserver"]
    user = await database_sync_to_async(make_user)()
    cookie = await database_sync_to_async(session_cookie)(user)

    connected, _, socket = await open_socket(
        headers=[(b"cookie", cookie), (b"origin", b"http://testserver")]
    )

    assert connected
    await socket.ping_pong()


async def test_connect_with_session_and_no_origin_is_refused(
    open_socket: Opener, make_user: MakeUser
) -> None:
    """Tests that a cookie alone, with no page to vouch for it, gets no socket."""
    user = await database_sync_to_async(make_user)()
    cookie = await database_sync_to_async(session_cookie)(user)

    connected, _, _ = await open_socket(headers=[(b"cookie", cookie)])

    assert connected is False


async def test_connect_with_stale_session_closes_4401(
    open_socket: Opener, make_user: MakeUser, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["testserver"]

    connected, _, socket = await open_socket(
        headers=[
            (b"cookie", b"sessionid=doesnotexist0000000000000000000"),
            (b"origin", b"http://testserver"),
        ]
    )

    assert connected
    await assert_closed_unauthenticated(socket)


async def test_connect_prefers_token_over_session(
    open_socket: Opener, make_user: MakeUser, settings: Any
) -> None:
    """Tests that a bad token is not rescued by a good cookie on the same handshake."""
    settings.ALLOWED_HOSTS = ["testserver"]
    user = await database_sync_to_async(make_user)()
    cookie = await database_sync_to_async(session_cookie)(user)

    connected, _, socket = await open_socket(
        headers=[
            (b"cookie", cookie),
            (b"origin", b"http://testserver"),
            (b"authorization", b"Token not-a-key"),
        ]
    )

    assert connected
    await assert_closed_unauthenticated(socket)


async def test_logout_closes_the_session_socket_4401_within_a_second(
    open_socket: Opener, make_user: MakeUser, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["testserver"]
    user = await database_sync_to_async(make_user)()
    browser = Client()
    await database_sync_to_async(browser.force_login)(user)
    cookie = f"sessionid={browser.cookies['sessionid'].value}".encode()
    connected, _, socket = await open_socket(
        headers=[(b"cookie", cookie), (b"origin", b"http://testserver")]
    )
    assert connected
    await socket.ping_pong()

    await database_sync_to_async(browser.logout)()

    assert await socket.receive_output(timeout=1.0) == {
        "type": "websocket.close",
        "code": 4401,
    }


async def test_token_socket_survives_the_users_session_logout(
    token_socket: Callable[[IAMUser], Awaitable[Socket]], make_user: MakeUser
) -> None:
    """Tests that logging out a browser does not cut off the user's programs."""
    user = await database_sync_to_async(make_user)()
    browser = Client()
    await database_sync_to_async(browser.force_login)(user)
    socket = await token_socket(user)

    await database_sync_to_async(browser.logout)()

    assert await socket.nothing(timeout=1.2)
    await socket.ping_pong()
