"""ASGI entry point: Django for HTTP, the activity socket for WebSocket.

The socket stack reads outside in: who is calling (session or token), whether the
page it comes from is allowed, then the route.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from consumers.auth import GatewayAuthStack  # noqa: E402
from consumers.routing import websocket_urlpatterns  # noqa: E402
from consumers.security import OriginGuard  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": GatewayAuthStack(OriginGuard(URLRouter(websocket_urlpatterns))),
    }
)
