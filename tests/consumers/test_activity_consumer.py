"""The /ws/activities/ consumer on the real ASGI stack: subscribe, live, replay.

Data is changed through the services, as REST would, so every event is numbered,
logged and published by the same code as in production; frames are compared whole.
"""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connection

from activities import services as activity_services
from activities.models import ActivityEvent
from activities.types import ActivityType
from consumers import activity as activity_consumer
from consumers import hub as hub_module
from consumers import protocol
from iam import services as iam_services
from iam.models import IAMUser, Membership, WorkspaceGroup
from tests.consumers.conftest import (
    Socket,
    create_activity,
    delete_activity,
    group_head,
    representation,
    revoked,
    update_activity,
)

pytestmark = pytest.mark.django_db(transaction=True)

LOGIN = int(ActivityType.USER_LOGIN)
LOGOUT = int(ActivityType.USER_LOGOUT)
NOT_A_MEMBER = {
    "type": "error",
    "code": "not_found",
    "detail": "No such workspace group.",
}
# The contract's bound on how long a revoked user keeps receiving.
REVOCATION_SECS = 1.0

OpenToken = Callable[[IAMUser], Awaitable[Socket]]


@dataclass
class World:
    """alice edits; bob watches `group` and `other`; carol is only in `other`."""

    alice: IAMUser
    bob: IAMUser
    carol: IAMUser
    group: WorkspaceGroup
    other: WorkspaceGroup


@pytest.fixture
def world(make_user: Callable[..., IAMUser], make_group: Callable[..., Any]) -> World:
    alice = make_user("alice")
    bob = make_user("bob")
    carol = make_user("carol")
    return World(
        alice=alice,
        bob=bob,
        carol=carol,
        group=make_group("team", admins=[alice], members=[bob]),
        other=make_group("other", admins=[alice], members=[bob, carol]),
    )


def event_frame(kind: str, group: WorkspaceGroup, seq: int, activity: Any) -> Any:
    return {
        "type": f"activity.{kind}",
        "workspace_group": group.pk,
        "seq": seq,
        "activity": activity,
    }


async def subscribed(socket: Socket, group: WorkspaceGroup, **extra: Any) -> int:
    """Subscribe and return the seq the server answered with (its current head)."""
    frame = await socket.subscribe(group.pk, **extra)
    head = await group_head(group)
    assert frame == {"type": "subscribed", "workspace_group": group.pk, "seq": head}
    return head


async def receive_until_seq(
    socket: Socket, last_seq: int, deadline_secs: float = 30.0
) -> list[dict[str, Any]]:
    """Receive frames until one with `last_seq` arrives, within a bounded time."""
    frames: list[dict[str, Any]] = []
    deadline = time.monotonic() + deadline_secs
    while not frames or frames[-1].get("seq") != last_seq:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no seq {last_seq} after {len(frames)} frames"
        frames.append(await socket.receive(timeout=remaining))
    return frames


# -- subscribing -----------------------------------------------------------------


async def test_subscribe_answers_with_the_current_seq(
    world: World, token_socket: OpenToken
) -> None:
    await create_activity(world.alice, world.group)
    await create_activity(world.alice, world.group)
    socket = await token_socket(world.bob)

    frame = await socket.subscribe(world.group.pk)

    assert frame == {"type": "subscribed", "workspace_group": world.group.pk, "seq": 2}
    assert await socket.nothing()


async def test_subscribe_to_a_quiet_group_answers_seq_0(
    world: World, token_socket: OpenToken
) -> None:
    socket = await token_socket(world.bob)

    frame = await socket.subscribe(world.group.pk)

    assert frame == {"type": "subscribed", "workspace_group": world.group.pk, "seq": 0}


async def test_subscribe_to_a_foreign_group_is_not_found_like_a_missing_one(
    world: World, token_socket: OpenToken
) -> None:
    """Tests that ids leak nothing: a foreign group reads exactly as a missing one."""
    socket = await token_socket(world.carol)

    foreign = await socket.subscribe(world.group.pk)
    missing = await socket.subscribe(10**9)

    assert foreign == NOT_A_MEMBER
    assert missing == NOT_A_MEMBER
    await create_activity(world.alice, world.group)
    assert await socket.nothing(timeout=0.5)
    await socket.ping_pong()


