"""The load client: S WebSocket subscribers and a few REST writers in one process.

    python -m bench.loadclient --spec spec.json

It speaks a line protocol with bench.run on stdin/stdout: at each point where the
orchestrator samples the servers it prints `{"mark": name}` and waits for a line
back; at the end it prints `{"result": {...}}`. Every edit PATCHes an activity with
`resource.bench = "b<edit index>:<monotonic ns>"`, stamped just before the request,
so a receiving socket gets its latency and the edit's identity from the frame
alone. Both systems render the resource verbatim, whatever else they add.

The WebSocket side is a bare asyncio protocol (no compression, no per-frame
objects), so the client spends a few microseconds per delivered frame and the
servers, not the client, are what the numbers describe.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import os
import re
import resource
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from bench import procstat

logger = logging.getLogger(__name__)

# The nonce of an edit as it appears in any JSON rendering of the resource.
NONCE = re.compile(rb'"bench": ?"b(\d+):(\d+)"')
CONNECT_TIMEOUT_SECS = 30.0
HTTP_TIMEOUT_SECS = 15.0
# Sockets opened at once: enough to open 1000 in a few seconds without a burst
# that overflows the server's accept backlog.
CONNECT_CONCURRENCY = 64
# A drain ends when every expected frame arrived or nothing arrived for this long.
DRAIN_IDLE_SECS = 3.0
# About 1 KiB of JSON per edit: text plus padding in the resource.
TEXT = ("activity " * 80)[:600]
PAD = "p" * 350

OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame: clients must mask (RFC 6455 section 5.3)."""
    key = os.urandom(4)
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    mask = int.from_bytes((key * (size // 4 + 1))[:size], "big")
    body = (int.from_bytes(payload, "big") ^ mask).to_bytes(size, "big")
    return header + key + body


@dataclass
class Edits:
    """Every edit sent: its group, phase, whether it was acknowledged."""

    group: list[int] = field(default_factory=list)
    phase: list[int] = field(default_factory=list)
    acked: bytearray = field(default_factory=bytearray)

    def add(self, group_id: int, phase: int) -> int:
        self.group.append(group_id)
        self.phase.append(phase)
        self.acked.append(0)
        return len(self.group) - 1


@dataclass
class PhaseStats:
    """What the sockets received for the edits of one phase."""

    latencies_ns: list[int] = field(default_factory=list)
    unique: int = 0
    duplicates: int = 0
    last_receive_ns: int = 0


class Receiver:
    """The shared sink of every socket: attributes frames to edits and phases."""

    def __init__(self, edits: Edits) -> None:
        self.edits = edits
        self.phases: list[PhaseStats] = []
        self.other_frames = 0

    def frame(self, seen: bytearray, payload: bytes) -> bool:
        """Record one text frame; False when it carries no edit."""
        now = time.monotonic_ns()
        match = NONCE.search(payload)
        if match is None:
            self.other_frames += 1
            return False
        index = int(match[1])
        stats = self.phases[self.edits.phase[index]]
        if index >= len(seen):
            seen.extend(bytes(index + 256 - len(seen)))
        count = seen[index]
        if count:
            stats.duplicates += 1
        else:
            stats.unique += 1
            stats.latencies_ns.append(now - int(match[2]))
            stats.last_receive_ns = now
        if count < 255:
            seen[index] = count + 1
        return True


class Subscriber(asyncio.Protocol):
    """One WebSocket: handshake, one subscribe, then counting frames."""

    def __init__(
        self, receiver: Receiver, host: str, port: int, token: str, group_id: int
    ) -> None:
        self.receiver = receiver
        self.host, self.port, self.token = host, port, token
        self.group_id = group_id
        self.group_ids = [group_id]
        self.seen = bytearray()
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.upgraded = False
        self.fragments: list[bytes] = []
        self.subscribed: asyncio.Future[bool] = (
            asyncio.get_running_loop().create_future()
        )
        self.close_code: int | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            "GET /ws/activities/ HTTP/1.1\r\n"
            f"Host: {self.host}:{self.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Token {self.token}\r\n\r\n"
        )
        transport.write(request.encode())  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.subscribed.done():
            self.subscribed.set_result(False)

    def send_text(self, text: str) -> None:
        assert self.transport is not None
        self.transport.write(masked_frame(OP_TEXT, text.encode()))

    async def subscribe_more(self, group_id: int) -> bool:
        """Add a group to an open socket; True once the server acknowledged it."""
        if self.lost:
            return False
        self.subscribed = asyncio.get_running_loop().create_future()
        self.send_text(json.dumps({"type": "subscribe", "workspace_group": group_id}))
        ok = await asyncio.wait_for(self.subscribed, CONNECT_TIMEOUT_SECS)
        if ok:
            self.group_ids.append(group_id)
        return ok

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buffer
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.buffer = b""
                assert self.transport is not None
                self.transport.close()
                return
            self.upgraded = True
            buffer = buffer[end + 4 :]
            self.send_text(
                json.dumps({"type": "subscribe", "workspace_group": self.group_id})
            )
        offset, size = 0, len(buffer)
        while size - offset >= 2:
            first, second = buffer[offset], buffer[offset + 1]
            length = second & 0x7F
            head = 2
            if length == 126:
                if size - offset < 4:
                    break
                length = int.from_bytes(buffer[offset + 2 : offset + 4], "big")
                head = 4
            elif length == 127:
                if size - offset < 10:
                    break
                length = int.from_bytes(buffer[offset + 2 : offset + 10], "big")
                head = 10
            if size - offset < head + length:
                break
            payload = buffer[offset + head : offset + head + length]
            offset += head + length
            self.on_frame(first, payload)
        self.buffer = buffer[offset:] if offset < size else b""

    def on_frame(self, first: int, payload: bytes) -> None:
        opcode = first & 0x0F
        if not first & 0x80:
            self.fragments.append(payload)
            return
        if opcode == 0 and self.fragments:
            payload = b"".join([*self.fragments, payload])
            self.fragments.clear()
            opcode = OP_TEXT
        if opcode == OP_TEXT:
            if not self.receiver.frame(self.seen, payload):
                if not self.subscribed.done() and b'"subscribed"' in payload:
                    self.subscribed.set_result(True)
        elif opcode == OP_PING:
            assert self.transport is not None
            self.transport.write(masked_frame(OP_PONG, payload))
        elif opcode == OP_CLOSE:
            self.close_code = (
                int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            )
            assert self.transport is not None
            self.transport.write(masked_frame(OP_CLOSE, payload[:2]))
            self.transport.close()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(masked_frame(OP_CLOSE, struct.pack("!H", 1000)))
            self.transport.close()


class Writer:
    """One keep-alive HTTP/1.1 connection that PATCHes activities."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.headers_prefix = (
            f"Host: {host}:{port}\r\nAuthorization: Token {token}\r\n"
            "Content-Type: application/json\r\n"
        )
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def patch(self, activity_id: int, body: bytes) -> int:
        """Send one PATCH; the HTTP status, or 0 when the connection failed."""
        request = (
            f"PATCH /api/user-activities/{activity_id}/ HTTP/1.1\r\n"
            f"{self.headers_prefix}Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        for attempt in range(2):
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection(
                        self.host, self.port
                    )
                assert self.reader is not None
                self.writer.write(request)
                head = await self.reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                keep = True
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    lowered = name.strip().lower()
                    if lowered == b"content-length":
                        length = int(value)
                    elif lowered == b"connection" and b"close" in value.lower():
                        keep = False
                await self.reader.readexactly(length)
                if not keep:
                    self.close()
                return status
            except (OSError, asyncio.IncompleteReadError, ValueError):
                self.close()
                if attempt:
                    return 0
        return 0

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def edit_body(index: int) -> bytes:
    # Stamped last, right before the request leaves.
    nonce = f"b{index}:{time.monotonic_ns()}"
    return json.dumps({"text": TEXT, "resource": {"bench": nonce, "pad": PAD}}).encode()


def percentile(ordered: list[int], fraction: float) -> float | None:
    if not ordered:
        return None
    position = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[position] / 1e6


class LoadClient:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.host: str = spec["host"]
        self.port: int = spec["port"]
        self.edits = Edits()
        self.receiver = Receiver(self.edits)
        self.sockets: list[Subscriber] = []
        # Each target is a set of groups; socket i joins group i % len of each.
        self.targets: dict[str, list[int]] = {
            name: target["groups"] for name, target in spec["targets"].items()
        }
        self.activities: dict[int, list[int]] = {
            int(group): ids
            for target in spec["targets"].values()
            for group, ids in target["activities"].items()
        }
        self.first_target = next(iter(self.targets))

    async def mark(self, name: str) -> None:
        """Let the orchestrator sample the servers, then go on."""
        print(json.dumps({"mark": name}), flush=True)
        line = await asyncio.wait_for(asyncio.to_thread(sys.stdin.readline), 60)
        if not line:
            raise SystemExit("orchestrator went away")

    async def open_socket(self, index: int, gate: asyncio.Semaphore) -> None:
        tokens = self.spec["subscriber_tokens"]
        groups = self.targets[self.first_target]
        group_id = groups[index % len(groups)]
        loop = asyncio.get_running_loop()
        async with gate:
            try:
                _, protocol = await asyncio.wait_for(
                    loop.create_connection(
                        lambda: Subscriber(
                            self.receiver,
                            self.host,
                            self.port,
                            tokens[index % len(tokens)],
                            group_id,
                        ),
                        self.host,
                        self.port,
                    ),
                    CONNECT_TIMEOUT_SECS,
                )
                ok = await asyncio.wait_for(protocol.subscribed, CONNECT_TIMEOUT_SECS)
            except (OSError, TimeoutError):
                return
        if ok:
            self.sockets.append(protocol)
        else:
            protocol.close()

    async def run_phase(self, number: int, phase: dict[str, Any]) -> dict[str, Any]:
        stats = PhaseStats()
        self.receiver.phases.append(stats)
        subscribers = self.subscriber_counts()
        groups = self.targets[phase["target"]]
        cpu_before = procstat.cpu_secs(os.getpid())
        started = time.monotonic_ns()
        deadline = time.monotonic() + phase["secs"]
        statuses: dict[int, int] = {}
        http_ns: list[int] = []
        writers = [
            Writer(self.host, self.port, self.spec["writer_token"])
            for _ in range(phase.get("writers", 1))
        ]

        async def edit(writer: Writer, group_id: int, activity_id: int) -> None:
            index = self.edits.add(group_id, number)
            sent = time.monotonic_ns()
            try:
                status = await asyncio.wait_for(
                    writer.patch(activity_id, edit_body(index)), HTTP_TIMEOUT_SECS
                )
            except TimeoutError:
                writer.close()
                status = 0
            http_ns.append(time.monotonic_ns() - sent)
            statuses[status] = statuses.get(status, 0) + 1
            if status == 200:
                self.edits.acked[index] = 1

        if phase["mode"] == "rate":
            # Fixed schedule: an edit every 1/rate s, each on a free connection.
            idle: asyncio.Queue[Writer] = asyncio.Queue()
            for writer in writers:
                idle.put_nowait(writer)
            tasks: list[asyncio.Task[None]] = []
            interval = 1.0 / phase["rate"]
            tick = 0

            async def timed(group_id: int, activity_id: int) -> None:
                writer = await idle.get()
                try:
                    await edit(writer, group_id, activity_id)
                finally:
                    idle.put_nowait(writer)

            while time.monotonic() < deadline:
                group_id = groups[tick % len(groups)]
                tasks.append(
                    asyncio.create_task(timed(group_id, self.activities[group_id][0]))
                )
                tick += 1
                await asyncio.sleep(
                    max(0.0, started / 1e9 + tick * interval - time.monotonic())
                )
            await asyncio.gather(*tasks, return_exceptions=True)
        else:

            async def flat_out(slot: int, writer: Writer) -> None:
                turn = 0
                while time.monotonic() < deadline:
                    group_id = groups[(slot + turn * len(writers)) % len(groups)]
                    activities = self.activities[group_id]
                    await edit(writer, group_id, activities[slot % len(activities)])
                    turn += 1

            await asyncio.gather(
                *(flat_out(slot, w) for slot, w in enumerate(writers)),
                return_exceptions=True,
            )
        writing_ns = time.monotonic_ns() - started
        for writer in writers:
            writer.close()

        indices = [i for i, p in enumerate(self.edits.phase) if p == number]
        acked = [i for i in indices if self.edits.acked[i]]
        expected = sum(subscribers.get(self.edits.group[i], 0) for i in acked)
        drain_until = time.monotonic() + self.spec["drain_secs"]
        last_count, last_change = -1, time.monotonic()
        while time.monotonic() < drain_until and stats.unique < expected:
            if stats.unique != last_count:
                last_count, last_change = stats.unique, time.monotonic()
            elif time.monotonic() - last_change > DRAIN_IDLE_SECS:
                break
            await asyncio.sleep(0.05)
        ended = time.monotonic_ns()
        cpu_after = procstat.cpu_secs(os.getpid())

        by_group: dict[int, list[int]] = {}
        for i in acked:
            by_group.setdefault(self.edits.group[i], []).append(i)
        lost = 0
        for sock in self.sockets:
            seen = sock.seen
            lost += sum(
                1
                for group_id in sock.group_ids
                for i in by_group.get(group_id, ())
                if i >= len(seen) or not seen[i]
            )
        delivered_acked = expected - lost
        latencies = sorted(stats.latencies_ns)
        http_sorted = sorted(http_ns)
        span_ns = max(stats.last_receive_ns - started, 1) if stats.unique else 0
        window_secs = (ended - started) / 1e9
        return {
            "name": phase["name"],
            "target": phase["target"],
            "mode": phase["mode"],
            "rate": phase.get("rate"),
            "edits_sent": len(indices),
            "edits_acked": len(acked),
            "http_status": {str(k): v for k, v in sorted(statuses.items())},
            "edits_per_sec": len(acked) / (writing_ns / 1e9),
            "http_p50_ms": percentile(http_sorted, 0.5),
            "http_p99_ms": percentile(http_sorted, 0.99),
            "expected": expected,
            "delivered": stats.unique,
            "delivered_unacked": stats.unique - delivered_acked,
            "lost": lost,
            "duplicates": stats.duplicates,
            "deliveries_per_sec": stats.unique / (span_ns / 1e9) if span_ns else 0.0,
            "latency_ms": {
                "p50": percentile(latencies, 0.5),
                "p95": percentile(latencies, 0.95),
                "p99": percentile(latencies, 0.99),
                "max": latencies[-1] / 1e6 if latencies else None,
            },
            "window_secs": window_secs,
            "client_cpu_secs": cpu_after - cpu_before,
            "client_cpu_pct": 100 * (cpu_after - cpu_before) / window_secs,
            "sockets_closed_by_server": sum(1 for s in self.sockets if s.lost),
        }

    def subscriber_counts(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for sock in self.sockets:
            if not sock.lost:
                for group_id in sock.group_ids:
                    counts[group_id] = counts.get(group_id, 0) + 1
        return counts

    async def warm_up(self) -> None:
        """Touch every code path once, so lazy imports and caches are not billed
        to the idle sockets or the first phase."""
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        await asyncio.gather(*(self.open_socket(i, gate) for i in range(4)))
        self.receiver.phases.append(PhaseStats())
        group_id = self.targets[self.first_target][0]
        writer = Writer(self.host, self.port, self.spec["writer_token"])
        for _ in range(2):
            index = self.edits.add(group_id, 0)
            await asyncio.wait_for(
                writer.patch(self.activities[group_id][0], edit_body(index)),
                HTTP_TIMEOUT_SECS,
            )
        writer.close()
        await asyncio.sleep(0.5)
        for sock in self.sockets:
            sock.close()
        self.sockets.clear()
        await asyncio.sleep(0.5)

    async def run(self) -> dict[str, Any]:
        await self.warm_up()
        await self.mark("empty")
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        opened = time.monotonic()
        await asyncio.gather(
            *(self.open_socket(i, gate) for i in range(self.spec["sockets"]))
        )
        open_secs = time.monotonic() - opened
        # Let the servers settle (lazy allocations, Redis subscriptions) first.
        await asyncio.sleep(self.spec.get("settle_secs", 1.0))
        await self.mark("idle")
        joined = {self.first_target}
        phases = []
        # Phase 0 is the warm-up's.
        for number, phase in enumerate(self.spec["phases"], start=1):
            if phase["target"] not in joined:
                joined.add(phase["target"])
                groups = self.targets[phase["target"]]
                await asyncio.gather(
                    *(
                        sock.subscribe_more(groups[i % len(groups)])
                        for i, sock in enumerate(self.sockets)
                    ),
                    return_exceptions=True,
                )
            await self.mark(f"start:{phase['name']}")
            phases.append(await self.run_phase(number, phase))
            await self.mark(f"end:{phase['name']}")
        close_codes: dict[str, int] = {}
        for sock in self.sockets:
            if sock.close_code is not None:
                key = str(sock.close_code)
                close_codes[key] = close_codes.get(key, 0) + 1
            sock.close()
        return {
            "sockets_requested": self.spec["sockets"],
            "sockets_open": len(self.sockets),
            "open_secs": open_secs,
            "server_close_codes": close_codes,
            "other_frames": self.receiver.other_frames,
            "phases": phases,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", required=True, help="JSON file written by bench.run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    raise_fd_limit()
    with open(args.spec) as handle:
        spec = json.load(handle)
    result = asyncio.run(LoadClient(spec).run())
    print(json.dumps({"result": result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
