"""The profile-picture mixin the reference endpoint describes."""

import logging
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

logger = logging.getLogger(__name__)


def absolute_media_url(path: str) -> str:
    """Prefix a media URL with PUBLIC_BASE_URL when set, so REST and sockets agree."""
    if settings.PUBLIC_BASE_URL and path.startswith("/"):
        return settings.PUBLIC_BASE_URL + path
    return path


class ProfilePictureMixin(serializers.Serializer):  # type: ignore[type-arg]
    """Adds `profile_picture`: the URL of the user's first detail picture, or null.

    The value is a plain string so that the same serialized user can go over REST
    and into a WebSocket frame. It is null when the user has no detail, the detail
    has no picture, or the file's URL cannot be built; it never raises.
    """

    profile_picture = serializers.SerializerMethodField()

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_profile_picture(self, user: Any) -> str | None:
        try:
            # Iterating the related manager (not .first()) reuses a prefetch.
            details = list(user.details.all())
            picture = details[0].profile_picture if details else None
            if not picture:
                return None
            return absolute_media_url(picture.url)
        except Exception:  # a broken storage must not break a feed
            logger.warning(
                "profile picture of user %s unreadable", user.pk, exc_info=True
            )
            return None