async def test_subscribe_to_another_users_personal_group_is_not_found(
    world: World, token_socket: OpenToken
) -> None:
    personal = await database_sync_to_async(iam_services.personal_group_ensure)(
        user=world.alice
    )
    socket = await token_socket(world.bob)

    assert await socket.subscribe(personal.pk) == NOT_A_MEMBER
    await create_activity(world.alice, personal)
    assert await socket.nothing(timeout=0.5)


# -- malformed frames --------------------------------------------------------------

MALFORMED_TEXT = [
    "not json",
    "[]",
    '"subscribe"',
    "null",
    "{}",
    '{"type":"publish"}',
    '{"type":"subscribe"}',
    '{"type":"subscribe","workspace_group":"7"}',
    '{"type":"subscribe","workspace_group":true}',
    '{"type":"subscribe","workspace_group":1.5}',
    '{"type":"subscribe","workspace_group":0}',
    '{"type":"subscribe","workspace_group":-1}',
    '{"type":"unsubscribe","workspace_group":"7"}',
    '{"type":"ping","extra":1}',
    "[" * 20_000 + "]" * 20_000,
]

MALFORMED_SUBSCRIBE = [
    {"since": -1},
    {"since": "x"},
    {"activity_types": 1},
    {"activity_types": []},
    {"activity_types": [99999]},
    {"activity_types": [[LOGIN]]},
    {"extra": 1},
]


async def assert_bad_request_and_open(socket: Socket) -> None:
    frame = await socket.receive()
    assert frame["type"] == "error"
    assert frame["code"] == "bad_request"
    assert isinstance(frame["detail"], str) and frame["detail"]
    assert set(frame) == {"type", "code", "detail"}
    assert await socket.nothing()
    await socket.ping_pong()


@pytest.mark.parametrize("text", MALFORMED_TEXT, ids=lambda text: text[:50])
async def test_malformed_frame_gets_bad_request_and_socket_stays_open(
    world: World, token_socket: OpenToken, text: str
) -> None:
    socket = await token_socket(world.bob)

    await socket.send_text(text)

    await assert_bad_request_and_open(socket)


@pytest.mark.parametrize("extra", MALFORMED_SUBSCRIBE, ids=str)
async def test_malformed_subscribe_gets_bad_request_and_subscribes_nothing(
    world: World, token_socket: OpenToken, extra: dict[str, Any]
) -> None:
    socket = await token_socket(world.bob)

    await socket.send({"type": "subscribe", "workspace_group": world.group.pk, **extra})

    await assert_bad_request_and_open(socket)
    await create_activity(world.alice, world.group)
    assert await socket.nothing(timeout=0.5)


async def test_subscribe_since_ahead_of_the_head_gets_bad_request(
    world: World, token_socket: OpenToken
) -> None:
    await create_activity(world.alice, world.group)
    socket = await token_socket(world.bob)

    await socket.send(
        {"type": "subscribe", "workspace_group": world.group.pk, "since": 2}
    )

    assert await socket.receive() == {
        "type": "error",
        "code": "bad_request",
        "detail": f"'since' 2 is ahead of group {world.group.pk}'s latest seq 1.",
    }
    await socket.ping_pong()
    await create_activity(world.alice, world.group)
    assert await socket.nothing(timeout=0.5)


async def test_binary_frame_gets_bad_request_and_socket_stays_open(
    world: World, token_socket: OpenToken
) -> None:
    socket = await token_socket(world.bob)

    await socket.send_bytes(b'{"type":"ping"}')

    assert await socket.receive() == {
        "type": "error",
        "code": "bad_request",
        "detail": "Frames must be JSON text, not binary.",
    }
    await socket.ping_pong()


