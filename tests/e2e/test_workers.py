"""Several workers behind one port: shared events, a killed or a stopped worker."""

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.e2e.conftest import GatewayFactory
from tests.e2e.harness import (
    Api,
    Gateway,
    Provisioner,
    Socket,
    World,
    api_for,
    close_code,
    event_frame,
    open_socket,
    process_alive,
    wait_until,
)

pytestmark = pytest.mark.e2e

# The kernel hands each connection to whichever worker accepts first; this many
# attempts put at least one socket on every worker unless one never accepts.
MAX_SOCKETS = 40
# A worker told to stop closes its sockets and exits within its grace period (5 s).
STOP_WAIT_SECS = 10.0


@contextlib.asynccontextmanager
async def sockets_on_every_worker(
    gateway: Gateway, tokens: list[str], *, at_least: int, per_worker: int = 1
) -> AsyncIterator[list[tuple[Socket, int]]]:
    """Open sockets (cycling through `tokens`) until every worker holds `per_worker`.

    Yields (socket, worker pid) pairs; at least `at_least` sockets.
    """
    async with contextlib.AsyncExitStack() as stack:
        opened: list[tuple[Socket, int]] = []
        workers = set(gateway.worker_pids())
        for n in range(MAX_SOCKETS):
            sock = await stack.enter_async_context(
                open_socket(gateway, token=tokens[n % len(tokens)])
            )
            await sock.ping()
            opened.append((sock, gateway.worker_of(sock.local_port)))
            counts = [sum(1 for _, pid in opened if pid == w) for w in workers]
            if len(opened) >= at_least and min(counts) >= per_worker:
                break
        held = {pid for _, pid in opened}
        assert held == workers, f"workers {workers}, sockets only on {held}"
        yield opened


async def _edit(
    api: Api, group: int, n: int, previous: dict[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    if previous is None or n % 2 == 0:
        return "created", await api.create(text=f"edit {n}", workspace_group=group)
    return "updated", await api.patch(previous["id"], text=f"edit {n}")


def _group_world(provision: Provisioner, watchers: int) -> World:
    names = [f"w{n}" for n in range(watchers)]
    return provision(
        users=["author", *names],
        groups=[{"name": "g", "admins": ["author"], "members": names}],
    )


async def test_two_workers_share_events(
    shared_gateway: Gateway, provision: Provisioner
) -> None:
    """Edits landing on either worker reach every socket on both, exactly once."""
    world = _group_world(provision, 3)
    group = world.groups["g"]
    tokens = [u.token for name, u in world.users.items() if name != "author"]

    async with (
        sockets_on_every_worker(
            shared_gateway, tokens, at_least=10, per_worker=2
        ) as opened,
        api_for(shared_gateway, world.users["author"]) as api,
    ):
        starts = [await sock.subscribe(group) for sock, _ in opened]
        assert set(starts) == {0}
        expected, previous = [], None
        for n in range(1, 11):
            kind, previous = await _edit(api, group, n, previous)
            expected.append(event_frame(kind, group, n, previous))
        for sock, _ in opened:
            assert await sock.recv_many(len(expected)) == expected
        await asyncio.gather(*(sock.expect_nothing(1.0) for sock, _ in opened))


async def test_worker_killed_client_resumes_elsewhere(
    start_gateway: GatewayFactory, provision: Provisioner
) -> None:
    """SIGKILL one of two workers: its client reconnects, resumes, misses nothing."""
    gateway = start_gateway(workers=2)
    world = _group_world(provision, 1)
    group = world.groups["g"]
    token = world.users["w0"].token

    async with (
        sockets_on_every_worker(gateway, [token], at_least=2) as opened,
        api_for(gateway, world.users["author"]) as api,
    ):
        victim_sock, victim = opened[0]
        survivor_sock, survivor = next((s, p) for s, p in opened if p != victim)
        for sock in (victim_sock, survivor_sock):
            assert await sock.subscribe(group) == 0
        expected, previous = [], None
        for n in range(1, 4):
            kind, previous = await _edit(api, group, n, previous)
            expected.append(event_frame(kind, group, n, previous))
        assert await victim_sock.recv_many(3) == expected
        last_seen = expected[-1]["seq"]

        os.kill(victim, signal.SIGKILL)
        with pytest.raises(ConnectionClosed) as dropped:
            await victim_sock.recv(timeout=STOP_WAIT_SECS)
        assert close_code(dropped.value) == 1006
        assert wait_until(lambda: not process_alive(victim), timeout=STOP_WAIT_SECS)
        assert gateway.worker_pids() == [survivor]

        for n in range(4, 7):
            kind, previous = await _edit(api, group, n, previous)
            expected.append(event_frame(kind, group, n, previous))

        async with open_socket(gateway, token=token) as again:
            assert gateway.worker_of(again.local_port) == survivor
            assert await again.subscribe(group, since=last_seen) == 6
            assert await again.recv_many(3) == expected[3:6]
            kind, previous = await _edit(api, group, 7, previous)
            expected.append(event_frame(kind, group, 7, previous))
            assert await again.recv() == expected[6]
            await again.expect_nothing(1.0)
        assert await survivor_sock.recv_many(7) == expected
        await survivor_sock.expect_nothing(0.5)


async def test_sigterm_closes_sockets_with_1012(
    start_gateway: GatewayFactory, provision: Provisioner
) -> None:
    """A stopped worker closes its sockets with 1012 and exits; the other serves."""
    gateway = start_gateway(workers=2)
    world = _group_world(provision, 1)
    group = world.groups["g"]
    token = world.users["w0"].token

    async with (
        sockets_on_every_worker(gateway, [token], at_least=3) as opened,
        api_for(gateway, world.users["author"]) as api,
    ):
        for sock, _ in opened:
            assert await sock.subscribe(group) == 0
        stopping = opened[0][1]
        doomed = [sock for sock, pid in opened if pid == stopping]
        kept = [sock for sock, pid in opened if pid != stopping]

        os.kill(stopping, signal.SIGTERM)
        codes = await asyncio.gather(
            *(sock.closed_with(timeout=STOP_WAIT_SECS) for sock in doomed)
        )
        assert codes == [1012] * len(doomed)
        assert wait_until(lambda: not process_alive(stopping), timeout=STOP_WAIT_SECS)

        created = await api.create(text="after the stop", workspace_group=group)
        for sock in kept:
            assert await sock.recv() == event_frame("created", group, 1, created)
            await sock.ping()
