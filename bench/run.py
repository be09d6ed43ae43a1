"""`make bench`: the gateway against its peers, side by side, in one bounded run.

    .venv/bin/python -m bench.run            full run, a few minutes
    .venv/bin/python -m bench.run --quick    under about a minute and a half

Creates a fresh PostgreSQL database (bench_<pid>) and flushes a Redis db index it
owns, migrates, creates users, groups, tokens and activities, starts every system
under test as its own processes (all up for the whole run, on their own ports and
groups), then for each socket layout runs the load client (its own process) against
each system in turn. Server CPU and RSS come from /proc of the server processes,
sampled when the client marks a phase boundary. Writes the table to stdout and the
figures to bench/results/<timestamp>.json and bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import procstat
from bench.loadclient import raise_fd_limit

logger = logging.getLogger("bench.run")

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PYTHON = sys.executable
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
REDIS_BASE = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
# A db index of its own: the run flushes it at start and at the end.
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "12"))
SERVER_START_SECS = 60.0
SESSION_TIMEOUT_SECS = 600.0
STOP_GRACE_SECS = 10.0
# Pause between sessions so one system's socket teardown is not billed to the next.
SETTLE_BETWEEN_SECS = 2.0
DAPHNE_FLAGS = ["--ping-interval", "20", "--ping-timeout", "30"]


@dataclass(frozen=True)
class SystemSpec:
    """A system under test: how to start it, and which layouts it runs."""

    name: str
    kind: str  # "gateway" or "peer"
    settings: str
    workers: int = 1
    asgi: str = ""
    flat_only: bool = False
    extra_env: tuple[tuple[str, str], ...] = ()

    def command(self, port: int) -> list[str]:
        if self.kind == "gateway":
            return [PYTHON, "-m", "gateway.serve", "--workers", str(self.workers)]
        return [
            PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
            *DAPHNE_FLAGS, self.asgi,
        ]  # fmt: skip


SYSTEMS = {
    "gateway": SystemSpec("gateway", "gateway", "gateway.settings"),
    "gateway-2w": SystemSpec(
        "gateway-2w", "gateway", "gateway.settings", workers=2, flat_only=True
    ),
    # The same gateway on channels-redis' core (list-based) layer instead of pub/sub.
    "gateway-core": SystemSpec(
        "gateway-core",
        "gateway",
        "gateway.settings",
        extra_env=(("CHANNEL_LAYER", "core"),),
    ),
    "channels-docs": SystemSpec(
        "channels-docs",
        "peer",
        "bench.peers.channels_docs.settings",
        asgi="bench.peers.channels_docs.asgi:application",
    ),
    "channels-docs-pubsub": SystemSpec(
        "channels-docs-pubsub",
        "peer",
        "bench.peers.channels_docs.settings_pubsub",
        asgi="bench.peers.channels_docs.asgi:application",
    ),
}


@dataclass
class Plan:
    systems: list[str]
    # session name -> (sockets, [layout name -> groups]); a session's sockets join
    # one group per layout, the first before the idle-memory sample.
    sessions: dict[str, tuple[int, dict[str, int]]]
    rate_secs: float
    many_rate: float
    flat_secs: float
    flat_repeats: int
    writers: int
    drain_secs: float
    subscriber_users: int = 25

    @classmethod
    def build(cls, args: argparse.Namespace) -> Plan:
        if args.quick:
            sizes, groups = [100, 500], 50
            plan = cls(
                systems=["gateway", "channels-docs"],
                sessions={},
                rate_secs=3,
                many_rate=10,
                flat_secs=3,
                flat_repeats=1,
                writers=4,
                drain_secs=6,
            )
        else:
            sizes, groups = [100, 1000], 50
            plan = cls(
                systems=[
                    "gateway",
                    "channels-docs",
                    "channels-docs-pubsub",
                    "gateway-core",
                    "gateway-2w",
                ],
                sessions={},
                rate_secs=6,
                many_rate=10,
                flat_secs=5,
                flat_repeats=2,
                writers=8,
                drain_secs=15,
            )
        if args.sizes:
            sizes = [int(size) for size in args.sizes.split(",")]
        if args.systems:
            plan.systems = args.systems.split(",")
        if args.phase_secs:
            plan.rate_secs = plan.flat_secs = args.phase_secs
        if args.repeats:
            plan.flat_repeats = args.repeats
        if args.writers:
            plan.writers = args.writers
        for size in sizes:
            layouts = {f"one-{size}": 1}
            if size == max(sizes) and not args.no_many:
                layouts[f"many-{size}x{min(groups, size)}"] = min(groups, size)
            plan.sessions[f"s{size}"] = (size, layouts)
        return plan

    def layouts(self) -> dict[str, int]:
        return {
            layout: groups
            for _, layouts in self.sessions.values()
            for layout, groups in layouts.items()
        }

    def runs(self, session: str, system: SystemSpec) -> bool:
        # Two workers only matter where one worker is busy: the largest session.
        largest = max(self.sessions.values(), key=lambda entry: entry[0])
        return not system.flat_only or self.sessions[session] is largest

    def phases(self, session: str, system: SystemSpec) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for layout, groups in self.sessions[session][1].items():
            if not system.flat_only:
                rate = 1.0 if groups == 1 else self.many_rate
                found.append(
                    {
                        "name": f"{layout} rate",
                        "target": layout,
                        "mode": "rate",
                        "rate": rate,
                        "secs": self.rate_secs,
                    }
                )
            for repeat in range(self.flat_repeats):
                found.append(
                    {
                        "name": f"{layout} flat#{repeat + 1}",
                        "target": layout,
                        "mode": "flat",
                        "writers": self.writers,
                        "secs": self.flat_secs,
                    }
                )
        return found


@dataclass
class Server:
    spec: SystemSpec
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def pids(self) -> list[int]:
        return procstat.tree(self.process.pid)


@dataclass
class Environment:
    database: str
    database_url: str
    redis_url: str
    workdir: Path
    servers: dict[str, Server] = field(default_factory=dict)

    def env(self, settings: str, port: int) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE=settings,
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            HOST="127.0.0.1",
            PORT=str(port),
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_client() -> Any:
    import redis

    return redis.Redis.from_url(f"{REDIS_BASE}/{REDIS_DB}", socket_timeout=5)


def redis_cpu_secs() -> float:
    info = redis_client().info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def database_create(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_drop(name: str) -> None:
    import psycopg

    try:
        with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception:
        logger.exception("could not drop database %s", name)


def prepare(environment: Environment, plan: Plan) -> dict[str, Any]:
    """Migrate and create the fixtures; returns what bench.fixtures printed."""
    env = environment.env("gateway.settings", 0)
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    layouts = {
        f"{system}/{layout}": groups
        for system in plan.systems
        for layout, groups in plan.layouts().items()
    }
    plan_file = environment.workdir / "fixtures-plan.json"
    plan_file.write_text(
        json.dumps(
            {
                "writers": plan.writers,
                "subscriber_users": plan.subscriber_users,
                "layouts": layouts,
            }
        )
    )
    done = subprocess.run(
        [PYTHON, "-m", "bench.fixtures", "--plan", str(plan_file)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
    )
    return json.loads(done.stdout)


def server_start(environment: Environment, spec: SystemSpec) -> Server:
    port = free_port()
    log = environment.workdir / f"{spec.name}.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            spec.command(port),
            cwd=ROOT,
            env={**environment.env(spec.settings, port), **dict(spec.extra_env)},
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(spec=spec, port=port, process=process, log=log)


def server_wait(server: Server) -> None:
    deadline = time.monotonic() + SERVER_START_SECS
    url = f"http://127.0.0.1:{server.port}/healthz"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.spec.name} exited; see {server.log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    break
        except OSError:
            pass
        time.sleep(0.3)
    else:
        raise RuntimeError(f"{server.spec.name} did not start; see {server.log}")
    # Every worker of a multi-process server must be serving, not only the first.
    while time.monotonic() < deadline and len(
        server.pids()
    ) < 1 + server.spec.workers * (server.spec.kind == "gateway"):
        time.sleep(0.2)
    time.sleep(1.0 + server.spec.workers)


def server_stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(STOP_GRACE_SECS)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(server.process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.process.wait(STOP_GRACE_SECS)


def server_alive(server: Server) -> bool:
    expected = 1 + server.spec.workers if server.spec.kind == "gateway" else 1
    return server.process.poll() is None and len(server.pids()) >= expected


def log_tail(path: Path, lines: int = 40) -> list[str]:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    return [line for line in text if "WSDISCONNECT" not in line][-lines:]


def sample(server: Server) -> dict[str, Any]:
    pids = server.pids()
    use = procstat.usage(pids)
    return {
        "t": time.monotonic(),
        "cpu_secs": use.cpu_secs,
        "rss_bytes": use.rss_bytes,
        "fds": {str(pid): procstat.open_fds(pid) for pid in pids},
        "redis_cpu_secs": redis_cpu_secs(),
        # Every PostgreSQL process on the machine: other tenants add noise.
        "pg_cpu_secs": procstat.command_cpu_secs("postgres"),
    }


def session(
    environment: Environment,
    server: Server,
    plan: Plan,
    layout: str,
    fixtures: dict[str, Any],
    profile: Profiler | None = None,
) -> dict[str, Any]:
    """Run the load client once against one server; merge its figures with /proc's."""
    sockets, layouts = plan.sessions[layout]
    spec = {
        "host": "127.0.0.1",
        "port": server.port,
        "writer_token": fixtures["writer_token"],
        "subscriber_tokens": fixtures["subscriber_tokens"],
        "targets": {
            name: fixtures["layouts"][f"{server.spec.name}/{name}"] for name in layouts
        },
        "sockets": sockets,
        "phases": plan.phases(layout, server.spec),
        "drain_secs": plan.drain_secs,
    }
    spec_file = environment.workdir / f"spec-{server.spec.name}-{layout}.json"
    spec_file.write_text(json.dumps(spec))
    client = subprocess.Popen(
        [PYTHON, "-m", "bench.loadclient", "--spec", str(spec_file)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    marks: dict[str, dict[str, Any]] = {}
    result: dict[str, Any] | None = None
    deadline = time.monotonic() + SESSION_TIMEOUT_SECS
    assert client.stdin is not None and client.stdout is not None
    try:
        for line in client.stdout:
            message = json.loads(line)
            if "mark" in message:
                marks[message["mark"]] = sample(server)
                if profile is not None:
                    profile.at_mark(message["mark"], server)
                client.stdin.write("ok\n")
                client.stdin.flush()
            elif "result" in message:
                result = message["result"]
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"session {server.spec.name} {layout} overran")
        client.wait(30)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait(10)
    if result is None:
        raise RuntimeError(f"load client failed on {server.spec.name} {layout}")
    return merge(result, marks)


class Profiler:
    """py-spy on every worker of one system during its first flat-out phase of
    each session; raw stacks land next to the results (see bench.profile)."""

    def __init__(self, system: str, out: Path, secs: float) -> None:
        self.system, self.out, self.secs = system, out, secs
        self.running: list[subprocess.Popen[bytes]] = []
        self.done: set[str] = set()
        self.files: list[str] = []

    def at_mark(self, mark: str, server: Server) -> None:
        if server.spec.name != self.system:
            return
        if mark.startswith("start:") and "flat" in mark:
            layout = mark.removeprefix("start:").split()[0]
            if layout in self.done:
                return
            self.done.add(layout)
            workers = (
                server.pids()[1:]
                if server.spec.kind == "gateway"
                else [server.process.pid]
            )
            for pid in workers:
                path = self.out / f"profile-{self.system}-{layout}-{pid}.txt"
                self.files.append(str(path))
                self.running.append(
                    subprocess.Popen(
                        [
                            str(Path(PYTHON).parent / "py-spy"),
                            "record",
                            "-p",
                            str(pid),
                            "-d",
                            str(int(self.secs)),
                            "-r",
                            "100",
                            "-f",
                            "raw",
                            # Only the thread holding the interpreter lock: where
                            # the CPU goes, not where threads wait.
                            "--gil",
                            "--nonblocking",
                            "-o",
                            str(path),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )  # fmt: skip
                )
        elif mark.startswith("end:"):
            for spy in self.running:
                try:
                    spy.wait(self.secs + 10)
                except subprocess.TimeoutExpired:
                    spy.kill()
                    spy.wait(5)
            self.running.clear()


def merge(result: dict[str, Any], marks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    empty, idle = marks["empty"], marks["idle"]
    opened = max(result["sockets_open"], 1)
    result["idle_rss_delta_bytes"] = idle["rss_bytes"] - empty["rss_bytes"]
    result["kib_per_idle_socket"] = result["idle_rss_delta_bytes"] / opened / 1024
    result["mib_per_1000_idle_sockets"] = (
        result["idle_rss_delta_bytes"] / opened * 1000 / 2**20
    )
    result["server_fds_idle"] = idle["fds"]
    result["server_cpu_ms_per_socket_open"] = (
        (idle["cpu_secs"] - empty["cpu_secs"]) * 1000 / opened
    )
    for phase in result["phases"]:
        start, end = marks[f"start:{phase['name']}"], marks[f"end:{phase['name']}"]
        cpu = end["cpu_secs"] - start["cpu_secs"]
        redis_cpu = end["redis_cpu_secs"] - start["redis_cpu_secs"]
        pg_cpu = end["pg_cpu_secs"] - start["pg_cpu_secs"]
        delivered = max(phase["delivered"], 1)
        phase["server_cpu_secs"] = cpu
        phase["server_cpu_pct"] = 100 * cpu / max(end["t"] - start["t"], 1e-9)
        phase["server_us_per_delivery"] = cpu * 1e6 / delivered
        phase["redis_us_per_delivery"] = redis_cpu * 1e6 / delivered
        phase["pg_us_per_delivery"] = pg_cpu * 1e6 / delivered
    return result


# -- report --------------------------------------------------------------------


def summarize(phases: list[dict[str, Any]]) -> dict[str, Any]:
    """One row of figures from one or more repeats of a phase: medians, sums."""

    def median(key: str) -> float | None:
        values = [p[key] for p in phases if p.get(key) is not None]
        return statistics.median(values) if values else None

    def median_latency(key: str) -> float | None:
        values = [p["latency_ms"][key] for p in phases if p["latency_ms"][key]]
        return statistics.median(values) if values else None

    return {
        "repeats": len(phases),
        "edits_per_sec": median("edits_per_sec"),
        "deliveries_per_sec": median("deliveries_per_sec"),
        "p50_ms": median_latency("p50"),
        "p95_ms": median_latency("p95"),
        "p99_ms": median_latency("p99"),
        "max_ms": max(
            (p["latency_ms"]["max"] for p in phases if p["latency_ms"]["max"]),
            default=None,
        ),
        "expected": sum(p["expected"] for p in phases),
        "lost": sum(p["lost"] for p in phases),
        "duplicates": sum(p["duplicates"] for p in phases),
        "server_us_per_delivery": median("server_us_per_delivery"),
        "redis_us_per_delivery": median("redis_us_per_delivery"),
        "pg_us_per_delivery": median("pg_us_per_delivery"),
        # Answers other than 200 and requests that got none: a write the
        # subscribers never hear of because it failed is not "lost", but it is
        # still a fault.
        "http_errors": sum(
            count
            for p in phases
            for status, count in p["http_status"].items()
            if status != "200"
        ),
        "server_cpu_pct": median("server_cpu_pct"),
        "client_cpu_pct": median("client_cpu_pct"),
    }


def rows_of(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for run in runs:
        by_mode: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for phase in run["phases"]:
            by_mode.setdefault((phase["target"], phase["mode"]), []).append(phase)
        for (layout, mode), phases in by_mode.items():
            label = (
                f"{layout} {phases[0]['rate']:g}/s"
                if mode == "rate"
                else f"{layout} flat"
            )
            rows.append(
                {
                    "system": run["system"],
                    "layout": layout,
                    "mode": mode,
                    "scenario": label.strip(),
                    "kib_per_idle_socket": run["kib_per_idle_socket"],
                    "sockets_open": run["sockets_open"],
                    **summarize(phases),
                }
            )
    return rows


def ratios_of(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The gateway against each peer, and two workers against one, per scenario."""
    index = {(row["system"], row["layout"], row["mode"]): row for row in rows}
    found = []

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a and b else None

    for (system, layout, mode), ours in index.items():
        if system != "gateway":
            continue
        for other in SYSTEMS:
            theirs = index.get((other, layout, mode))
            if other == "gateway" or theirs is None:
                continue
            found.append(
                {
                    "against": other,
                    "layout": layout,
                    "mode": mode,
                    "deliveries_per_sec": ratio(
                        ours["deliveries_per_sec"], theirs["deliveries_per_sec"]
                    ),
                    "edits_per_sec": ratio(
                        ours["edits_per_sec"], theirs["edits_per_sec"]
                    ),
                    "p50_ms": ratio(ours["p50_ms"], theirs["p50_ms"]),
                    "p99_ms": ratio(ours["p99_ms"], theirs["p99_ms"]),
                    "server_us_per_delivery": ratio(
                        ours["server_us_per_delivery"], theirs["server_us_per_delivery"]
                    ),
                    "kib_per_idle_socket": ratio(
                        ours["kib_per_idle_socket"], theirs["kib_per_idle_socket"]
                    ),
                    "lost": (ours["lost"], theirs["lost"]),
                }
            )
    return found


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def sessions_table(runs: list[dict[str, Any]]) -> str:
    head = (
        f"{'system':<21}{'session':<9}{'open':>6}{'open s':>8}{'ms CPU/open':>12}"
        f"{'MiB/1000 idle':>14}  server fds at idle"
    )
    lines = [head, "-" * len(head)]
    for run in runs:
        died = "  SERVER DIED" if run.get("server_died") is not None else ""
        lines.append(
            f"{run['system']:<21}{run['session']:<9}{run['sockets_open']:>6}"
            f"{run['open_secs']:>8.1f}{run['server_cpu_ms_per_socket_open']:>12.2f}"
            f"{run['mib_per_1000_idle_sockets']:>14.1f}  "
            f"{sorted(run['server_fds_idle'].values())}{died}"
        )
    return "\n".join(lines)


def table(rows: list[dict[str, Any]], ratios: list[dict[str, Any]]) -> str:
    head = (
        f"{'system':<21}{'scenario':<20}{'deliv/s':>10}{'p50':>8}{'p95':>8}"
        f"{'p99':>8}{'max':>8}{'lost':>8}{'dup':>5}{'err':>5}{'us/dlv':>9}"
        f"{'redis':>8}{'pg':>8}{'cli%':>6}{'KiB/sk':>8}"
    )
    lines = [head, "-" * len(head)]
    for row in sorted(rows, key=lambda r: (r["layout"], r["mode"], r["system"])):
        lines.append(
            f"{row['system']:<21}{row['scenario']:<20}"
            f"{fmt(row['deliveries_per_sec'], 0):>10}{fmt(row['p50_ms']):>8}"
            f"{fmt(row['p95_ms']):>8}{fmt(row['p99_ms']):>8}{fmt(row['max_ms'], 0):>8}"
            f"{row['lost']:>8}{row['duplicates']:>5}{row.get('http_errors', 0):>5}"
            f"{fmt(row['server_us_per_delivery']):>9}"
            f"{fmt(row['redis_us_per_delivery']):>8}"
            f"{fmt(row.get('pg_us_per_delivery')):>8}"
            f"{fmt(row['client_cpu_pct'], 0):>6}{fmt(row['kib_per_idle_socket']):>8}"
        )
    lines += [
        "",
        "latency: ms from just before the PATCH to the socket's receive;"
        " err: HTTP answers other than 200 (and requests without one);"
        " us/dlv, redis, pg: server, Redis and PostgreSQL CPU microseconds per"
        " delivered frame (REST included); cli%: load client CPU;"
        " KiB/sk: server RSS per idle subscribed socket",
        "",
        f"{'gateway vs':<21}{'scenario':<20}{'deliv/s x':>10}{'edits/s x':>10}"
        f"{'p50 x':>8}{'p99 x':>8}{'us/dlv x':>9}{'KiB/sk x':>9}"
        f"{'lost (ours, theirs)':>22}",
    ]
    for r in sorted(ratios, key=lambda r: (r["layout"], r["mode"], r["against"])):
        lines.append(
            f"{r['against']:<21}{r['layout'] + ' ' + r['mode']:<20}"
            f"{fmt(r['deliveries_per_sec'], 2):>10}{fmt(r['edits_per_sec'], 2):>10}"
            f"{fmt(r['p50_ms'], 2):>8}{fmt(r['p99_ms'], 2):>8}"
            f"{fmt(r['server_us_per_delivery'], 2):>9}"
            f"{fmt(r['kib_per_idle_socket'], 2):>9}{str(r['lost']):>22}"
        )
    lines.append(
        "x = gateway / other: above 1 is better for deliv/s and edits/s, below 1 is"
        " better for latency, CPU and memory; gateway-2w rows compare 1 worker to 2"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="under a minute or so")
    parser.add_argument("--systems", help="comma-separated; default per mode")
    parser.add_argument("--sizes", help="comma-separated socket counts")
    parser.add_argument("--no-many", action="store_true", help="skip many groups")
    parser.add_argument("--phase-secs", type=float, help="override phase lengths")
    parser.add_argument("--repeats", type=int, help="flat-out repeats per session")
    parser.add_argument("--writers", type=int, help="HTTP writers in flat-out phases")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument(
        "--profile",
        metavar="SYSTEM",
        help="py-spy (if installed) the workers of SYSTEM in its flat-out phases",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    raise_fd_limit()
    plan = Plan.build(args)
    unknown = set(plan.systems) - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown systems: {sorted(unknown)}")

    name = f"bench_{os.getpid()}"
    environment = Environment(
        database=name,
        database_url=f"{PG_URL}/{name}",
        redis_url=f"{REDIS_BASE}/{REDIS_DB}",
        workdir=Path(tempfile.mkdtemp(prefix="bench-")),
    )
    started = datetime.now(UTC)
    runs: list[dict[str, Any]] = []
    failed = False
    profiler = (
        Profiler(args.profile, args.out, plan.flat_secs) if args.profile else None
    )
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        logger.info(
            "database %s, redis db %s, logs in %s", name, REDIS_DB, environment.workdir
        )
        database_create(name)
        redis_client().flushdb()
        fixtures = prepare(environment, plan)
        for system in plan.systems:
            environment.servers[system] = server_start(environment, SYSTEMS[system])
        for server in environment.servers.values():
            server_wait(server)
        for name_of_session in plan.sessions:
            for system in plan.systems:
                server = environment.servers[system]
                if not plan.runs(name_of_session, server.spec):
                    continue
                logger.info("%s: session %s", system, name_of_session)
                result = session(
                    environment, server, plan, name_of_session, fixtures, profiler
                )
                result.update(system=system, session=name_of_session)
                if not server_alive(server):
                    # Counted as it is (its losses stay in the figures), then
                    # replaced so that the next session measures a live server.
                    result["server_died"] = log_tail(server.log)
                    logger.warning("%s died during the session; restarting", system)
                    server_stop(server)
                    server = server_start(environment, server.spec)
                    environment.servers[system] = server
                    server_wait(server)
                runs.append(result)
                time.sleep(SETTLE_BETWEEN_SECS)
    except Exception:
        failed = True
        logger.exception("bench run failed; server logs in %s", environment.workdir)
    finally:
        for server in environment.servers.values():
            server_stop(server)
        database_drop(name)
        try:
            redis_client().flushdb()
        except Exception:
            logger.warning("could not flush redis db %s", REDIS_DB)
    if failed:
        return 1

    rows = rows_of(runs)
    ratios = ratios_of(rows)
    for row in rows:
        if row["system"] == "gateway-2w":
            single = next(
                (
                    r
                    for r in rows
                    if r["system"] == "gateway"
                    and r["layout"] == row["layout"]
                    and r["mode"] == row["mode"]
                ),
                None,
            )
            if single and single["deliveries_per_sec"] and row["deliveries_per_sec"]:
                row["vs_one_worker"] = {
                    "deliveries_per_sec": row["deliveries_per_sec"]
                    / single["deliveries_per_sec"],
                    "edits_per_sec": (row["edits_per_sec"] or 0)
                    / (single["edits_per_sec"] or 1),
                }
    report = {
        "started": started.isoformat(),
        "command": " ".join([Path(PYTHON).name, "-m", "bench.run", *sys.argv[1:]]),
        "quick": args.quick,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "plan": {
            "systems": plan.systems,
            "sessions": {
                name: {"sockets": sockets, "layouts": layouts}
                for name, (sockets, layouts) in plan.sessions.items()
            },
            "rate_secs": plan.rate_secs,
            "flat_secs": plan.flat_secs,
            "flat_repeats": plan.flat_repeats,
            "writers": plan.writers,
        },
        "rows": rows,
        "ratios": ratios,
        "runs": runs,
        "profiles": profiler.files if profiler else [],
    }
    print(table(rows, ratios))
    print()
    print(sessions_table(runs))
    for row in rows:
        if "vs_one_worker" in row:
            print(
                f"gateway 2 workers / 1 worker, {row['scenario']}: deliveries/s x"
                f"{row['vs_one_worker']['deliveries_per_sec']:.2f}, edits/s x"
                f"{row['vs_one_worker']['edits_per_sec']:.2f}"
            )
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(report, indent=1)
    (args.out / f"{stamp}{'-quick' if args.quick else ''}.json").write_text(text)
    (args.out / "latest.json").write_text(text)
    if not args.keep_logs:
        shutil.rmtree(environment.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