async def test_a_frame_that_breaks_the_consumer_closes_1011_and_is_forgotten(
    world: World, token_socket: OpenToken, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: a handler that raised ended the consumer without disconnect(),
    and the hub went on holding (and polling for) a socket that was gone."""
    socket = await token_socket(world.bob)
    await subscribed(socket, world.group)
    hub = await hub_module.get_hub()
    assert len(hub.sinks) == 1

    def broken(text: str) -> Any:
        raise RuntimeError("a bug in frame handling")

    monkeypatch.setattr(protocol, "parse_client_frame", broken)
    await socket.send({"type": "ping"})

    assert await socket.receive_output() == {"type": "websocket.close", "code": 1011}
    assert hub.sinks == {}
    assert hub.feeds == {}


async def test_errors_quote_at_most_a_bounded_part_of_the_frame(
    world: World, token_socket: OpenToken
) -> None:
    socket = await token_socket(world.bob)
    junk = ["é" * 6400] * 5

    await socket.send_text(
        json.dumps(
            {"type": "subscribe", "workspace_group": 1, "activity_types": junk},
            ensure_ascii=False,
        )
    )

    error = await socket.receive()
    assert error["code"] == "bad_request"
    assert error["detail"].startswith("Unknown activity types: ['éé")
    assert len(error["detail"]) == 300
    await socket.ping_pong()


@pytest.mark.parametrize("binary", [False, True])
async def test_frame_over_64_kib_closes_1009(
    world: World, token_socket: OpenToken, binary: bool
) -> None:
    socket = await token_socket(world.bob)
    payload = json.dumps({"type": "ping", "pad": "x" * (64 * 1024)})

    if binary:
        await socket.send_bytes(payload.encode())
    else:
        await socket.send_text(payload)

    assert await socket.receive_output() == {"type": "websocket.close", "code": 1009}
    assert await socket.nothing()


async def test_frame_of_exactly_64_kib_is_read(
    world: World, token_socket: OpenToken
) -> None:
    socket = await token_socket(world.bob)
    frame = '{"type":"ping"}'
    padded = frame + " " * (64 * 1024 - len(frame))

    await socket.send_text(padded)

    assert await socket.receive() == {"type": "pong"}


class FrozenClock:
    """Stands in for the `time` module of the consumer: time moves only by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, settings: Any) -> FrozenClock:
    """A frozen rate-limiter clock, with a burst of 5 and 1 frame a second."""
    frozen = FrozenClock()
    monkeypatch.setattr(activity_consumer, "time", frozen)
    settings.GATEWAY = {**settings.GATEWAY, "WS_RATE_BURST": 5, "WS_RATE_PER_SEC": 1}
    return frozen


RATE_LIMITED = {
    "type": "error",
    "code": "rate_limited",
    "detail": "Too many frames; slow down.",
}


async def test_flood_gets_rate_limited_then_closes_4429(
    world: World, token_socket: OpenToken, clock: FrozenClock
) -> None:
    socket = await token_socket(world.bob)

    for _ in range(30):
        await socket.send({"type": "ping"})

    for _ in range(5):
        assert await socket.receive() == {"type": "pong"}
    assert await socket.receive() == RATE_LIMITED
    assert await socket.receive_output() == {"type": "websocket.close", "code": 4429}
    assert await socket.nothing()


async def test_short_burst_gets_rate_limited_once_and_stays_open(
    world: World, token_socket: OpenToken, clock: FrozenClock
) -> None:
    socket = await token_socket(world.bob)

    for _ in range(8):
        await socket.send({"type": "ping"})
    frames = [await socket.receive() for _ in range(6)]
    assert await socket.nothing()
    clock.now += 1

    assert frames == [{"type": "pong"}] * 5 + [RATE_LIMITED]
    await socket.ping_pong()


async def test_rate_limit_spares_a_client_within_its_rate(
    world: World, token_socket: OpenToken, clock: FrozenClock
) -> None:
    socket = await token_socket(world.bob)

    for _ in range(20):
        await socket.ping_pong()
        clock.now += 1

    assert await socket.nothing()


# -- live events -----------------------------------------------------------------


async def test_live_changes_arrive_once_each_with_the_rest_json(
    world: World, token_socket: OpenToken
) -> None:
    watcher = await token_socket(world.bob)
    bystander = await token_socket(world.carol)
    await create_activity(world.alice, world.group)
    head = await subscribed(watcher, world.group)
    await subscribed(bystander, world.other)

    activity = await create_activity(world.alice, world.group, text="hello")
    assert await watcher.receive() == event_frame(
        "created", world.group, head + 1, await representation(activity.pk)
    )
    await update_activity(world.alice, activity.pk, text="hello again")
    assert await watcher.receive() == event_frame(
        "updated", world.group, head + 2, await representation(activity.pk)
    )
    await delete_activity(world.alice, activity.pk)
    removed = await representation(activity.pk)
    assert await watcher.receive() == event_frame(
        "removed", world.group, head + 3, removed
    )

    assert (removed["text"], removed["is_active"]) == ("hello again", False)
    assert await watcher.nothing()
    assert await bystander.nothing()


