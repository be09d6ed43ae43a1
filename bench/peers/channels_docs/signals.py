"""The docs' publisher: a post_save receiver that group_sends the serialized row."""

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db.models.signals import post_save
from django.dispatch import receiver

from activities.models import UserActivity
from activities.serializers import UserActivitySerializer

LAYER_ALIAS = "peer"


def group_name(group_id: int) -> str:
    return f"workspace.{int(group_id)}"


@receiver(post_save, sender=UserActivity)
def activity_saved(
    sender: type, instance: UserActivity, created: bool, **_: Any
) -> None:
    if instance.workspace_group_id is None:
        return
    layer = get_channel_layer(LAYER_ALIAS)
    frame = {
        "type": "activity.created" if created else "activity.updated",
        "workspace_group": instance.workspace_group_id,
        "activity": UserActivitySerializer(instance).data,
    }
    async_to_sync(layer.group_send)(
        group_name(instance.workspace_group_id),
        {"type": "activity.event", "frame": frame},
    )
