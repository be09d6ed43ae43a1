"""ASGI entry point of the peer: Django for HTTP, the docs consumer for WebSocket."""

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peers.channels_docs.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.db import database_sync_to_async  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from bench.peers.channels_docs.consumers import ActivityFeedConsumer  # noqa: E402


@database_sync_to_async
def token_user(key: str) -> Any:
    token = Token.objects.select_related("user").filter(key=key).first()
    return token.user if token and token.user.is_active else None


class TokenAuthMiddleware:
    """`Authorization: Token <key>` on the handshake, as the usual recipes do it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        headers = dict(scope.get("headers", ()))
        parts = headers.get(b"authorization", b"").decode("latin-1").split()
        if len(parts) == 2 and parts[0].lower() == "token":
            user = await token_user(parts[1])
            if user is not None:
                scope = dict(scope, user=user)
        return await self.inner(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AuthMiddlewareStack(
            TokenAuthMiddleware(
                URLRouter([path("ws/activities/", ActivityFeedConsumer.as_asgi())])
            )
        ),
    }
)