async def test_live_created_frame_equals_the_rest_representation(
    world: World, token_socket: OpenToken
) -> None:
    watcher = await token_socket(world.bob)
    head = await subscribed(watcher, world.group)

    activity = await create_activity(
        world.alice, world.group, text="ünïcode ✓", resource={"kind": "game"}
    )

    assert await watcher.receive() == event_frame(
        "created", world.group, head + 1, await representation(activity.pk)
    )
    assert await watcher.nothing()


async def test_live_updated_frame_equals_the_rest_representation(
    world: World, token_socket: OpenToken
) -> None:
    activity = await create_activity(world.alice, world.group)
    watcher = await token_socket(world.bob)
    head = await subscribed(watcher, world.group)

    await update_activity(world.alice, activity.pk, activity_type=LOGOUT)

    assert await watcher.receive() == event_frame(
        "updated", world.group, head + 1, await representation(activity.pk)
    )
    assert await watcher.nothing()


async def test_move_between_groups_removes_from_one_and_creates_in_the_other(
    world: World, token_socket: OpenToken
) -> None:
    """Tests that the old group sees the activity as it was, the new one as it is."""
    activity = await create_activity(world.alice, world.group, text="before")
    before = await representation(activity.pk)
    old_watcher = await token_socket(world.bob)
    new_watcher = await token_socket(world.carol)
    old_head = await subscribed(old_watcher, world.group)
    new_head = await subscribed(new_watcher, world.other)

    await update_activity(
        world.alice, activity.pk, workspace_group=world.other, text="after"
    )

    after = await representation(activity.pk)
    assert (after["workspace_group"], after["text"]) == (world.other.pk, "after")
    assert await old_watcher.receive() == event_frame(
        "removed", world.group, old_head + 1, before
    )
    assert await new_watcher.receive() == event_frame(
        "created", world.other, new_head + 1, after
    )
    assert await old_watcher.nothing()
    assert await new_watcher.nothing()


async def test_several_subscriptions_on_one_socket(
    world: World, token_socket: OpenToken
) -> None:
    socket = await token_socket(world.bob)
    head = await subscribed(socket, world.group)
    other_head = await subscribed(socket, world.other)

    first = await create_activity(world.alice, world.group)
    assert await socket.receive() == event_frame(
        "created", world.group, head + 1, await representation(first.pk)
    )
    second = await create_activity(world.alice, world.other)
    assert await socket.receive() == event_frame(
        "created", world.other, other_head + 1, await representation(second.pk)
    )
    assert await socket.nothing()


async def test_resubscribing_replaces_the_subscription(
    world: World, token_socket: OpenToken
) -> None:
    """Tests that subscribing twice to a group does not deliver its events twice."""
    socket = await token_socket(world.bob)
    await subscribed(socket, world.group)
    head = await subscribed(socket, world.group)

    activity = await create_activity(world.alice, world.group)

    assert await socket.receive() == event_frame(
        "created", world.group, head + 1, await representation(activity.pk)
    )
    assert await socket.nothing(timeout=0.5)


async def test_resubscribing_with_types_replaces_the_filter(
    world: World, token_socket: OpenToken
) -> None:
    socket = await token_socket(world.bob)
    await subscribed(socket, world.group, activity_types=[LOGOUT])
    head = await subscribed(socket, world.group)

    activity = await create_activity(world.alice, world.group, activity_type=LOGIN)

    assert await socket.receive() == event_frame(
        "created", world.group, head + 1, await representation(activity.pk)
    )
    assert await socket.nothing()


async def test_two_sockets_of_one_user_each_get_the_event(
    world: World, token_socket: OpenToken
) -> None:
    first = await token_socket(world.bob)
    second = await token_socket(world.bob)
    head = await subscribed(first, world.group)
    await subscribed(second, world.group)

    activity = await create_activity(world.alice, world.group)

    expected = event_frame(
        "created", world.group, head + 1, await representation(activity.pk)
    )
    assert await first.receive() == expected
    assert await second.receive() == expected
    assert await first.nothing()
    assert await second.nothing()


