"""Socket routes: the activity socket, and a refusal for every other path."""

import logging

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import re_path

from consumers.activity import ActivityConsumer

logger = logging.getLogger(__name__)


class UnknownPathConsumer(AsyncWebsocketConsumer):
    """Refuses a handshake on a path that serves no socket (HTTP 403 to the client).

    Without it the router raises, and the server answers 500 with a traceback in
    the log for anyone who knocks on the wrong path.
    """

    async def connect(self) -> None:
        logger.warning("socket refused: no socket at %r", self.scope.get("path"))
        await self.close()


websocket_urlpatterns = [
    # The slash is optional: clients often drop it, and there is one socket.
    re_path(r"^ws/activities/?$", ActivityConsumer.as_asgi()),
    re_path(r"", UnknownPathConsumer.as_asgi()),
]
