"""The process hub behind the sockets: one per loop, repairs, access at admission."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async

from activities import events
from activities import services as activity_services
from activities import stream as activity_stream
from consumers import activity as activity_consumer
from consumers import hub as hub_module
from iam import services as iam_services
from iam.models import IAMUser, WorkspaceGroup
from tests.consumers.conftest import Socket, create_activity, representation, revoked

pytestmark = pytest.mark.django_db(transaction=True)

OpenToken = Callable[[IAMUser], Awaitable[Socket]]


@pytest.fixture
def alice(make_user: Callable[..., IAMUser]) -> IAMUser:
    return make_user("alice")


@pytest.fixture
def bob(make_user: Callable[..., IAMUser]) -> IAMUser:
    return make_user("bob")


@pytest.fixture
def team(
    make_group: Callable[..., WorkspaceGroup], alice: IAMUser, bob: IAMUser
) -> WorkspaceGroup:
    return make_group("team", admins=[alice], members=[bob])


@pytest.fixture
def slow_poll(settings: Any) -> None:
    """Push the access poll out of every test's reach: only events drive the hub."""
    settings.GATEWAY = {**settings.GATEWAY, "ACCESS_POLL_SECS": 60.0}


class LossyLayer:
    """Makes the publisher lose the messages of chosen seqs, as a Redis outage would."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lose: set[int] = set()
        self.lost: list[int] = []
        real_send = events._send

        async def send(message: dict[str, Any]) -> None:
            if message["seq"] in self.lose:
                self.lost.append(message["seq"])
                return
            await real_send(message)

        monkeypatch.setattr(events, "_send", send)


@pytest.fixture
def lossy(monkeypatch: pytest.MonkeyPatch) -> LossyLayer:
    return LossyLayer(monkeypatch)


def created(group: WorkspaceGroup, seq: int, activity: Any) -> dict[str, Any]:
    return {
        "type": "activity.created",
        "workspace_group": group.pk,
        "seq": seq,
        "activity": activity,
    }


async def test_get_hub_is_one_per_loop() -> None:
    first = await hub_module.get_hub()
    second = await hub_module.get_hub()

    assert first is second
    await first.stop()
    del hub_module._hubs[asyncio.get_running_loop()]


async def test_hub_forgets_groups_and_sockets_that_leave(
    token_socket: OpenToken, bob: IAMUser, team: WorkspaceGroup
) -> None:
    """Tests that nothing of a socket stays in the hub once it is gone."""
    first = await token_socket(bob)
    second = await token_socket(bob)
    hub = await hub_module.get_hub()
    assert (await first.subscribe(team.pk))["type"] == "subscribed"
    assert (await second.subscribe(team.pk))["type"] == "subscribed"
    assert list(hub.feeds) == [team.pk]

    await first.send({"type": "unsubscribe", "workspace_group": team.pk})
    await first.receive()
    await second.communicator.disconnect(timeout=3)

    assert hub.feeds == {}
    assert len(hub.sinks) == 1
    assert hub.sinks[next(iter(hub.sinks))] == set()
    await first.communicator.disconnect(timeout=3)
    assert hub.sinks == {}


async def test_hub_fills_a_gap_from_the_log_when_the_next_event_arrives(
    token_socket: OpenToken,
    alice: IAMUser,
    bob: IAMUser,
    team: WorkspaceGroup,
    lossy: LossyLayer,
    slow_poll: None,
) -> None:
    socket = await token_socket(bob)
    assert await socket.subscribe(team.pk) == {
        "type": "subscribed",
        "workspace_group": team.pk,
        "seq": 0,
    }
    lossy.lose = {1}

    first = await create_activity(alice, team)
    assert await socket.nothing(timeout=0.3)
    second = await create_activity(alice, team)

    assert lossy.lost == [1]
    assert await socket.receive() == created(team, 1, await representation(first.pk))
    assert await socket.receive() == created(team, 2, await representation(second.pk))
    assert await socket.nothing()


async def test_hub_delivers_a_lost_publish_from_the_log_after_polls(
    token_socket: OpenToken,
    alice: IAMUser,
    bob: IAMUser,
    team: WorkspaceGroup,
    lossy: LossyLayer,
) -> None:
    """Tests the poll's safety net: a last event whose publish was lost still comes."""
    socket = await token_socket(bob)
    await socket.subscribe(team.pk)
    lossy.lose = {1}

    activity = await create_activity(alice, team)

    assert lossy.lost == [1]
    # Two polls at most: one to see the head move, one to find it still unserved.
    assert await socket.receive(timeout=3.0) == created(
        team, 1, await representation(activity.pk)
    )
    assert await socket.nothing()