async def test_disconnecting_one_socket_leaves_the_others_served(
    world: World, token_socket: OpenToken
) -> None:
    leaving = await token_socket(world.bob)
    staying = await token_socket(world.carol)
    await subscribed(leaving, world.other)
    head = await subscribed(staying, world.other)

    await leaving.communicator.disconnect(timeout=3)
    activity = await create_activity(world.alice, world.other)

    assert await staying.receive() == event_frame(
        "created", world.other, head + 1, await representation(activity.pk)
    )


# -- unsubscribing ---------------------------------------------------------------


async def test_unsubscribe_answers_and_stops_delivery(
    world: World, token_socket: OpenToken
) -> None:
    socket = await token_socket(world.bob)
    await subscribed(socket, world.group)

    await socket.send({"type": "unsubscribe", "workspace_group": world.group.pk})

    assert await socket.receive() == {
        "type": "unsubscribed",
        "workspace_group": world.group.pk,
        "reason": "client",
    }
    await create_activity(world.alice, world.group)
    assert await socket.nothing(timeout=0.5)
    await socket.ping_pong()


async def test_unsubscribe_keeps_the_sockets_other_subscriptions(
    world: World, token_socket: OpenToken
) -> None:
    socket = await token_socket(world.bob)
    await subscribed(socket, world.group)
    head = await subscribed(socket, world.other)

    await socket.send({"type": "unsubscribe", "workspace_group": world.group.pk})
    await socket.receive()
    await create_activity(world.alice, world.group)
    activity = await create_activity(world.alice, world.other)

    assert await socket.receive() == event_frame(
        "created", world.other, head + 1, await representation(activity.pk)
    )
    assert await socket.nothing()


async def test_unsubscribe_from_a_group_not_subscribed_is_not_found(
    world: World, token_socket: OpenToken
) -> None:
    socket = await token_socket(world.bob)

    await socket.send({"type": "unsubscribe", "workspace_group": world.group.pk})

    assert await socket.receive() == {
        "type": "error",
        "code": "not_found",
        "detail": "Not subscribed to that group.",
    }
    await socket.ping_pong()


# -- resuming with since -----------------------------------------------------------


def create_many_sync(user: IAMUser, group: WorkspaceGroup, count: int) -> list[int]:
    """Commit `count` activities, one transaction each."""
    return [
        activity_services.activity_create(
            actor=user,
            data={"workspace_group": group, "text": f"n{n}"},
        ).pk
        for n in range(count)
    ]


create_many = database_sync_to_async(create_many_sync)


def create_many_in_own_thread(
    user: IAMUser, group: WorkspaceGroup, count: int
) -> list[int]:
    try:
        return create_many_sync(user, group, count)
    finally:
        # A pool thread's connection would outlive the test and its database.
        connection.close()


async def test_resume_replays_then_goes_live_without_gap_or_duplicate(
    world: World, token_socket: OpenToken
) -> None:
    """Tests that events committed while the replay runs are neither lost nor doubled.

    The writer runs in its own thread, so its commits race the hub's log reads
    instead of queueing behind them on the one thread-sensitive executor.
    """
    await create_many(world.alice, world.group, 300)
    socket = await token_socket(world.bob)

    first = await socket.subscribe(world.group.pk, since=10)
    writer = asyncio.create_task(
        sync_to_async(create_many_in_own_thread, thread_sensitive=False)(
            world.alice, world.group, 20
        )
    )
    frames = await receive_until_seq(socket, 320)
    await asyncio.wait_for(writer, timeout=30)

    assert first == {
        "type": "subscribed",
        "workspace_group": world.group.pk,
        "seq": 300,
    }
    assert [f["seq"] for f in frames] == list(range(11, 321))
    assert {f["type"] for f in frames} == {"activity.created"}
    assert {f["workspace_group"] for f in frames} == {world.group.pk}
    assert await socket.nothing(timeout=0.5)


async def test_resume_replays_the_logged_frames_exactly(
    world: World, token_socket: OpenToken
) -> None:
    activity = await create_activity(world.alice, world.group)
    await update_activity(world.alice, activity.pk, text="edited")
    await delete_activity(world.alice, activity.pk)
    logged = await database_sync_to_async(
        lambda: [
            json.loads(frame)
            for frame in ActivityEvent.objects.filter(workspace_group=world.group)
            .order_by("seq")
            .values_list("frame", flat=True)
        ]
    )()
    socket = await token_socket(world.bob)

    await socket.send(
        {"type": "subscribe", "workspace_group": world.group.pk, "since": 0}
    )

    assert await socket.receive() == {
        "type": "subscribed",
        "workspace_group": world.group.pk,
        "seq": 3,
    }
    assert [await socket.receive() for _ in range(3)] == logged
    assert [f["type"] for f in logged] == [
        "activity.created",
        "activity.updated",
        "activity.removed",
    ]
    assert await socket.nothing()


