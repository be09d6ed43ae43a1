"""Sequence numbers under concurrent writers, and resuming a stream after a gap."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.harness import (
    Gateway,
    Provisioner,
    api_for,
    create_many,
    event_frame,
    event_log,
    open_socket,
)

pytestmark = pytest.mark.e2e

WRITERS = 8
WRITES_PER_WRITER = 25
# Two hundred creates through two workers on two cores take a few seconds.
WRITE_TIMEOUT_SECS = 90.0


async def test_concurrent_writers_get_contiguous_seq(
    shared_gateway: Gateway, provision: Provisioner, e2e_database: str
) -> None:
    """Parallel creates on both workers: seq 1..N in commit order, no gap, no repeat."""
    world = provision(
        users=["writer", "watcher"],
        groups=[{"name": "busy", "admins": ["writer"], "members": ["watcher"]}],
    )
    group = world.groups["busy"]
    total = WRITERS * WRITES_PER_WRITER
    loop = asyncio.get_running_loop()

    async with open_socket(shared_gateway, token=world.users["watcher"].token) as sock:
        start = await sock.subscribe(group)
        assert start == 0
        with ThreadPoolExecutor(WRITERS) as pool:
            writers = [
                loop.run_in_executor(
                    pool,
                    create_many,
                    shared_gateway.base_url,
                    world.users["writer"].token,
                    group,
                    f"writer {writer}",
                    WRITES_PER_WRITER,
                )
                for writer in range(WRITERS)
            ]
            frames, *written = await asyncio.gather(
                sock.recv_many(total, timeout=WRITE_TIMEOUT_SECS), *writers
            )
        await sock.expect_nothing(1.0)

    assert [f["seq"] for f in frames] == list(range(1, total + 1))
    assert {(f["type"], f["workspace_group"]) for f in frames} == {
        ("activity.created", group)
    }
    frame_ids = [f["activity"]["id"] for f in frames]
    assert sorted(frame_ids) == sorted(i for ids in written for i in ids)

    # The log holds the same events under the same numbers.
    log = event_log(e2e_database, group)
    assert [(seq, kind, activity) for seq, kind, activity in log] == [
        (n, "activity.created", activity) for n, activity in enumerate(frame_ids, 1)
    ]
    # Each writer waited for one create before the next: its creates committed in
    # that order, so their seqs must grow in that order too.
    seq_of = {activity: seq for seq, _, activity in log}
    for ids in written:
        seqs = [seq_of[i] for i in ids]
        assert seqs == sorted(seqs), (ids, seqs)


async def test_resume_with_since_after_reconnect(
    shared_gateway: Gateway, provision: Provisioner
) -> None:
    """A client that reconnects with `since` gets what it missed, then live events."""
    world = provision(
        users=["author", "reader"],
        groups=[{"name": "g", "admins": ["author"], "members": ["reader"]}],
    )
    group = world.groups["g"]
    reader = world.users["reader"]

    async with api_for(shared_gateway, world.users["author"]) as api:
        async with open_socket(shared_gateway, token=reader.token) as sock:
            start = await sock.subscribe(group)
            first = [
                await api.create(text=f"seen {n}", workspace_group=group)
                for n in range(3)
            ]
            seen = await sock.recv_many(3)
            assert seen == [
                event_frame("created", group, start + n, activity)
                for n, activity in enumerate(first, 1)
            ]
            last_seq = seen[-1]["seq"]

        missed = [await api.create(text="missed", workspace_group=group)]
        missed.append(await api.patch(first[0]["id"], text="edited while away"))
        await api.delete(first[1]["id"])
        missed.append(await api.get(first[1]["id"]))
        kinds = ["created", "updated", "removed"]

        async with open_socket(shared_gateway, token=reader.token) as sock:
            assert await sock.subscribe(group, since=last_seq) == last_seq + 3
            replayed = await sock.recv_many(3)
            assert replayed == [
                event_frame(kind, group, last_seq + n, activity)
                for n, (kind, activity) in enumerate(zip(kinds, missed, strict=True), 1)
            ]
            live = await api.create(text="live again", workspace_group=group)
            assert await sock.recv() == event_frame(
                "created", group, last_seq + 4, live
            )
            await sock.expect_nothing(1.0)
