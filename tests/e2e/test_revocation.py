"""Access revocation end to end: whichever process changes access, a live socket
learns of it within a second, and nothing committed after the loss reaches it.

Each change is made by another process than the gateway: the provisioning process
(the ORM, so the same services and signals as the admin or a shell), or a raw SQL
statement straight in PostgreSQL (no signal runs). The measured delays go to
test-artifacts/e2e/figures.json.
"""

import asyncio
import time

import psycopg
import pytest

from tests.e2e.harness import (
    Gateway,
    Provisioner,
    Socket,
    api_for,
    event_frame,
    group_head,
    open_socket,
    record_figure,
)

pytestmark = pytest.mark.e2e

# The contract: access ends "within a second" (ACCESS_POLL_SECS of 0.5 s plus a read).
REVOCATION_LIMIT_SECS = 1.0
# How long a test waits for the frame before giving up; the limit is then checked on
# the measured delay, so a slow run fails with its figure instead of a timeout.
REVOCATION_WAIT_SECS = 5.0
# Long enough for a stray event to cross Redis, a worker and two access polls.
QUIET_SECS = 1.5


def _revoked_frame(group_id: int) -> dict[str, object]:
    return {
        "type": "unsubscribed",
        "workspace_group": group_id,
        "reason": "access_revoked",
    }


async def _frame_delay(sock: Socket, since: float) -> tuple[dict[str, object], float]:
    """The next frame, and the seconds from `since` (a time.time()) to its arrival."""
    frame = await sock.recv(REVOCATION_WAIT_SECS)
    return frame, time.time() - since


async def _close_delay(sock: Socket, since: float) -> tuple[int, float]:
    """The close code of the socket, and the seconds from `since` to the close."""
    code = await sock.closed_with(REVOCATION_WAIT_SECS)
    return code, time.time() - since


async def test_membership_removal_ends_subscription_within_a_second(
    shared_gateway: Gateway, provision: Provisioner
) -> None:
    """A member removed by another process gets `access_revoked` within a second on
    every socket, keeps the socket and its other subscriptions, and does not get an
    event committed right after the removal, which the remaining member does get."""
    world = provision(
        users=["author", "quiet", "racing", "peer"],
        groups=[
            {"name": "g", "admins": ["author"], "members": ["quiet", "racing", "peer"]}
        ],
    )
    group = world.groups["g"]
    author, quiet, racing, peer = (
        world.users[n] for n in ("author", "quiet", "racing", "peer")
    )
    gw = shared_gateway

    async with (
        open_socket(gw, token=quiet.token) as s_quiet,
        open_socket(gw, token=quiet.token) as s_quiet2,
        open_socket(gw, token=racing.token) as s_racing,
        open_socket(gw, token=peer.token) as s_peer,
        api_for(gw, author) as api,
    ):
        for sock in (s_quiet, s_quiet2, s_racing, s_peer):
            assert await sock.subscribe(group) == 0
        await s_quiet.subscribe(quiet.personal_group)

        # Removal with no write after it: only the access poll can notice.
        removed = provision.membership_remove(user_id=quiet.id, group_id=group)
        assert removed["removed"] is True
        assert removed["revoked_after"] == 0
        (frame, delay), (frame2, delay2) = await asyncio.gather(
            _frame_delay(s_quiet, removed["committed_at"]),
            _frame_delay(s_quiet2, removed["committed_at"]),
        )
        assert frame == _revoked_frame(group)
        assert frame2 == _revoked_frame(group)
        record_figure("revocation.membership_remove.orm.secs", round(delay, 3))
        record_figure(
            "revocation.membership_remove.orm.second_socket.secs", round(delay2, 3)
        )
        print(f"membership removal (ORM, no write): {delay:.3f} s, {delay2:.3f} s")
        assert delay <= REVOCATION_LIMIT_SECS, f"access_revoked after {delay:.3f} s"
        assert delay2 <= REVOCATION_LIMIT_SECS, f"access_revoked after {delay2:.3f} s"
        # The socket and its other subscription stay.
        await s_quiet.ping()
        mine = await api.create(text="still quiet's?", workspace_group=group)
        assert await s_peer.recv() == event_frame("created", group, 1, mine)
        assert await s_racing.recv() == event_frame("created", group, 1, mine)

        # Removal with a write committed right after it, racing the revocation.
        removed = provision.membership_remove(user_id=racing.id, group_id=group)
        assert removed["revoked_after"] == 1
        after = await api.create(text="after the removal", workspace_group=group)
        frame, delay = await _frame_delay(s_racing, removed["committed_at"])
        assert frame == _revoked_frame(group)
        record_figure(
            "revocation.membership_remove.orm_with_write.secs", round(delay, 3)
        )
        print(f"membership removal (ORM, write right after): {delay:.3f} s")
        assert delay <= REVOCATION_LIMIT_SECS, f"access_revoked after {delay:.3f} s"
        assert await s_peer.recv() == event_frame("created", group, 2, after)
        await asyncio.gather(
            *(sock.expect_nothing(QUIET_SECS) for sock in (s_quiet, s_racing, s_peer))
        )
        assert s_quiet2.received == [
            {"type": "subscribed", "workspace_group": group, "seq": 0},
            _revoked_frame(group),
        ]