async def test_resume_since_the_head_replays_nothing(
    world: World, token_socket: OpenToken
) -> None:
    await create_many(world.alice, world.group, 3)
    socket = await token_socket(world.bob)

    await subscribed(socket, world.group, since=3)

    assert await socket.nothing()
    activity = await create_activity(world.alice, world.group)
    assert await socket.receive() == event_frame(
        "created", world.group, 4, await representation(activity.pk)
    )


@database_sync_to_async
def prune_events(group: WorkspaceGroup, *, up_to: int) -> None:
    ActivityEvent.objects.filter(workspace_group=group, seq__lte=up_to).delete()


async def test_resume_past_the_retained_log_resets_and_stays_live(
    world: World, token_socket: OpenToken
) -> None:
    await create_many(world.alice, world.group, 5)
    await prune_events(world.group, up_to=3)
    socket = await token_socket(world.bob)

    await subscribed(socket, world.group, since=1)

    assert await socket.receive() == {
        "type": "reset",
        "workspace_group": world.group.pk,
        "seq": 5,
    }
    assert await socket.nothing()
    activity = await create_activity(world.alice, world.group)
    assert await socket.receive() == event_frame(
        "created", world.group, 6, await representation(activity.pk)
    )
    assert await socket.nothing()


async def test_resume_within_the_retained_log_replays(
    world: World, token_socket: OpenToken
) -> None:
    await create_many(world.alice, world.group, 5)
    await prune_events(world.group, up_to=3)
    socket = await token_socket(world.bob)

    await subscribed(socket, world.group, since=3)

    assert [(await socket.receive())["seq"] for _ in range(2)] == [4, 5]
    assert await socket.nothing()


async def test_resume_before_joining_resets(
    world: World, token_socket: OpenToken
) -> None:
    """Tests that events from before a user joined are never replayed to them."""
    await create_many(world.alice, world.group, 4)
    newcomer = world.carol
    await database_sync_to_async(iam_services.membership_add)(
        user=newcomer, group=world.group
    )
    socket = await token_socket(newcomer)

    await subscribed(socket, world.group, since=1)

    assert await socket.receive() == {
        "type": "reset",
        "workspace_group": world.group.pk,
        "seq": 4,
    }
    assert await socket.nothing()
    activity = await create_activity(world.alice, world.group)
    assert await socket.receive() == event_frame(
        "created", world.group, 5, await representation(activity.pk)
    )


async def test_resume_from_the_joining_seq_replays_what_followed(
    world: World, token_socket: OpenToken
) -> None:
    await create_many(world.alice, world.group, 4)
    await database_sync_to_async(iam_services.membership_add)(
        user=world.carol, group=world.group
    )
    await create_many(world.alice, world.group, 2)
    socket = await token_socket(world.carol)

    await subscribed(socket, world.group, since=4)

    assert [(await socket.receive())["seq"] for _ in range(2)] == [5, 6]
    assert await socket.nothing()


# -- filters -----------------------------------------------------------------------


async def test_filter_forwards_only_its_types_with_the_real_seqs(
    world: World, token_socket: OpenToken
) -> None:
    socket = await token_socket(world.bob)
    head = await subscribed(socket, world.group, activity_types=[LOGOUT])

    first = await create_activity(world.alice, world.group, activity_type=LOGOUT)
    await create_activity(world.alice, world.group, activity_type=LOGIN)
    third = await create_activity(world.alice, world.group, activity_type=LOGOUT)

    assert await socket.receive() == event_frame(
        "created", world.group, head + 1, await representation(first.pk)
    )
    assert await socket.receive() == event_frame(
        "created", world.group, head + 3, await representation(third.pk)
    )
    assert await socket.nothing()


