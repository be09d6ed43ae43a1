"""ASGI entry point: Django for HTTP, the activity socket for WebSocket.

The socket stack reads outside in: who is calling (session or token), whether the
page it comes from is allowed, then the route.
"""

import asyncio
import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from activities.events import bind_server_loop  # noqa: E402
from consumers.auth import GatewayAuthStack  # noqa: E402
from consumers.routing import websocket_urlpatterns  # noqa: E402
from consumers.security import OriginGuard  # noqa: E402
from gateway import lifecycle  # noqa: E402


class ServerLoopBinding:
    """Tells the publisher which event loop serves this process (see events), and
    turns new HTTP requests away while the process drains for a restart."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        bind_server_loop(asyncio.get_running_loop())
        if scope["type"] == "http" and lifecycle.draining.is_set():
            # Nothing has been done yet, so the client may safely retry elsewhere.
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"connection", b"close"),
                        (b"retry-after", b"1"),
                    ],
                }
            )
            await send(
                {"type": "http.response.body", "body": b'{"detail":"restarting"}'}
            )
            return None
        if scope["type"] != "http":
            return await self.inner(scope, receive, send)
        lifecycle.requests_in_flight.count += 1
        try:
            return await self.inner(scope, receive, send)
        finally:
            lifecycle.requests_in_flight.count -= 1


application = ServerLoopBinding(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": GatewayAuthStack(
                OriginGuard(URLRouter(websocket_urlpatterns))
            ),
        }
    )
)
