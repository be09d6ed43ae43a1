"""The stream's guarantees, checked on random programs against real gateway workers.

A program interleaves writes over REST (create, edit, move between two groups, soft
delete), membership removals and re-adds through the provisioning process, and
subscribers (each with one or two sockets) that subscribe live, from 0 or resuming
from the last seq they saw, and drop their sockets. Once the program has run and the
gateway is quiet, every subscription segment (one `subscribed` up to its end) must
hold exactly what the oracle derives from the database:

- the events of the group's log (ActivityEvent, the same text) with seq in
  (since, end], in order, each once, with no jump; an unfiltered subscriber never
  sees a seq jump except right after a `reset`;
- a `reset` (and then events from the head on) exactly when `since` is below the
  joined_seq of the membership current at subscribe time;
- only events the user had access to: seq above the joined_seq of a membership and
  not above that membership's revocation point (the group's seq at its removal);
- a segment still open at the end has reached the group's head and its user is a
  member; a segment ended by `access_revoked` follows a removal made after it began.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from tests.e2e.harness import (
    Api,
    Gateway,
    Provisioner,
    Socket,
    User,
    close_code,
    event_frames,
    http_client,
    open_socket,
)

pytestmark = pytest.mark.e2e

GROUPS = 2
# A reply to subscribe or unsubscribe; normally milliseconds.
REPLY_TIMEOUT_SECS = 10.0
# After the program: how long open segments may take to catch up or be revoked.
QUIESCE_TIMEOUT_SECS = 15.0
# Then this long with nothing arriving: more than two access polls (0.5 s each).
QUIET_SECS = 1.2
# An `access_revoked` raced by an unsubscribe may trail its `not_found` reply.
REVOKE_TRAIL_SECS = 3.0


# -- programs ------------------------------------------------------------------------


@dataclass(frozen=True)
class Create:
    group: int


@dataclass(frozen=True)
class Edit:
    pick: int


@dataclass(frozen=True)
class Move:
    pick: int


@dataclass(frozen=True)
class Delete:
    pick: int


@dataclass(frozen=True)
class ToggleMember:
    """Remove the subscriber from the group if a member, else add them back."""

    user: int
    group: int


@dataclass(frozen=True)
class Subscribe:
    """since: "live" (none), "zero" (0) or "resume" (the last seq this socket saw)."""

    socket: int
    group: int
    since: str


@dataclass(frozen=True)
class Drop:
    socket: int


@dataclass(frozen=True)
class Pause:
    secs: float


Op = Create | Edit | Move | Delete | ToggleMember | Subscribe | Drop | Pause


@dataclass(frozen=True)
class Program:
    """`sockets[u]` sockets for subscriber u; socket indexes count across users."""

    sockets: tuple[int, ...]
    ops: tuple[Op, ...]


_group = st.integers(0, GROUPS - 1)
_pick = st.integers(0, 7)
_socket = st.integers(0, 5)
# Repeats weight the choice: writes and resumes are what the properties are about.
_ops = st.one_of(
    st.builds(Create, _group),
    st.builds(Create, _group),
    st.builds(Create, _group),
    st.builds(Edit, _pick),
    st.builds(Move, _pick),
    st.builds(Move, _pick),
    st.builds(Delete, _pick),
    st.builds(ToggleMember, st.integers(0, 2), _group),
    st.builds(ToggleMember, st.integers(0, 2), _group),
    st.builds(Subscribe, _socket, _group, st.sampled_from(["live", "zero", "resume"])),
    st.builds(Subscribe, _socket, _group, st.just("resume")),
    st.builds(Drop, _socket),
    st.builds(Pause, st.sampled_from([0.1, 0.6])),
)


def _prologue(sockets: tuple[int, ...]) -> tuple[Op, ...]:
    """Every socket subscribes live to every group, so the random part has readers."""
    return tuple(
        Subscribe(slot, group, "live")
        for slot in range(sum(sockets))
        for group in range(GROUPS)
    )


@st.composite
def programs(draw: st.DrawFn) -> Program:
    sockets = tuple(draw(st.lists(st.integers(1, 2), min_size=2, max_size=3)))
    ops = draw(st.lists(_ops, min_size=15, max_size=35))
    return Program(sockets=sockets, ops=_prologue(sockets) + tuple(ops))


# -- the run -------------------------------------------------------------------------


@dataclass
class Membership:
    joined: int
    joined_at_op: int
    revoked_after: int | None = None
    removed_at_op: int | None = None


@dataclass
class Segment:
    """One subscription: from its `subscribed` frame to its end."""

    slot: int
    user: int
    group: int
    since: int | None
    op: int
    membership: Membership
    expected_head: int
    head: int | None = None
    frames: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    # None while open; "access_revoked" or "client" (an unsubscribed frame),
    # "dropped" (the client closed the socket), "closed <code>" (the server did).
    end: str | None = None

    def last_seq(self) -> int | None:
        """The resume point: last event, reset or (live) subscribed seq."""
        seq = self.since if self.since is not None else self.head
        for frame, _ in self.frames:
            if "seq" in frame:
                seq = frame["seq"]
        return seq


class Client:
    """One socket of a subscriber; a reader files every frame under its segment."""

    def __init__(self, run: Run, slot: int, sock: Socket, stack: Any) -> None:
        self.run = run
        self.slot = slot
        self.sock = sock
        self.stack = stack
        self.current: dict[int, Segment] = {}
        self.pending: dict[int, Segment] = {}
        self.replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.dropping = False
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        code = 1000
        try:
            async for raw in self.sock.ws:
                self._file(json.loads(raw), str(raw))
        except ConnectionClosed as exc:
            code = close_code(exc)
        self._end_all("dropped" if self.dropping else f"closed {code}")

    def _end_all(self, end: str) -> None:
        for segment in self.current.values():
            segment.end = end
        self.current.clear()

    def _file(self, frame: dict[str, Any], raw: str) -> None:
        kind = frame.get("type")
        group: Any = frame.get("workspace_group")
        if kind == "subscribed":
            segment = self.pending.pop(group, None)
            if segment is None:
                self.run.fail(f"socket {self.slot}: unasked {frame}")
            else:
                segment.head = frame["seq"]
                self.current[group] = segment
            self.replies.put_nowait(frame)
        elif kind == "error":
            self.replies.put_nowait(frame)
        elif kind == "unsubscribed":
            segment = self.current.pop(group, None)
            if segment is None:
                self.run.fail(f"socket {self.slot}: {frame} outside a subscription")
            else:
                segment.end = frame["reason"]
            if frame["reason"] == "client":
                self.replies.put_nowait(frame)
        elif group in self.current and kind != "pong":
            self.current[group].frames.append((frame, raw))
        else:
            self.run.fail(f"socket {self.slot}: stray frame {raw}")

    async def reply(self) -> dict[str, Any]:
        try:
            return await asyncio.wait_for(self.replies.get(), REPLY_TIMEOUT_SECS)
        except TimeoutError:
            raise AssertionError(
                f"socket {self.slot}: no reply in {REPLY_TIMEOUT_SECS}s"
            ) from None

    async def drop(self) -> None:
        self.dropping = True
        await self.stack.aclose()
        await asyncio.wait_for(self.reader, REPLY_TIMEOUT_SECS)


class Run:
    """Executes one program against the gateway and keeps what the oracle needs."""

    def __init__(
        self,
        *,
        program: Program,
        gateway: Gateway,
        provision: Provisioner,
        database_url: str,
    ) -> None:
        self.program = program
        self.gateway = gateway
        self.provision = provision
        self.database_url = database_url
        subscribers = [f"sub{n}" for n in range(len(program.sockets))]
        world = provision(
            users=["author", *subscribers],
            groups=[
                {"name": f"g{n}", "admins": ["author"], "members": subscribers}
                for n in range(GROUPS)
            ],
        )
        self.author = world.users["author"]
        self.users: list[User] = [world.users[name] for name in subscribers]
        self.groups = [world.groups[f"g{n}"] for n in range(GROUPS)]
        self.heads = dict.fromkeys(self.groups, 0)
        # Every subscriber joined each fresh group at seq 0, at provisioning.
        self.memberships: dict[tuple[int, int], list[Membership]] = {
            (u, g): [Membership(joined=0, joined_at_op=-1)]
            for u in range(len(self.users))
            for g in self.groups
        }
        self.slot_user = [
            u for u, count in enumerate(program.sockets) for _ in range(count)
        ]
        self.clients: dict[int, Client] = {}
        self.last_seen: dict[tuple[int, int], int] = {}
        self.segments: list[Segment] = []
        self.active: dict[int, int] = {}  # activity id -> group id, in feeds
        self.trace: list[str] = []
        self.failures: list[str] = []

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def member(self, user: int, group: int) -> Membership | None:
        latest = self.memberships[(user, group)][-1]
        return latest if latest.revoked_after is None else None

    def _read_heads(self) -> None:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT id, event_seq FROM iam_workspacegroup WHERE id = ANY(%s)",
                (self.groups,),
            ).fetchall()
        self.heads.update({int(pk): int(seq) for pk, seq in rows})

    # -- ops -----------------------------------------------------------------------

    async def execute(self, api: Api) -> None:
        for index, op in enumerate(self.program.ops):
            self.trace.append(f"{index}: {await self._step(index, op, api)}")

    async def _step(self, index: int, op: Op, api: Api) -> str:
        if isinstance(op, Pause):
            await asyncio.sleep(op.secs)
            return f"pause {op.secs}s"
        if isinstance(op, Create):
            group = self.groups[op.group]
            made = await api.create(text=f"op {index}", workspace_group=group)
            self.active[made["id"]] = group
            await asyncio.to_thread(self._read_heads)
            return f"create {made['id']} in {group} -> heads {self.heads}"
        if isinstance(op, Edit | Move | Delete):
            if not self.active:
                return f"{op} skipped: no activity in a feed"
            ids = sorted(self.active)
            activity = ids[op.pick % len(ids)]
            if isinstance(op, Edit):
                await api.patch(activity, text=f"edit {index}")
                what = f"edit {activity}"
            elif isinstance(op, Move):
                target = next(g for g in self.groups if g != self.active[activity])
                await api.patch(activity, workspace_group=target)
                self.active[activity] = target
                what = f"move {activity} to {target}"
            else:
                await api.delete(activity)
                del self.active[activity]
                what = f"delete {activity}"
            await asyncio.to_thread(self._read_heads)
            return f"{what} -> heads {self.heads}"
        if isinstance(op, ToggleMember):
            return await self._toggle(index, op)
        if isinstance(op, Subscribe):
            return await self._subscribe(index, op)
        assert isinstance(op, Drop)
        slot = op.socket % len(self.slot_user)
        client = self.clients.pop(slot, None)
        if client is None:
            return f"drop socket {slot}: not connected"
        await client.drop()
        return f"drop socket {slot}"

    async def _toggle(self, index: int, op: ToggleMember) -> str:
        user = op.user % len(self.users)
        group = self.groups[op.group]
        uid = self.users[user].id
        current = self.member(user, group)
        if current is not None:
            done = await asyncio.to_thread(
                self.provision.membership_remove, user_id=uid, group_id=group
            )
            current.revoked_after = done["revoked_after"]
            current.removed_at_op = index
            if done["revoked_after"] != self.heads[group]:
                self.fail(f"op {index}: removal at {done} but head {self.heads}")
            return f"remove user {user} from {group} after seq {done['revoked_after']}"
        done = await asyncio.to_thread(
            self.provision.membership_add, user_id=uid, group_id=group
        )
        self.memberships[(user, group)].append(
            Membership(joined=done["joined_seq"], joined_at_op=index)
        )
        if done["joined_seq"] != self.heads[group]:
            self.fail(f"op {index}: joined at {done} but head {self.heads}")
        return f"add user {user} to {group} at seq {done['joined_seq']}"

    async def _subscribe(self, index: int, op: Subscribe) -> str:
        slot = op.socket % len(self.slot_user)
        user = self.slot_user[slot]
        group = self.groups[op.group]
        client = self.clients.get(slot)
        notes = []
        if client is None:
            stack = contextlib.AsyncExitStack()
            sock = await stack.enter_async_context(
                open_socket(self.gateway, token=self.users[user].token)
            )
            client = self.clients[slot] = Client(self, slot, sock, stack)
            notes.append("connect")
        if group in client.current:
            notes.append(await self._unsubscribe(index, client, group))
        since = {
            "live": None,
            "zero": 0,
            "resume": self._resume_point(slot, group),
        }[op.since]
        membership = self.member(user, group)
        segment = Segment(
            slot=slot,
            user=user,
            group=group,
            since=since,
            op=index,
            membership=membership or Membership(joined=-1, joined_at_op=-1),
            expected_head=self.heads[group],
        )
        client.pending[group] = segment
        frame: dict[str, Any] = {"type": "subscribe", "workspace_group": group}
        if since is not None:
            frame["since"] = since
        await client.sock.send(frame)
        reply = await client.reply()
        if reply["type"] == "subscribed":
            self.segments.append(segment)
            if membership is None:
                self.fail(f"op {index}: socket {slot} subscribed as a non-member")
        else:
            client.pending.pop(group, None)
            if membership is not None or reply.get("code") != "not_found":
                self.fail(f"op {index}: member's subscribe answered {reply}")
        notes.append(f"subscribe since={since} -> {reply['type']}")
        return f"socket {slot} (user {user}) group {group}: {', '.join(notes)}"

    def _resume_point(self, slot: int, group: int) -> int | None:
        last = None
        for segment in self.segments:
            if segment.slot == slot and segment.group == group:
                last = segment.last_seq()
        return last

    async def _unsubscribe(self, index: int, client: Client, group: int) -> str:
        await client.sock.send({"type": "unsubscribe", "workspace_group": group})
        reply = await client.reply()
        if reply["type"] == "unsubscribed":
            return "unsubscribe -> client"
        if reply.get("code") != "not_found":
            self.fail(f"op {index}: unsubscribe answered {reply}")
            return f"unsubscribe -> {reply}"
        # Not subscribed any more: only a revocation does that, and its frame may
        # trail this reply.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REVOKE_TRAIL_SECS
        while group in client.current and loop.time() < deadline:
            await asyncio.sleep(0.02)
        if group in client.current:
            self.fail(
                f"op {index}: unsubscribe answered not_found on socket "
                f"{client.slot} but no access_revoked came for group {group}"
            )
            client.current.pop(group).end = "not_found"
        return "unsubscribe -> not_found (revoked)"

    # -- the end -------------------------------------------------------------------

    def _settled(self, segment: Segment) -> bool:
        if segment.end is not None:
            return True
        return (
            self.member(segment.user, segment.group) is not None
            and segment.last_seq() == self.heads[segment.group]
        )

    async def quiesce(self) -> None:
        await asyncio.to_thread(self._read_heads)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + QUIESCE_TIMEOUT_SECS
        while loop.time() < deadline:
            if all(self._settled(s) for s in self.segments):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(QUIET_SECS)

    async def close(self) -> None:
        open_at_end = {
            id(s): s for c in self.clients.values() for s in c.current.values()
        }
        for client in self.clients.values():
            await client.drop()
        for segment in open_at_end.values():
            segment.end = None
        self.clients.clear()

    # -- the oracle ----------------------------------------------------------------

    def check(self) -> None:
        logs = {g: event_frames(self.database_url, g) for g in self.groups}
        for group, log in logs.items():
            if sorted(log) != list(range(1, self.heads[group] + 1)):
                self.fail(f"group {group}: log seqs {sorted(log)}, head {self.heads}")
        for n, segment in enumerate(self.segments):
            for problem in self._segment_problems(segment, logs[segment.group]):
                self.fail(f"segment {n} {_describe(segment)}: {problem}")

    def _has_access(self, user: int, group: int, seq: int) -> bool:
        return any(
            m.joined < seq and (m.revoked_after is None or seq <= m.revoked_after)
            for m in self.memberships[(user, group)]
        )

    def _segment_problems(self, seg: Segment, log: dict[int, str]) -> list[str]:
        problems = []
        if seg.head != seg.expected_head:
            problems.append(f"subscribed seq {seg.head}, head was {seg.expected_head}")
        frames = list(seg.frames)
        must_reset = seg.since is not None and seg.since < seg.membership.joined
        reset = {"type": "reset", "workspace_group": seg.group, "seq": seg.head}
        if must_reset:
            if not frames or frames[0][0] != reset:
                first = frames[0][0] if frames else None
                problems.append(f"since below joined_seq: wanted {reset}, got {first}")
            else:
                frames = frames[1:]
            start = seg.head
        else:
            start = seg.since if seg.since is not None else seg.head
        assert start is not None
        # No jump: each event is the previous seq plus one, except after a reset.
        previous = start
        for frame, raw in frames:
            seq: Any = frame.get("seq")
            if frame.get("type") == "reset":
                problems.append(f"unexpected {frame}")
                previous = seq
                continue
            if seq != previous + 1:
                what = "duplicate or reorder" if seq <= previous else "jump"
                problems.append(f"{what}: seq {seq} after {previous}")
            if log.get(seq) != raw:
                problems.append(f"seq {seq} differs from the log: {raw}")
            if not self._has_access(seg.user, seg.group, seq):
                problems.append(f"seq {seq} delivered without access")
            previous = max(previous, seq)
        removed_later = [
            m
            for m in self.memberships[(seg.user, seg.group)]
            if m.removed_at_op is not None and m.removed_at_op > seg.op
        ]
        if seg.end is None:
            if self.member(seg.user, seg.group) is None:
                problems.append("open at the end, never told access_revoked")
            if previous != self.heads[seg.group]:
                problems.append(
                    f"open at the end at seq {previous}, "
                    f"head {self.heads[seg.group]}: events missing"
                )
        elif seg.end == "access_revoked":
            if not removed_later:
                problems.append("access_revoked with no removal after subscribing")
        elif seg.end not in ("client", "dropped"):
            problems.append(f"ended by {seg.end}")
        return problems


def _describe(segment: Segment) -> str:
    return (
        f"(socket {segment.slot}, user {segment.user}, group {segment.group}, "
        f"op {segment.op}, since {segment.since}, joined "
        f"{segment.membership.joined}, head {segment.head}, end {segment.end}, "
        f"frames {[f.get('seq', f.get('type')) for f, _ in segment.frames]})"
    )


async def _run_program(
    program: Program, gateway: Gateway, provision: Provisioner, database_url: str
) -> None:
    run = await asyncio.to_thread(
        Run,
        program=program,
        gateway=gateway,
        provision=provision,
        database_url=database_url,
    )
    try:
        async with http_client(gateway, run.author.token) as client:
            await run.execute(Api(client))
        await run.quiesce()
    finally:
        await run.close()
    run.check()
    assert not run.failures, "\n".join(
        ["stream property broken:", *run.failures, "program:", *run.trace]
    )


# A member removed, a write committed while they are out, then re-added at once,
# with a live subscription and a resuming one on the same group.
_REMOVE_WRITE_READD = Program(
    sockets=(2, 1),
    ops=(
        Subscribe(0, 0, "live"),
        Create(0),
        Subscribe(1, 0, "zero"),
        ToggleMember(0, 0),
        Create(0),
        ToggleMember(0, 0),
        Create(0),
        Subscribe(0, 0, "resume"),
        Drop(1),
        Create(0),
        Subscribe(1, 0, "resume"),
        Move(0),
        Subscribe(2, 1, "zero"),
    ),
)


def test_stream_segments_match_the_log_and_access(
    shared_gateway: Gateway, provision: Provisioner, e2e_database: str
) -> None:
    """Every subscription of a random program gets exactly the logged events it had
    access to after its `since`, in order, once each, or `reset` where due."""

    @settings(
        max_examples=10,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @example(_REMOVE_WRITE_READD)
    @given(programs())
    def check_program(program: Program) -> None:
        asyncio.run(_run_program(program, shared_gateway, provision, e2e_database))

    check_program()