async def test_filter_applies_to_the_replay(
    world: World, token_socket: OpenToken
) -> None:
    for activity_type in (LOGIN, LOGOUT, LOGIN, LOGOUT):
        await create_activity(world.alice, world.group, activity_type=activity_type)
    socket = await token_socket(world.bob)

    await subscribed(socket, world.group, since=0, activity_types=[LOGOUT])

    frames = [await socket.receive() for _ in range(2)]
    assert [(f["seq"], f["activity"]["activity_type"]) for f in frames] == [
        (2, LOGOUT),
        (4, LOGOUT),
    ]
    assert await socket.nothing()


@database_sync_to_async
def logged_frame(group: WorkspaceGroup, seq: int) -> str:
    return ActivityEvent.objects.get(workspace_group=group, seq=seq).frame


async def test_filter_hears_of_an_activity_leaving_it(
    world: World, token_socket: OpenToken
) -> None:
    """Regression: an edit that changed an activity's type to one outside a
    subscriber's filter was filtered out by its new type, so a type-filtered feed
    kept showing the activity with its old type and text."""
    socket = await token_socket(world.bob)
    head = await subscribed(socket, world.group, activity_types=[LOGIN])
    activity = await create_activity(world.alice, world.group, activity_type=LOGIN)
    assert (await socket.receive())["seq"] == head + 1

    await update_activity(world.alice, activity.pk, activity_type=LOGOUT)
    await update_activity(world.alice, activity.pk, text="outside the filter now")

    left = await socket.receive()
    assert (left["type"], left["seq"]) == ("activity.updated", head + 2)
    assert (left["activity"]["id"], left["activity"]["activity_type"]) == (
        activity.pk,
        LOGOUT,
    )
    assert left == json.loads(await logged_frame(world.group, head + 2))
    assert await socket.nothing()


async def test_filter_replay_hears_of_an_activity_leaving_it(
    world: World, token_socket: OpenToken
) -> None:
    activity = await create_activity(world.alice, world.group, activity_type=LOGIN)
    await update_activity(world.alice, activity.pk, activity_type=LOGOUT)
    await delete_activity(world.alice, activity.pk)
    socket = await token_socket(world.bob)

    await subscribed(socket, world.group, since=0, activity_types=[LOGIN])

    frames = [await socket.receive() for _ in range(2)]
    assert [(f["type"], f["seq"], f["activity"]["activity_type"]) for f in frames] == [
        ("activity.created", 1, LOGIN),
        ("activity.updated", 2, LOGOUT),
    ]
    assert await socket.nothing()


# -- losing access -----------------------------------------------------------------


async def test_removed_member_is_unsubscribed_within_a_second(
    world: World, token_socket: OpenToken
) -> None:
    socket = await token_socket(world.bob)
    await subscribed(socket, world.group)

    await database_sync_to_async(iam_services.membership_remove)(
        user=world.bob, group=world.group
    )

    assert await socket.receive(timeout=REVOCATION_SECS) == revoked(world.group)
    await socket.ping_pong()


async def test_removed_member_never_gets_an_event_committed_after_removal(
    world: World, token_socket: OpenToken
) -> None:
    """Tests that an event racing the revocation is held until access is re-checked."""
    socket = await token_socket(world.bob)
    await subscribed(socket, world.group)

    await database_sync_to_async(iam_services.membership_remove)(
        user=world.bob, group=world.group
    )
    await create_activity(world.alice, world.group)
    await create_activity(world.alice, world.group)

    assert await socket.receive(timeout=REVOCATION_SECS) == revoked(world.group)
    assert await socket.nothing(timeout=0.5)


async def test_membership_repointed_in_place_ends_the_old_members_feed(
    world: World, token_socket: OpenToken, make_user: Callable[..., IAMUser]
) -> None:
    """Regression: changing a membership's user in place (as the admin allows) left
    the old member's subscription getting events until the next poll."""
    socket = await token_socket(world.bob)
    await subscribed(socket, world.group)
    newcomer = await database_sync_to_async(make_user)("newcomer")

    @database_sync_to_async
    def repoint() -> None:
        membership = Membership.objects.get(user=world.bob, group=world.group)
        membership.user = newcomer
        membership.save()

    await repoint()
    await create_activity(world.alice, world.group)

    assert await socket.receive(timeout=REVOCATION_SECS) == revoked(world.group)
    assert await socket.nothing(timeout=0.5)