async def test_membership_readded_subscribes_again_at_once(
    shared_gateway: Gateway, provision: Provisioner
) -> None:
    """A member removed and added back may subscribe at once: live from the head, and
    with an old `since` a `reset` rather than what was committed while away."""
    world = provision(
        users=["author", "member"],
        groups=[{"name": "g", "admins": ["author"], "members": ["member"]}],
    )
    group = world.groups["g"]
    member = world.users["member"]

    async with (
        open_socket(shared_gateway, token=member.token) as sock,
        api_for(shared_gateway, world.users["author"]) as api,
    ):
        assert await sock.subscribe(group) == 0
        seen = await api.create(text="seen", workspace_group=group)
        assert await sock.recv() == event_frame("created", group, 1, seen)
        removed = provision.membership_remove(user_id=member.id, group_id=group)
        assert removed["revoked_after"] == 1
        assert await sock.recv(REVOCATION_WAIT_SECS) == _revoked_frame(group)
        await api.create(text="while away", workspace_group=group)

        added = provision.membership_add(user_id=member.id, group_id=group)
        assert added["joined_seq"] == 2
        assert await sock.subscribe(group) == 2
        back = await api.create(text="back", workspace_group=group)
        assert await sock.recv() == event_frame("created", group, 3, back)

        # Resuming from before the re-join: history that was not theirs is not sent.
        assert await sock.subscribe(group, since=1) == 3
        assert await sock.recv() == {
            "type": "reset",
            "workspace_group": group,
            "seq": 3,
        }
        # From the re-join on, it is theirs again.
        assert await sock.subscribe(group, since=2) == 3
        assert await sock.recv() == event_frame("created", group, 3, back)
        await sock.expect_nothing(QUIET_SECS)


async def test_user_deactivation_closes_socket_4403_within_a_second(
    shared_gateway: Gateway, provision: Provisioner
) -> None:
    """Deactivating a user (a model save in another process) closes their socket
    with 4403 within a second."""
    world = provision(
        users=["author", "member"],
        groups=[{"name": "g", "admins": ["author"], "members": ["member"]}],
    )
    member = world.users["member"]

    async with open_socket(shared_gateway, token=member.token) as sock:
        await sock.subscribe(world.groups["g"])
        done = provision.user_deactivate(user_id=member.id)
        code, delay = await _close_delay(sock, done["committed_at"])
    record_figure("revocation.user_deactivate.orm.secs", round(delay, 3))
    print(f"user deactivation (ORM): closed {code} after {delay:.3f} s")
    assert code == 4403
    assert delay <= REVOCATION_LIMIT_SECS, f"closed after {delay:.3f} s"


async def test_token_deletion_closes_socket_4401_within_a_second(
    shared_gateway: Gateway, provision: Provisioner
) -> None:
    """Deleting the token a socket authenticated with (a model delete in another
    process) closes that socket with 4401 within a second."""
    world = provision(
        users=["author", "member"],
        groups=[{"name": "g", "admins": ["author"], "members": ["member"]}],
    )
    member = world.users["member"]

    async with open_socket(shared_gateway, token=member.token) as sock:
        await sock.subscribe(world.groups["g"])
        done = provision.token_delete(user_id=member.id)
        code, delay = await _close_delay(sock, done["committed_at"])
    record_figure("revocation.token_delete.orm.secs", round(delay, 3))
    print(f"token deletion (ORM): closed {code} after {delay:.3f} s")
    assert code == 4401
    assert delay <= REVOCATION_LIMIT_SECS, f"closed after {delay:.3f} s"


