"""One accessor for the gateway's own knobs (the `GATEWAY` dict in settings)."""

from typing import Any

from django.conf import settings


def gateway_setting(name: str) -> Any:
    """Return the gateway knob `name`; an unknown name is a programming error."""
    return settings.GATEWAY[name]