async def test_removed_member_keeps_other_subscriptions(
    world: World, token_socket: OpenToken
) -> None:
    socket = await token_socket(world.bob)
    await subscribed(socket, world.group)
    head = await subscribed(socket, world.other)

    await database_sync_to_async(iam_services.membership_remove)(
        user=world.bob, group=world.group
    )
    assert (await socket.receive(timeout=REVOCATION_SECS))["reason"] == (
        "access_revoked"
    )
    activity = await create_activity(world.alice, world.other)

    assert await socket.receive() == event_frame(
        "created", world.other, head + 1, await representation(activity.pk)
    )


async def test_remaining_members_keep_receiving_after_a_removal(
    world: World, token_socket: OpenToken
) -> None:
    removed = await token_socket(world.bob)
    staying = await token_socket(world.carol)
    await subscribed(removed, world.other)
    head = await subscribed(staying, world.other)

    await database_sync_to_async(iam_services.membership_remove)(
        user=world.bob, group=world.other
    )
    activity = await create_activity(world.alice, world.other)

    assert await staying.receive() == event_frame(
        "created", world.other, head + 1, await representation(activity.pk)
    )
    assert await removed.receive(timeout=REVOCATION_SECS) == revoked(world.other)
    assert await removed.nothing()


async def test_readded_member_can_subscribe_at_once(
    world: World, token_socket: OpenToken
) -> None:
    socket = await token_socket(world.bob)
    await subscribed(socket, world.group)
    await database_sync_to_async(iam_services.membership_remove)(
        user=world.bob, group=world.group
    )
    await socket.receive(timeout=REVOCATION_SECS)
    assert await socket.subscribe(world.group.pk) == NOT_A_MEMBER

    await database_sync_to_async(iam_services.membership_add)(
        user=world.bob, group=world.group
    )
    head = await subscribed(socket, world.group)
    activity = await create_activity(world.alice, world.group)

    assert await socket.receive() == event_frame(
        "created", world.group, head + 1, await representation(activity.pk)
    )


@database_sync_to_async
def deactivate(user: IAMUser) -> None:
    user.is_active = False
    user.save()


async def test_deactivated_user_is_closed_4403_within_a_second(
    world: World, token_socket: OpenToken
) -> None:
    socket = await token_socket(world.bob)
    await subscribed(socket, world.group)

    await deactivate(world.bob)

    assert await socket.receive_output(timeout=REVOCATION_SECS) == {
        "type": "websocket.close",
        "code": 4403,
    }
    await create_activity(world.alice, world.group)
    assert await socket.nothing()


async def test_deactivated_user_without_subscriptions_is_closed_4403(
    world: World, token_socket: OpenToken
) -> None:
    socket = await token_socket(world.bob)

    await deactivate(world.bob)

    assert await socket.receive_output(timeout=REVOCATION_SECS) == {
        "type": "websocket.close",
        "code": 4403,
    }


async def test_deleted_token_closes_4401_within_a_second(
    world: World, token_socket: OpenToken
) -> None:
    socket = await token_socket(world.bob)
    await subscribed(socket, world.group)

    await database_sync_to_async(world.bob.auth_token.delete)()

    assert await socket.receive_output(timeout=REVOCATION_SECS) == {
        "type": "websocket.close",
        "code": 4401,
    }
    await create_activity(world.alice, world.group)
    assert await socket.nothing()


async def test_socket_of_a_still_valid_token_survives_the_poll(
    world: World, token_socket: OpenToken
) -> None:
    socket = await token_socket(world.bob)
    head = await subscribed(socket, world.group)

    # Several access polls pass; nothing about bob changed.
    assert await socket.nothing(timeout=1.2)
    activity = await create_activity(world.alice, world.group)

    assert await socket.receive() == event_frame(
        "created", world.group, head + 1, await representation(activity.pk)
    )


async def test_subscriptions_per_socket_are_capped(
    world: World, token_socket: OpenToken, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(activity_consumer, "MAX_SUBSCRIPTIONS_PER_SOCKET", 1)
    socket = await token_socket(world.bob)
    await subscribed(socket, world.group)

    refused = await socket.subscribe(world.other.pk)
    await subscribed(socket, world.group)

    assert refused == {
        "type": "error",
        "code": "bad_request",
        "detail": "At most 1 subscriptions per socket.",
    }
    await create_activity(world.alice, world.other)
    assert await socket.nothing(timeout=0.5)
