"""The Origin guard: which pages may open a socket on the user's behalf."""

from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async

from consumers.security import origin_allowed
from iam.models import IAMUser
from tests.consumers.conftest import Opener, session_cookie, token_headers

MakeUser = Callable[..., IAMUser]


@pytest.fixture
def hosts(settings: Any) -> Any:
    settings.ALLOWED_HOSTS = ["testserver", ".example.org"]
    settings.GATEWAY = {**settings.GATEWAY, "WS_ALLOWED_ORIGINS": []}
    return settings


@pytest.mark.parametrize(
    "origin",
    [
        "http://testserver",
        "https://testserver",
        "http://testserver:8000",
        "https://app.example.org",
        "https://example.org",
    ],
)
def test_origin_allowed_accepts_allowed_hosts(hosts: Any, origin: str) -> None:
    assert origin_allowed(origin, by_session=True)
    assert origin_allowed(origin, by_session=False)


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.test",
        "http://testserver.evil.test",
        "http://example.org.evil.test",
        "null",
        "file://",
        "ftp://testserver",
        "testserver",
        "",
    ],
)
def test_origin_allowed_refuses_foreign_origins(hosts: Any, origin: str) -> None:
    assert not origin_allowed(origin, by_session=True)
    assert not origin_allowed(origin, by_session=False)


def test_origin_allowed_without_origin_refuses_only_sessions(hosts: Any) -> None:
    assert origin_allowed(None, by_session=False)
    assert not origin_allowed(None, by_session=True)


def test_origin_allowed_takes_no_wildcard_from_allowed_hosts(hosts: Any) -> None:
    """Regression: with DJANGO_ALLOWED_HOSTS=* (usual behind a proxy) any page of
    any site could open a socket with its visitor's session."""
    hosts.ALLOWED_HOSTS = ["*"]

    assert not origin_allowed("https://evil.example", by_session=True)
    assert not origin_allowed("http://localhost", by_session=True)
    hosts.GATEWAY = {**hosts.GATEWAY, "WS_ALLOWED_ORIGINS": ["https://app.example"]}
    assert origin_allowed("https://app.example", by_session=True)


def test_origin_allowed_accepts_explicit_origins(hosts: Any) -> None:
    hosts.GATEWAY = {
        **hosts.GATEWAY,
        "WS_ALLOWED_ORIGINS": ["chrome-extension://abcdef"],
    }

    assert origin_allowed("chrome-extension://abcdef", by_session=True)
    assert not origin_allowed("chrome-extension://other", by_session=True)


@pytest.mark.django_db(transaction=True)
async def test_connect_from_foreign_origin_with_session_is_refused(
    open_socket: Opener, make_user: MakeUser, hosts: Any
) -> None:
    user = await database_sync_to_async(make_user)()
    cookie = await database_sync_to_async(session_cookie)(user)

    connected, code, _ = await open_socket(
        headers=[(b"cookie", cookie), (b"origin", b"http://evil.test")]
    )

    assert (connected, code) == (False, 403)


@pytest.mark.django_db(transaction=True)
async def test_connect_from_foreign_origin_with_token_is_refused(
    open_socket: Opener, make_user: MakeUser, hosts: Any
) -> None:
    """Tests that a page of another site cannot open a socket even with a token."""
    user = await database_sync_to_async(make_user)()

    connected, code, _ = await open_socket(
        headers=[*token_headers(user), (b"origin", b"http://evil.test")]
    )

    assert (connected, code) == (False, 403)


@pytest.mark.django_db(transaction=True)
async def test_connect_from_foreign_origin_without_credentials_is_refused(
    open_socket: Opener, hosts: Any
) -> None:
    connected, code, _ = await open_socket(headers=[(b"origin", b"http://evil.test")])

    assert (connected, code) == (False, 403)


@pytest.mark.django_db(transaction=True)
async def test_connect_from_allowed_origin_with_token_serves(
    open_socket: Opener, make_user: MakeUser, hosts: Any
) -> None:
    user = await database_sync_to_async(make_user)()

    connected, _, socket = await open_socket(
        headers=[*token_headers(user), (b"origin", b"https://app.example.org")]
    )

    assert connected
    await socket.ping_pong()
