"""The Daphne shortcuts: pre-built frames and writing them to a Twisted transport."""

import socket
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from consumers.transport import frame_writer_probe, innermost_send, text_frame


def parse(data: bytes) -> Frame:
    """Parse one server-to-client frame the way a real client library does."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        while True:
            next(parser)
    except StopIteration as done:
        return done.value


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_text_frame_is_a_valid_unmasked_text_frame(size: int) -> None:
    payload = ("é" * size).encode()[:size]

    frame = parse(text_frame(payload))

    assert frame.opcode is Opcode.TEXT
    assert frame.fin is True
    assert frame.data == payload


class FakeTransport:
    """The parts of a Twisted TCP transport the writer reads."""

    def __init__(self, sock: socket.socket) -> None:
        self.socket = sock
        self.dataBuffer = b""
        self.offset = 0
        self._tempDataLen = 0
        self.written: list[bytes] = []
        self.disconnecting = False
        self.disconnected = False

    def write(self, data: bytes) -> None:
        self.written.append(data)
        self._tempDataLen += len(data)


class FakeProtocol:
    STATE_OPEN = 3

    def __init__(self, transport: FakeTransport) -> None:
        self.transport = transport
        self.state = self.STATE_OPEN


async def fake_daphne_send(protocol: Any, message: dict[str, Any]) -> None:
    raise AssertionError("the shortcut must not go through the ASGI send")


@pytest.fixture
def pair() -> Iterator[tuple[Any, FakeTransport, socket.socket]]:
    """A writer bound to one end of a socket pair, and the other end to read."""
    server, client = socket.socketpair()
    server.setblocking(False)
    transport = FakeTransport(server)
    writer = frame_writer_probe(partial(fake_daphne_send, FakeProtocol(transport)))
    assert writer is not None
    yield writer, transport, client
    server.close()
    client.close()


def test_writer_sends_directly_when_nothing_is_queued(pair: Any) -> None:
    writer, transport, client = pair
    frame = text_frame(b'{"type":"pong"}')

    pending = writer(frame)

    assert pending == 0
    assert transport.written == []
    assert client.recv(100) == frame


def test_writer_queues_behind_bytes_already_waiting(pair: Any) -> None:
    """Order matters: a frame must never overtake bytes the transport still holds."""
    writer, transport, client = pair
    transport.dataBuffer = b"earlier"

    pending = writer(b"later")

    assert transport.written == [b"later"]
    assert pending == len(b"earlier") + len(b"later")
    client.setblocking(False)
    with pytest.raises(BlockingIOError):
        client.recv(100)


def test_writer_refuses_a_socket_that_is_closing(pair: Any) -> None:
    writer, transport, _ = pair
    transport.disconnecting = True

    assert writer(b"frame") == -1
    assert transport.written == []


def test_writer_is_none_for_servers_other_than_daphne() -> None:
    async def plain_send(message: dict[str, Any]) -> None:
        pass

    assert frame_writer_probe(plain_send) is None


def test_innermost_send_unwraps_handshake_wrappers() -> None:
    async def server_send(message: dict[str, Any]) -> None:
        pass

    class Wrapper:
        def __init__(self, real_send: Any) -> None:
            self.real_send = real_send

        async def send(self, message: dict[str, Any]) -> None:
            await self.real_send(message)

    wrapped = Wrapper(Wrapper(server_send).send).send

    assert innermost_send(wrapped) is server_send
