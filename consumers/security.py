"""Which pages may open a socket: the handshake's Origin against the allowed hosts.

A browser always names the page's origin, and a page of another site must not ride
on the user's session cookie, so a named origin must be one of ours. A program sends
no Origin; it is let in with a token, and refused with a session cookie, because a
cookie alone proves nothing about where the handshake came from. A handshake with
neither passes through, so the consumer can close it with 4401, which a client can
read, rather than a bare handshake refusal.
"""

import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import validate_host

from gateway.conf import gateway_setting

logger = logging.getLogger(__name__)


def _origin(scope: dict[str, Any]) -> str | None:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for key, value in headers:
        if key.lower() == b"origin":
            return value.decode("latin-1")
    return None


def origin_allowed(origin: str | None, *, by_session: bool) -> bool:
    """Whether a handshake with this Origin header (None: absent) may proceed.

    `by_session` says the handshake authenticated with the session cookie.
    """
    if origin is None:
        return not by_session
    explicit = gateway_setting("WS_ALLOWED_ORIGINS")
    if origin in explicit:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return False
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    # "*" lets any Host header through (common behind a proxy); as an Origin rule it
    # would let every site's pages ride on a user's session. Such deployments name
    # their pages in WS_ALLOWED_ORIGINS.
    patterns = [pattern for pattern in settings.ALLOWED_HOSTS if pattern != "*"]
    return validate_host(host, patterns)


class OriginGuard:
    """Refuses (HTTP 403 at the handshake) a socket whose origin is not allowed."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket":
            credential = scope.get("credential")
            by_session = bool(credential and credential[0] == "session")
            origin = _origin(scope)
            if not origin_allowed(origin, by_session=by_session):
                logger.warning("socket refused: origin %r not allowed", origin)
                await receive()  # the websocket.connect message
                await send({"type": "websocket.close", "code": 403})
                return None
        return await self.inner(scope, receive, send)
