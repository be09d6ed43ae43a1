"""Events over the network: REST writes on real workers reach exactly the members."""

import asyncio

import pytest

from tests.e2e.harness import (
    Gateway,
    Provisioner,
    Socket,
    api_for,
    event_frame,
    open_socket,
)

pytestmark = pytest.mark.e2e

# Long enough for a stray event to cross Redis and a worker; short enough to repeat.
QUIET_SECS = 1.0


async def _quiet(*sockets: Socket) -> None:
    await asyncio.gather(*(sock.expect_nothing(QUIET_SECS) for sock in sockets))


async def test_edit_reaches_member_socket_only(
    shared_gateway: Gateway, provision: Provisioner
) -> None:
    """Create, edit, move and delete each reach the group's members and nobody else."""
    world = provision(
        users=["a", "b", "c", "admin"],
        groups=[
            {"name": "g1", "admins": ["admin"], "members": ["a"]},
            {"name": "g2", "admins": ["admin"], "members": ["b"]},
        ],
    )
    a, b, c, admin = (world.users[n] for n in ("a", "b", "c", "admin"))
    g1, g2 = world.groups["g1"], world.groups["g2"]
    gw = shared_gateway

    async with (
        open_socket(gw, token=a.token) as sa,
        open_socket(gw, token=b.token) as sb,
        open_socket(gw, token=c.token) as sc,
        api_for(gw, a) as api_a,
        api_for(gw, admin) as api_admin,
    ):
        seq_a = await sa.subscribe(g1)
        seq_b = await sb.subscribe(g2)
        await sc.send({"type": "subscribe", "workspace_group": g1})
        refused = await sc.recv()
        assert refused["type"] == "error"
        assert refused["code"] == "not_found"
        assert set(refused) == {"type", "code", "detail"}

        # Create.
        created = await api_a.create(text="first", workspace_group=g1)
        assert created["workspace_group"] == g1
        assert await sa.recv() == event_frame("created", g1, seq_a + 1, created)
        await _quiet(sa, sb, sc)

        # Edit.
        updated = await api_a.patch(created["id"], text="first, edited")
        assert updated["text"] == "first, edited"
        assert await sa.recv() == event_frame("updated", g1, seq_a + 2, updated)
        await _quiet(sa, sb, sc)

        # Move from g1 to g2 by an admin of both: g1 loses it, g2 gains it.
        second = await api_a.create(text="second", workspace_group=g1)
        assert await sa.recv() == event_frame("created", g1, seq_a + 3, second)
        moved = await api_admin.patch(second["id"], workspace_group=g2)
        assert moved["workspace_group"] == g2
        # g1 is told what left as its members last saw it: the new state (group,
        # text) belongs to g2 alone.
        assert await sa.recv() == event_frame("removed", g1, seq_a + 4, second)
        assert await sb.recv() == event_frame("created", g2, seq_b + 1, moved)
        await _quiet(sa, sb, sc)

        # Soft delete: the event carries the row as a GET reads it afterwards.
        await api_a.delete(created["id"])
        removed = await sa.recv()
        deleted = await api_a.get(created["id"])
        assert deleted["is_active"] is False
        assert deleted["deleted_by"] == a.username
        assert removed == event_frame("removed", g1, seq_a + 5, deleted)
        await _quiet(sa, sb, sc)
