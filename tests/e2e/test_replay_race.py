"""A long replay racing live writes: every event once, in order, from 1 to the head.

The subscriber asks for a group's whole history (`since` 0) while writers keep
committing to it, so the replay from the log and the live events overlap for as
long as the replay lasts. The replay rate is measured and recorded, not asserted.
"""

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.harness import (
    Gateway,
    Provisioner,
    create_many,
    event_frames,
    group_head,
    open_socket,
    record_figure,
    wait_until,
)

pytestmark = pytest.mark.e2e

LOGGED_EVENTS = 3000
WRITERS = 4
WRITES_PER_WRITER = 50
# Three thousand replayed frames and two hundred creates through two workers on two
# loaded cores take some seconds; the margin is for a slow CI machine.
RECEIVE_TIMEOUT_SECS = 120.0
# The first concurrent create lands within this, or the writers are broken.
FIRST_WRITE_TIMEOUT_SECS = 20.0
QUIET_SECS = 1.0


async def test_replay_from_zero_while_writing_delivers_each_seq_once(
    shared_gateway: Gateway, provision: Provisioner, e2e_database: str
) -> None:
    """`since` 0 on a group of ~3000 logged events while 200 more are committed:
    the subscriber receives seq 1..N exactly once, in order, each as logged."""
    world = provision(
        users=["writer", "reader"],
        groups=[{"name": "long", "admins": ["writer"], "members": ["reader"]}],
    )
    group = world.groups["long"]
    writer, reader = world.users["writer"], world.users["reader"]
    started = time.monotonic()
    logged = provision.events_seed(
        user_id=writer.id, group_id=group, count=LOGGED_EVENTS
    )
    print(f"logged {logged['head']} events in {time.monotonic() - started:.1f} s")
    assert logged["head"] == LOGGED_EVENTS
    total = LOGGED_EVENTS + WRITERS * WRITES_PER_WRITER
    loop = asyncio.get_running_loop()

    async with open_socket(shared_gateway, token=reader.token) as sock:
        with ThreadPoolExecutor(WRITERS) as pool:
            writers = [
                loop.run_in_executor(
                    pool,
                    create_many,
                    shared_gateway.base_url,
                    writer.token,
                    group,
                    f"writer {n}",
                    WRITES_PER_WRITER,
                )
                for n in range(WRITERS)
            ]
            # Subscribe once live writes are under way, so the two overlap.
            assert await asyncio.to_thread(
                wait_until,
                lambda: group_head(e2e_database, group) > LOGGED_EVENTS,
                timeout=FIRST_WRITE_TIMEOUT_SECS,
                interval=0.02,
            ), "no concurrent write committed"
            head_at_subscribe = await sock.subscribe(group, since=0)
            subscribed_at = time.monotonic()
            replayed_at = None
            head_at_replayed = 0
            frames = []
            deadline = subscribed_at + RECEIVE_TIMEOUT_SECS
            for _ in range(total):
                frame = await sock.recv(max(deadline - time.monotonic(), 0.001))
                frames.append(frame)
                if frame.get("seq") == head_at_subscribe:
                    replayed_at = time.monotonic()
                    # How many live writes the replay raced (they wait in order).
                    head_at_replayed = await asyncio.to_thread(
                        group_head, e2e_database, group
                    )
            await asyncio.gather(*writers)
        await sock.expect_nothing(QUIET_SECS)

    assert head_at_subscribe > LOGGED_EVENTS
    assert group_head(e2e_database, group) == total
    assert [f["seq"] for f in frames] == list(range(1, total + 1))
    logged_frames = event_frames(e2e_database, group)
    assert frames == [json.loads(logged_frames[seq]) for seq in range(1, total + 1)]

    assert replayed_at is not None
    elapsed = replayed_at - subscribed_at
    rate = head_at_subscribe / elapsed if elapsed > 0 else float("inf")
    print(
        f"replay rate: {rate:.0f} events/s"
        f" ({head_at_subscribe} events in {elapsed:.3f} s, {total} received in all,"
        f" {head_at_replayed - head_at_subscribe} committed during the replay)"
    )
    record_figure(
        "replay.since_0",
        {
            "events": head_at_subscribe,
            "seconds": round(elapsed, 3),
            "events_per_sec": round(rate),
            "concurrent_writes": WRITERS * WRITES_PER_WRITER,
            "committed_during_replay": head_at_replayed - head_at_subscribe,
        },
    )
