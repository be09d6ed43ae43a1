"""The docs' consumer: joins its groups with its own channel, send_json per event."""

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from bench.peers.channels_docs.signals import LAYER_ALIAS, group_name
from iam.models import Membership

logger = logging.getLogger(__name__)

# The gateway's close code for a missing credential, so the load client reads both.
CLOSE_UNAUTHENTICATED = 4401


@database_sync_to_async
def is_member(user_id: int, group_id: int) -> bool:
    return Membership.objects.filter(user_id=user_id, group_id=group_id).exists()


class ActivityFeedConsumer(AsyncJsonWebsocketConsumer):
    """Subscribes to workspace groups on request; forwards each event as JSON."""

    channel_layer_alias = LAYER_ALIAS

    async def connect(self) -> None:
        self.groups_joined: set[int] = set()
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(CLOSE_UNAUTHENTICATED)

    async def disconnect(self, code: int) -> None:
        for group_id in self.groups_joined:
            await self.channel_layer.group_discard(
                group_name(group_id), self.channel_name
            )

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
            return
        group_id = content.get("workspace_group") if kind else None
        if kind != "subscribe" or not isinstance(group_id, int):
            await self.send_json({"type": "error", "code": "bad_request"})
            return
        if not await is_member(self.scope["user"].pk, group_id):
            await self.send_json({"type": "error", "code": "not_found"})
            return
        await self.channel_layer.group_add(group_name(group_id), self.channel_name)
        self.groups_joined.add(group_id)
        await self.send_json({"type": "subscribed", "workspace_group": group_id})

    async def activity_event(self, event: dict[str, Any]) -> None:
        await self.send_json(event["frame"])
