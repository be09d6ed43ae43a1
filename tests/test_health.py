"""Liveness and readiness probes."""

import asyncio
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer
from django.test import Client

from gateway import health


class BrokenLayer(InMemoryChannelLayer):
    """A channel layer whose broker refuses every call."""

    async def new_channel(self, prefix: str = "specific.") -> str:
        raise ConnectionError("broker unreachable")


class SilentLayer(InMemoryChannelLayer):
    """A channel layer that accepts messages and never delivers them."""

    async def receive(self, channel: str) -> dict[str, Any]:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


def test_healthz_answers_without_dependencies() -> None:
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_200_when_database_and_layer_answer(db: Any) -> None:
    """Runs against whichever database and layer the suite is configured with."""
    response = Client().get("/readyz")

    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "channel_layer": "ok"},
    }
    assert response.status_code == 200


def test_readyz_is_503_when_the_layer_fails(db: Any, settings: Any) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.BrokenLayer"}}

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "channel_layer": "unavailable"},
    }


def test_readyz_is_503_when_the_layer_hangs(
    db: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.SilentLayer"}}
    monkeypatch.setattr(health, "READINESS_TIMEOUT_SECS", 0.2)

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "channel_layer": "unavailable",
    }


def test_readyz_is_503_when_the_database_refuses() -> None:
    """Without the `db` fixture the test runner refuses every query, which is what
    a database that cannot be reached looks like to the probe."""
    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unavailable"
    assert response.json()["status"] == "unavailable"


async def test_readiness_probes_reuse_one_layer_channel(db: Any) -> None:
    """Regression: each probe used to open a new channel, and on the Redis pub/sub
    layer every channel is a subscription kept for the life of the process, so a
    probe every few seconds grew the worker without bound."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()

    # The pub/sub layer keeps its channels per event loop; others keep none.
    def open_channels() -> int:
        return len(layer._get_layer().channels) if hasattr(layer, "_get_layer") else 0

    first = await health._check_layer()
    probes_after_one = set(health._probe_channels.values())
    open_after_one = open_channels()

    results = [await health._check_layer() for _ in range(5)]

    assert first == "ok"
    assert results == ["ok"] * 5
    assert set(health._probe_channels.values()) == probes_after_one
    assert open_channels() == open_after_one
