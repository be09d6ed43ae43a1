"""Liveness and readiness probes."""

import asyncio
import logging

from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)

# A probe must answer quickly even when a dependency hangs.
READINESS_TIMEOUT_SECS = 2.0


def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers."""
    return JsonResponse({"status": "ok"})


async def readyz(request: HttpRequest) -> JsonResponse:
    """The database and the channel layer both answer."""
    checks = {
        "database": await _check_database(),
        "channel_layer": await _check_layer(),
    }
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


async def _check_database() -> str:
    from asgiref.sync import sync_to_async

    def ping() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    try:
        await asyncio.wait_for(sync_to_async(ping)(), READINESS_TIMEOUT_SECS)
    except Exception as exc:
        logger.warning("readiness: database unavailable: %s", exc)
        return "unavailable"
    return "ok"


# One probe channel per layer and event loop, reused: on the Redis pub/sub layer
# every new channel is a subscription that lives as long as the process. Two probes
# at once share it safely: each sends one message and takes one.
_probe_channels: dict[tuple[int, int], str] = {}


async def _check_layer() -> str:
    layer = get_channel_layer()
    if layer is None:
        return "unavailable"
    key = (id(layer), id(asyncio.get_running_loop()))
    try:
        channel = _probe_channels.get(key)
        if channel is None:
            channel = str(
                await asyncio.wait_for(
                    layer.new_channel("readiness."), READINESS_TIMEOUT_SECS
                )
            )
            _probe_channels[key] = channel
        await asyncio.wait_for(
            layer.send(channel, {"type": "readiness.ping"}), READINESS_TIMEOUT_SECS
        )
        await asyncio.wait_for(layer.receive(channel), READINESS_TIMEOUT_SECS)
    except Exception as exc:
        # A timed-out receive unsubscribes the channel: start afresh next time.
        _probe_channels.pop(key, None)
        logger.warning("readiness: channel layer unavailable: %s", exc)
        return "unavailable"
    return "ok"