def _raw_sql(database_url: str, statement: str, params: tuple[object, ...]) -> float:
    """Run one statement in autocommit, outside Django; time.time() after its commit."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        changed = conn.execute(statement, params).rowcount
        committed_at = time.time()
    assert changed == 1, f"{statement} changed {changed} rows"
    return committed_at


async def test_raw_sql_membership_delete_ends_subscription_within_a_second(
    shared_gateway: Gateway, provision: Provisioner, e2e_database: str
) -> None:
    """A membership deleted by raw SQL (no Django signal, so no access version bump)
    ends the subscription with `access_revoked` within a second, through the poll.

    Only the delay is asserted here. Without the signal nothing marks the group's
    events as needing a re-check, so an event committed between the DELETE and the
    next poll may still be delivered: the no-event-after-loss guarantee holds for
    changes made through the ORM (see the test above), not for this path.
    """
    world = provision(
        users=["author", "member"],
        groups=[{"name": "g", "admins": ["author"], "members": ["member"]}],
    )
    group = world.groups["g"]
    member = world.users["member"]

    async with open_socket(shared_gateway, token=member.token) as sock:
        assert await sock.subscribe(group) == 0
        await sock.subscribe(member.personal_group)
        committed_at = await asyncio.to_thread(
            _raw_sql,
            e2e_database,
            "DELETE FROM iam_membership WHERE user_id = %s AND group_id = %s",
            (member.id, group),
        )
        frame, delay = await _frame_delay(sock, committed_at)
        record_figure("revocation.membership_remove.raw_sql.secs", round(delay, 3))
        print(f"membership removal (raw SQL): {delay:.3f} s")
        assert frame == _revoked_frame(group)
        assert delay <= REVOCATION_LIMIT_SECS, f"access_revoked after {delay:.3f} s"
        await sock.ping()
        await sock.expect_nothing(QUIET_SECS)
    assert group_head(e2e_database, group) == 0


async def test_raw_sql_deactivation_closes_socket_4403_within_a_second(
    shared_gateway: Gateway, provision: Provisioner, e2e_database: str
) -> None:
    """`UPDATE ... SET is_active = false` in raw SQL closes the socket with 4403
    within a second, found by the poll since no signal runs."""
    world = provision(users=["member"])
    member = world.users["member"]

    async with open_socket(shared_gateway, token=member.token) as sock:
        await sock.subscribe(member.personal_group)
        committed_at = await asyncio.to_thread(
            _raw_sql,
            e2e_database,
            "UPDATE iam_iamuser SET is_active = false WHERE id = %s",
            (member.id,),
        )
        code, delay = await _close_delay(sock, committed_at)
    record_figure("revocation.user_deactivate.raw_sql.secs", round(delay, 3))
    print(f"user deactivation (raw SQL): closed {code} after {delay:.3f} s")
    assert code == 4403
    assert delay <= REVOCATION_LIMIT_SECS, f"closed after {delay:.3f} s"


async def test_raw_sql_token_delete_closes_socket_4401_within_a_second(
    shared_gateway: Gateway, provision: Provisioner, e2e_database: str
) -> None:
    """A token deleted by raw SQL closes its socket with 4401 within a second."""
    world = provision(users=["member"])
    member = world.users["member"]

    async with open_socket(shared_gateway, token=member.token) as sock:
        await sock.subscribe(member.personal_group)
        committed_at = await asyncio.to_thread(
            _raw_sql,
            e2e_database,
            "DELETE FROM authtoken_token WHERE key = %s",
            (member.token,),
        )
        code, delay = await _close_delay(sock, committed_at)
    record_figure("revocation.token_delete.raw_sql.secs", round(delay, 3))
    print(f"token deletion (raw SQL): closed {code} after {delay:.3f} s")
    assert code == 4401
    assert delay <= REVOCATION_LIMIT_SECS, f"closed after {delay:.3f} s"
