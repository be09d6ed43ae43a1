"""Redis going away under a live gateway: writes still commit, sockets miss nothing."""

from typing import Any

import pytest

from tests.e2e.conftest import GatewayFactory
from tests.e2e.harness import (
    Api,
    Provisioner,
    RedisServer,
    api_for,
    event_frame,
    open_socket,
)

pytestmark = pytest.mark.e2e

# Events published while Redis is down come from the event log on the next poll
# (ACCESS_POLL_SECS); this bounds the whole catch-up, with room for a busy machine.
CATCH_UP_SECS = 10.0


async def _edits(
    api: Api, group: int, count: int, label: str
) -> list[tuple[str, dict[str, Any]]]:
    """`count` writes (a create, then edits of it), each asserting its status."""
    made = [("created", await api.create(text=f"{label} 0", workspace_group=group))]
    for n in range(1, count):
        made.append(("updated", await api.patch(made[0][1]["id"], text=f"{label} {n}")))
    return made


async def test_redis_outage_loses_nothing(
    start_gateway: GatewayFactory, private_redis: RedisServer, provision: Provisioner
) -> None:
    """Kill Redis mid-stream, write, restart it, write: every event once, in order."""
    gateway = start_gateway(workers=1, redis_url=private_redis.url)
    world = provision(
        users=["author", "reader"],
        groups=[{"name": "g", "admins": ["author"], "members": ["reader"]}],
    )
    group = world.groups["g"]

    async with (
        open_socket(gateway, token=world.users["reader"].token) as sock,
        api_for(gateway, world.users["author"]) as api,
    ):
        assert await sock.subscribe(group) == 0
        before = await _edits(api, group, 3, "before")
        received = await sock.recv_many(3)

        private_redis.kill()
        during = await _edits(api, group, 3, "during")
        private_redis.start()
        after = await _edits(api, group, 3, "after")

        received += await sock.recv_many(6, timeout=CATCH_UP_SECS)
        await sock.expect_nothing(1.0)

    assert received == [
        event_frame(kind, group, seq, activity)
        for seq, (kind, activity) in enumerate(before + during + after, 1)
    ]