async def test_hub_revocation_racing_the_subscribe_delivers_nothing(
    token_socket: OpenToken,
    monkeypatch: pytest.MonkeyPatch,
    alice: IAMUser,
    bob: IAMUser,
    team: WorkspaceGroup,
    slow_poll: None,
) -> None:
    """Tests a membership removed between the admission read and the subscription.

    The event committed after the removal carries the new access version; the
    hub must re-check bob before forwarding it, although bob's subscription was
    admitted, and the feed created, after nothing had yet told the hub.
    """
    real_admission = activity_stream.stream_admission

    def admission_then_removal(*, user_id: int, group_id: int) -> Any:
        admitted = real_admission(user_id=user_id, group_id=group_id)
        iam_services.membership_remove(user=bob, group=team)
        return admitted

    monkeypatch.setattr(activity_consumer, "stream_admission", admission_then_removal)
    socket = await token_socket(bob)

    assert await socket.subscribe(team.pk) == {
        "type": "subscribed",
        "workspace_group": team.pk,
        "seq": 0,
    }
    await create_activity(alice, team)

    assert await socket.receive() == revoked(team)
    assert await socket.nothing(timeout=0.5)


async def test_hub_checks_a_subscription_that_joins_during_a_recheck(
    token_socket: OpenToken,
    monkeypatch: pytest.MonkeyPatch,
    make_user: Callable[..., IAMUser],
    alice: IAMUser,
    bob: IAMUser,
    team: WorkspaceGroup,
    slow_poll: None,
) -> None:
    """Regression: a re-check marked every subscription of the feed as checked,
    including one added while the verdict was being read, so an event committed
    after bob's removal reached him.

    Bob is admitted while still a member; before his subscription reaches the hub,
    he is removed and an event commits. The feed (kept alive by carol) starts its
    re-check, whose read waits behind bob's admission in the database thread.
    """
    carol = await database_sync_to_async(make_user)("carol")
    await database_sync_to_async(iam_services.membership_add)(user=carol, group=team)
    watcher = await token_socket(carol)
    await watcher.subscribe(team.pk)
    real_admission = activity_stream.stream_admission

    def admission_then_removal_and_a_write(*, user_id: int, group_id: int) -> Any:
        admitted = real_admission(user_id=user_id, group_id=group_id)
        iam_services.membership_remove(user=bob, group=team)
        activity_services.activity_create(
            actor=alice, data={"workspace_group": team, "text": "after bob left"}
        )
        # Long enough for the hub to receive the event and start its re-check.
        time.sleep(0.3)
        return admitted

    monkeypatch.setattr(
        activity_consumer, "stream_admission", admission_then_removal_and_a_write
    )
    victim = await token_socket(bob)

    assert (await victim.subscribe(team.pk))["type"] == "subscribed"
    assert await victim.receive() == revoked(team)
    assert await victim.nothing(timeout=0.5)
    assert (await watcher.receive())["activity"]["text"] == "after bob left"


async def test_hub_serves_a_second_socket_admitted_before_a_recheck(
    token_socket: OpenToken,
    make_user: Callable[..., IAMUser],
    alice: IAMUser,
    bob: IAMUser,
    team: WorkspaceGroup,
    slow_poll: None,
) -> None:
    """Tests that a re-check prompted by another member's removal keeps bob served."""
    carol = await database_sync_to_async(make_user)("carol")
    await database_sync_to_async(iam_services.membership_add)(user=carol, group=team)
    watcher = await token_socket(bob)
    leaver = await token_socket(carol)
    await watcher.subscribe(team.pk)
    await leaver.subscribe(team.pk)

    await database_sync_to_async(iam_services.membership_remove)(user=carol, group=team)
    activity = await create_activity(alice, team)

    assert await leaver.receive() == revoked(team)
    assert await watcher.receive() == created(
        team, 1, await representation(activity.pk)
    )
    assert await leaver.nothing()
    assert await watcher.nothing()


async def test_hub_started_while_the_layer_is_down_joins_when_it_answers(
    token_socket: OpenToken,
    monkeypatch: pytest.MonkeyPatch,
    alice: IAMUser,
    bob: IAMUser,
    team: WorkspaceGroup,
    slow_poll: None,
) -> None:
    """Regression: with Redis down when a worker's first socket arrived, the hub
    failed to open its channel, stayed marked started, and that worker delivered
    nothing (no live events, no repairs, no revocations) until restarted. Now it
    starts anyway and opens its channel and joins its groups once the layer answers;
    the poll is pushed out here, so the event below can only come through the layer.
    """
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    real_new_channel = layer.new_channel
    refusals: list[str] = []

    async def refusing_new_channel(prefix: str = "specific.") -> str:
        if len(refusals) < 2:
            refusals.append(prefix)
            raise ConnectionRefusedError("layer unreachable")
        return await real_new_channel(prefix)

    monkeypatch.setattr(layer, "new_channel", refusing_new_channel)
    socket = await token_socket(bob)

    assert await socket.subscribe(team.pk) == {
        "type": "subscribed",
        "workspace_group": team.pk,
        "seq": 0,
    }
    hub = await hub_module.get_hub()
    for _ in range(50):
        if hub.channel_name and hub.feeds[team.pk].joined:
            break
        await asyncio.sleep(0.1)
    activity = await create_activity(alice, team)

    assert refusals == ["hub.", "hub."]
    assert await socket.receive() == created(team, 1, await representation(activity.pk))
