"""Real gateway processes for end-to-end tests, and the clients that talk to them.

A `Gateway` is `python -m gateway.serve --workers N` on a free port of 127.0.0.1,
logging to test-artifacts/e2e/. Its workers are found through /proc, so a test can
signal one of them and tell which worker holds which client connection. Every wait
here is bounded; every process started here is stopped by its owner's teardown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import redis
from psycopg import sql
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"

# Two Daphne processes start in a few seconds on two idle cores; the margin is for
# a loaded CI machine, not for a normal run.
START_TIMEOUT_SECS = 60.0
# SIGTERM first, SIGKILL after this: a test never waits longer on a stuck process.
STOP_TIMEOUT_SECS = 10.0
# Default wait for one expected frame; events normally arrive in milliseconds.
RECV_TIMEOUT_SECS = 5.0
# Subprocesses that only talk to the local database (migrate, provisioning).
COMMAND_TIMEOUT_SECS = 120.0
HTTP_TIMEOUT_SECS = 20.0

# Variables of the test process that would change what a child process connects to.
_CHILD_ENV_DROP = ("DATABASE_URL", "REDIS_URL", "HOST", "PORT", "PUBLIC_BASE_URL")

# TCP states in /proc/net/tcp.
_TCP_ESTABLISHED = "01"
_TCP_LISTEN = "0A"


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def child_env(**values: str) -> dict[str, str]:
    """The test process's environment without its connection settings, plus `values`."""
    env = {k: v for k, v in os.environ.items() if k not in _CHILD_ENV_DROP}
    env["DJANGO_SETTINGS_MODULE"] = "gateway.settings"
    env.update(values)
    return env


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` on the same server."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


# -- services ------------------------------------------------------------------------


def postgres_answers(url: str) -> str | None:
    """None if the server of `url` accepts a connection, else why not."""
    try:
        with psycopg.connect(with_database(url, "postgres"), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip()


def redis_answers(url: str) -> str | None:
    """None if the Redis server of `url` answers PING, else why not."""
    client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        return str(exc)
    finally:
        client.close()
    return None


def database_create(server_url: str, name: str) -> str:
    """A new, empty database `name` on the server of `server_url`; its URL."""
    with psycopg.connect(
        with_database(server_url, "postgres"), autocommit=True, connect_timeout=5
    ) as conn:
        ident = sql.Identifier(name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))
    return with_database(server_url, name)


def database_drop(server_url: str, name: str) -> None:
    with psycopg.connect(
        with_database(server_url, "postgres"), autocommit=True, connect_timeout=5
    ) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


def migrate(database_url: str, log_path: Path) -> None:
    """Apply every migration to `database_url`, as a deployment would."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        done = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=REPO_ROOT,
            env=child_env(DATABASE_URL=database_url),
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=COMMAND_TIMEOUT_SECS,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"migrate failed; see {log_path}")


def group_ids_start_at(database_url: str, first: int) -> None:
    """Make the next workspace group ids start at `first`.

    Redis pub/sub channels are shared by every DB index of a server, so a gateway
    run by another suite on the same server publishes to the same channel names for
    the same group ids. Ids far from theirs keep the two from hearing each other.
    """
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('iam_workspacegroup', 'id'), %s,"
            " false)",
            (first,),
        )


def event_log(database_url: str, group_id: int) -> list[tuple[int, str, int]]:
    """(seq, kind, activity id) of every logged event of the group, in seq order."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT seq, kind, activity_id FROM activities_activityevent"
            " WHERE workspace_group_id = %s ORDER BY seq",
            (group_id,),
        ).fetchall()
    return [(int(seq), str(kind), int(activity)) for seq, kind, activity in rows]


def group_head(database_url: str, group_id: int) -> int:
    """The latest committed seq of the group."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT event_seq FROM iam_workspacegroup WHERE id = %s", (group_id,)
        ).fetchone()
    assert row is not None, f"no workspace group {group_id}"
    return int(row[0])


def event_frames(database_url: str, group_id: int) -> dict[int, str]:
    """seq -> the logged frame text, for every logged event of the group."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT seq, frame FROM activities_activityevent"
            " WHERE workspace_group_id = %s ORDER BY seq",
            (group_id,),
        ).fetchall()
    return {int(seq): str(frame) for seq, frame in rows}


FIGURES_PATH = ARTIFACTS / "figures.json"


def record_figure(name: str, value: Any) -> None:
    """Store one measured figure under `name` in test-artifacts/e2e/figures.json."""
    FIGURES_PATH.parent.mkdir(parents=True, exist_ok=True)
    try:
        figures = json.loads(FIGURES_PATH.read_text())
    except (OSError, ValueError):
        figures = {}
    figures[name] = value
    FIGURES_PATH.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


@dataclass(frozen=True)
class User:
    name: str
    username: str
    id: int
    token: str
    personal_group: int


@dataclass(frozen=True)
class World:
    """What one provisioning call made, by the names the test gave."""

    users: dict[str, User]
    groups: dict[str, int]


class Provisioner:
    """Makes users (with tokens) and shared groups in the gateway's database.

    One `tests.e2e.provision` process serves every call of a session. Names are the
    test's own; usernames get a random suffix, so tests sharing a database never
    collide.
    """

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.log_path = ARTIFACTS / "provision.log"
        self.process: subprocess.Popen[str] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.provision"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            cwd=REPO_ROOT,
            env=child_env(DATABASE_URL=self.database_url, LOG_LEVEL="WARNING"),
        )

    def stop(self) -> None:
        if self.process is not None:
            assert self.process.stdin is not None and self.process.stdout is not None
            self.process.stdin.close()
            try:
                self.process.wait(STOP_TIMEOUT_SECS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT_SECS)
            self.process.stdout.close()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def _ask(self, spec: dict[str, Any]) -> dict[str, Any]:
        if self.process is None:
            self.start()
        assert self.process is not None
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(spec) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], COMMAND_TIMEOUT_SECS)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            raise RuntimeError(f"provisioning gave no answer; see {self.log_path}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"provisioning failed:\n{answer['error']}")
        return dict(answer["ok"])

    def __call__(
        self,
        *,
        users: list[str],
        groups: list[dict[str, Any]] = (),  # type: ignore[assignment]
    ) -> World:
        suffix = uuid.uuid4().hex[:8]
        real = {name: f"{name}-{suffix}" for name in users}
        made = self._ask(
            {
                "users": list(real.values()),
                "groups": [
                    {
                        "name": f"{group['name']}-{suffix}",
                        "admins": [real[n] for n in group.get("admins", [])],
                        "members": [real[n] for n in group.get("members", [])],
                    }
                    for group in groups
                ],
            }
        )
        return World(
            users={
                name: User(name=name, username=real[name], **made["users"][real[name]])
                for name in users
            },
            groups={
                group["name"]: made["groups"][f"{group['name']}-{suffix}"]
                for group in groups
            },
        )

    # Changes after provisioning, each through the product's services and signals,
    # in the provisioning process (another process than the gateway's, as an admin
    # or a shell would be). Each answer has `committed_at`, time.time() just after
    # the change committed, for measuring how long the gateway takes to react.

    def membership_remove(self, *, user_id: int, group_id: int) -> dict[str, Any]:
        """Remove a membership: {"removed", "revoked_after" (the group's seq then)}."""
        return self._ask(
            {"op": "membership_remove", "user": user_id, "group": group_id}
        )

    def membership_add(self, *, user_id: int, group_id: int) -> dict[str, Any]:
        """Add a member: {"joined_seq"}."""
        return self._ask({"op": "membership_add", "user": user_id, "group": group_id})

    def user_deactivate(self, *, user_id: int) -> dict[str, Any]:
        return self._ask({"op": "user_deactivate", "user": user_id})

    def token_delete(self, *, user_id: int) -> dict[str, Any]:
        return self._ask({"op": "token_delete", "user": user_id})

    def events_seed(self, *, user_id: int, group_id: int, count: int) -> dict[str, Any]:
        """A history of `count` logged events (see provision.py): {"head"}."""
        return self._ask(
            {"op": "events_seed", "user": user_id, "group": group_id, "count": count}
        )


# -- /proc ---------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses; fields resume after the last.
    return stat[stat.rindex(")") + 2 :].split()


def process_alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, exited but not yet reaped, does not)."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def child_pids(pid: int) -> list[int]:
    """Live child processes of `pid`."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields and int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            children.append(int(entry.name))
    return sorted(children)


def _socket_fds(pid: int) -> dict[int, int]:
    """Socket inode -> file descriptor, for the open sockets of `pid`."""
    found: dict[int, int] = {}
    try:
        entries = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return found
    for entry in entries:
        try:
            target = os.readlink(entry)
        except OSError:
            continue
        if target.startswith("socket:["):
            found[int(target[8:-1])] = int(entry.name)
    return found


@dataclass(frozen=True)
class TcpSocket:
    local_port: int
    remote_port: int
    state: str
    inode: int


def tcp_sockets() -> list[TcpSocket]:
    """The IPv4 TCP sockets of this network namespace."""
    sockets = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        sockets.append(
            TcpSocket(
                local_port=int(parts[1].rsplit(":", 1)[1], 16),
                remote_port=int(parts[2].rsplit(":", 1)[1], 16),
                state=parts[3],
                inode=int(parts[9]),
            )
        )
    return sockets


_EPOLL_TARGET = re.compile(r"^tfd:\s+(\d+)\s", re.MULTILINE)


def _polls_fd(pid: int, fd: int) -> bool:
    """Whether an epoll instance of `pid` watches its descriptor `fd`."""
    try:
        infos = list(Path(f"/proc/{pid}/fdinfo").iterdir())
    except OSError:
        return False
    for info in infos:
        try:
            text = info.read_text()
        except OSError:
            continue
        if any(int(match) == fd for match in _EPOLL_TARGET.findall(text)):
            return True
    return False


# -- the gateway ---------------------------------------------------------------------


class GatewayError(AssertionError):
    """The gateway did not start or stop as it should; the message has its log."""


class Gateway:
    """One `gateway.serve` process and its Daphne workers on 127.0.0.1:`port`."""

    def __init__(
        self,
        *,
        name: str,
        workers: int,
        database_url: str,
        redis_url: str,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.workers = workers
        self.port = free_port()
        self.log_path = ARTIFACTS / f"{name}.log"
        self.env = child_env(
            HOST="127.0.0.1",
            PORT=str(self.port),
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            DJANGO_DEBUG="0",
            LOG_LEVEL="INFO",
            **(env or {}),
        )
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/activities/"

    def start(self, timeout: float = START_TIMEOUT_SECS) -> None:
        """Start the launcher and return once every worker accepts connections."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway.serve", "--workers", str(self.workers)],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Its own process group: teardown can reach workers the launcher lost.
            start_new_session=True,
        )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = START_TIMEOUT_SECS) -> None:
        """Wait for /healthz, /readyz and every worker polling the listening socket."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise GatewayError(f"{self.name} exited early\n{self.log_tail()}")
            if self._probe("/healthz") and self._probe("/readyz"):
                if len(self.listening_workers()) == self.workers:
                    return
            time.sleep(0.2)
        raise GatewayError(
            f"{self.name} not ready in {timeout}s "
            f"(listening workers: {self.listening_workers()})\n{self.log_tail()}"
        )

    def _probe(self, path: str) -> bool:
        try:
            response = httpx.get(self.base_url + path, timeout=3, trust_env=False)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def stop(self) -> None:
        """SIGTERM the launcher (it forwards to workers), SIGKILL what outlives it."""
        process = self.process
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(STOP_TIMEOUT_SECS)
                except subprocess.TimeoutExpired:
                    pass
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(STOP_TIMEOUT_SECS)
        if self._log is not None:
            self._log.close()
            self._log = None

    # -- workers -------------------------------------------------------------------

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        return child_pids(self.process.pid)

    def _listener_inode(self) -> int | None:
        for sock in tcp_sockets():
            if sock.local_port == self.port and sock.state == _TCP_LISTEN:
                return sock.inode
        return None

    def listening_workers(self) -> list[int]:
        """Workers whose event loop watches the shared listening socket."""
        inode = self._listener_inode()
        if inode is None:
            return []
        listening = []
        for pid in self.worker_pids():
            fd = _socket_fds(pid).get(inode)
            if fd is not None and _polls_fd(pid, fd):
                listening.append(pid)
        return listening

    def connections_by_worker(self) -> dict[int, set[int]]:
        """Worker pid -> client ports of the connections it has accepted."""
        accepted = {
            sock.inode: sock.remote_port
            for sock in tcp_sockets()
            if sock.local_port == self.port and sock.state == _TCP_ESTABLISHED
        }
        return {
            pid: {port for inode, port in accepted.items() if inode in fds}
            for pid in self.worker_pids()
            for fds in [_socket_fds(pid)]
        }

    def worker_of(self, client_port: int) -> int:
        """The pid of the worker serving the connection from `client_port`."""
        for pid, ports in self.connections_by_worker().items():
            if client_port in ports:
                return pid
        raise GatewayError(f"no worker of {self.name} holds client port {client_port}")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


def wait_until(
    condition: Callable[[], bool], *, timeout: float, interval: float = 0.1
) -> bool:
    """Poll `condition` until it holds or `timeout` passes; whether it held."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


# -- a private Redis -----------------------------------------------------------------


class RedisServer:
    """A throwaway `redis-server` on its own port, which a test may kill and restart."""

    def __init__(self, *, name: str, executable: str) -> None:
        self.executable = executable
        self.port = free_port()
        self.log_path = ARTIFACTS / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self._log is None:
            self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                self.executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],  # fmt: skip
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        if not wait_until(lambda: redis_answers(self.url) is None, timeout=timeout):
            raise GatewayError(f"redis-server on {self.port} did not answer")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to connected clients."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT_SECS)

    def stop(self) -> None:
        self.kill()
        if self._log is not None:
            self._log.close()
            self._log = None


# -- clients -------------------------------------------------------------------------


def close_code(exc: ConnectionClosed) -> int:
    """The code the server closed with; 1006 when it sent no close frame."""
    return exc.rcvd.code if exc.rcvd is not None else 1006


@dataclass
class Socket:
    """One client connection to /ws/activities/ with bounded receives."""

    ws: ClientConnection
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def local_port(self) -> int:
        return int(self.ws.local_address[1])

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def recv(self, timeout: float = RECV_TIMEOUT_SECS) -> dict[str, Any]:
        """The next frame, decoded; fails if none comes within `timeout`."""
        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
        except TimeoutError:
            raise AssertionError(f"no frame within {timeout}s") from None
        frame = json.loads(raw)
        self.received.append(frame)
        return frame

    async def recv_many(
        self, count: int, timeout: float = RECV_TIMEOUT_SECS
    ) -> list[dict[str, Any]]:
        """The next `count` frames, all within `timeout` in total."""
        deadline = asyncio.get_running_loop().time() + timeout
        frames = []
        for _ in range(count):
            left = deadline - asyncio.get_running_loop().time()
            try:
                frames.append(await self.recv(max(left, 0.001)))
            except AssertionError:
                raise AssertionError(
                    f"got {len(frames)} of {count} frames within {timeout}s; "
                    f"last: {frames[-3:]}"
                ) from None
        return frames

    async def expect_nothing(self, seconds: float) -> None:
        """Fail if any frame arrives within `seconds`."""
        try:
            raw = await asyncio.wait_for(self.ws.recv(), seconds)
        except TimeoutError:
            return
        raise AssertionError(f"expected no frame, got {raw!r}")

    async def subscribe(self, group_id: int, since: int | None = None) -> int:
        """Subscribe and return the `subscribed` frame's seq."""
        frame: dict[str, Any] = {"type": "subscribe", "workspace_group": group_id}
        if since is not None:
            frame["since"] = since
        await self.send(frame)
        reply = await self.recv()
        assert reply["type"] == "subscribed", reply
        assert reply["workspace_group"] == group_id, reply
        return int(reply["seq"])

    async def ping(self) -> None:
        await self.send({"type": "ping"})
        assert await self.recv() == {"type": "pong"}

    async def closed_with(self, timeout: float = RECV_TIMEOUT_SECS) -> int:
        """Wait for the server to end the connection; its close code."""
        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
        except ConnectionClosed as exc:
            return close_code(exc)
        except TimeoutError:
            raise AssertionError(f"socket still open after {timeout}s") from None
        raise AssertionError(f"expected a close, got frame {raw!r}")


@contextlib.asynccontextmanager
async def open_socket(
    gateway: Gateway,
    *,
    token: str | None = None,
    origin: str | None = None,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[Socket]:
    """A connected `Socket`, closed on exit; `token` goes in `Authorization`."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Token {token}"
    ws = await connect(
        gateway.ws_url,
        origin=Origin(origin) if origin else None,
        additional_headers=sent,
        compression=None,
        proxy=None,
        open_timeout=10,
        close_timeout=2,
        # The client may send frames over the server's limit, to test that limit.
        max_size=2**22,
    )
    try:
        yield Socket(ws)
    finally:
        await ws.close()


def http_client(gateway: Gateway, token: str | None) -> httpx.AsyncClient:
    """An async client of the gateway; no keep-alive, so requests spread on workers."""
    headers = {"Authorization": f"Token {token}"} if token else {}
    return httpx.AsyncClient(
        base_url=gateway.base_url,
        headers=headers,
        timeout=HTTP_TIMEOUT_SECS,
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


class Api:
    """The REST calls the tests make, each asserting its documented status."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def create(self, **body: Any) -> dict[str, Any]:
        response = await self.client.post("/api/user-activities/", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def patch(self, activity_id: int, **body: Any) -> dict[str, Any]:
        response = await self.client.patch(
            f"/api/user-activities/{activity_id}/", json=body
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def delete(self, activity_id: int) -> None:
        response = await self.client.delete(f"/api/user-activities/{activity_id}/")
        assert response.status_code == 204, response.text

    async def get(self, activity_id: int) -> dict[str, Any]:
        response = await self.client.get(f"/api/user-activities/{activity_id}/")
        assert response.status_code == 200, response.text
        return dict(response.json())


def create_many(
    base_url: str, token: str, group_id: int, label: str, count: int
) -> list[int]:
    """`count` creates in the group, one after another, each on a new connection;
    the ids made. Blocking: run it in a thread to write alongside a test's sockets."""
    ids = []
    with httpx.Client(
        base_url=base_url,
        headers={"Authorization": f"Token {token}"},
        timeout=HTTP_TIMEOUT_SECS,
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    ) as client:
        for n in range(count):
            response = client.post(
                "/api/user-activities/",
                json={"text": f"{label} #{n}", "workspace_group": group_id},
            )
            assert response.status_code == 201, response.text
            ids.append(int(response.json()["id"]))
    return ids


@contextlib.asynccontextmanager
async def api_for(gateway: Gateway, user: User) -> AsyncIterator[Api]:
    async with http_client(gateway, user.token) as client:
        yield Api(client)


def event_frame(
    kind: str, group_id: int, seq: int, activity: dict[str, Any]
) -> dict[str, Any]:
    """The frame a subscriber must receive for one event."""
    return {
        "type": f"activity.{kind}",
        "workspace_group": group_id,
        "seq": seq,
        "activity": activity,
    }
