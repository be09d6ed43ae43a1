"""Who is on the other end of a socket: a token on the handshake, or the session.

Programs send `Authorization: Token <key>` on the handshake; browsers bring their
session cookie. The scope gets `user` and `credential` (("token", key) or
("session", key)) so the hub can notice when that credential is withdrawn.
"""

import logging
from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser

from iam.selectors import token_user

logger = logging.getLogger(__name__)


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for key, value in headers:
        if key.lower() == name:
            try:
                return value.decode("latin-1")
            except UnicodeDecodeError:
                return None
    return None


def _token_key(scope: dict[str, Any]) -> str | None:
    header = _header(scope, b"authorization")
    if not header:
        return None
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != "token":
        return None
    return parts[1]


_token_user = database_sync_to_async(token_user)


class TokenAuthMiddleware:
    """Authenticates by the handshake's API token if any, else keeps the session."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        scope = dict(scope)
        key = _token_key(scope)
        if key is not None:
            user = await _token_user(key)
            scope["user"] = user or AnonymousUser()
            scope["credential"] = ("token", key) if user else None
            if user is None:
                logger.warning("socket refused: unknown or inactive token")
        else:
            user = scope.get("user")  # resolved by AuthMiddleware around us
            session = scope.get("session")
            session_key = getattr(session, "session_key", None)
            authenticated = bool(user is not None and user.is_authenticated)
            scope["credential"] = (
                ("session", session_key) if authenticated and session_key else None
            )
        return await self.inner(scope, receive, send)


def GatewayAuthStack(inner: Any) -> Any:  # noqa: N802 (reads like Channels' stacks)
    """Session cookie, then session user, then token: the socket's identity."""
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))
