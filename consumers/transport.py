"""What the gateway uses of the server below the ASGI interface, when it is Daphne.

ASGI gives an application no way to see whether a peer reads what it is sent, nor
to send one pre-built frame to many sockets. Under Daphne the send callable is bound
to the Twisted protocol: its transport counts the bytes not yet taken by the kernel
(the socket's outgoing queue) and accepts a frame built once per event. Under any
other server these probes answer None and the ordinary ASGI path is used.
"""

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

Send = Callable[[dict[str, Any]], Awaitable[None]]


def innermost_send(send: Send) -> Send:
    """The server's own send, below wrappers that only act on handshake messages.

    Channels' session middleware wraps send to save the session on `websocket.accept`;
    frames sent after the handshake can skip that hop.
    """
    seen = 0
    while (
        hasattr(send, "__self__") and hasattr(send.__self__, "real_send") and seen < 8
    ):
        send = send.__self__.real_send
        seen += 1
    return send


def protocol_close_probe(send: Send) -> Callable[[int], bool]:
    """A function that closes the socket with any code, or returns False if it cannot.

    Autobahn (under Daphne) refuses to send the RFC's own codes such as 1009 and
    1012 through the ASGI close message; its lower-level close frame accepts them.
    """
    protocol = send.args[0] if isinstance(send, partial) and send.args else None
    close_frame = getattr(protocol, "sendCloseFrame", None)
    if close_frame is None:
        return lambda code: False

    def close(code: int) -> bool:
        close_frame(code=code, isReply=False)
        return True

    return close


def text_frame(payload: bytes) -> bytes:
    """A complete, unmasked WebSocket text frame (RFC 6455 §5.2) carrying `payload`.

    Built once per event: every socket of the process receives these same bytes.
    """
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


def _daphne_protocol(send: Send) -> Any:
    """The Twisted protocol Daphne bound `send` to, or None under other servers."""
    protocol = send.args[0] if isinstance(send, partial) and send.args else None
    transport = getattr(protocol, "transport", None)
    if (
        protocol is None
        or transport is None
        or not hasattr(protocol, "STATE_OPEN")
        or not hasattr(transport, "_tempDataLen")
    ):
        return None
    return protocol


def _queued(transport: Any) -> int:
    """Bytes written to a Twisted TCP transport and not yet taken by the kernel."""
    queued: int = len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    return queued


def queued_bytes_probe(send: Send) -> Callable[[], int] | None:
    """A function returning the bytes queued for the peer, or None if unknown.

    Every frame counts, not only events: a client that keeps sending but never
    reads would otherwise pile up replies (errors, pongs) without bound.
    """
    protocol = _daphne_protocol(send)
    if protocol is None:
        return None
    transport = protocol.transport
    return lambda: _queued(transport)


def frame_writer_probe(send: Send) -> Callable[[bytes], int] | None:
    """A function writing a pre-built frame straight to the peer, or None.

    Under Daphne the bytes go to the Twisted transport, skipping a coroutine, a
    message dict, an encode and a frame build per socket. It returns the bytes
    still queued for the peer afterwards, or -1 when the socket is no longer open
    (closing or closed), in which case nothing was written. Sockets that negotiated
    compression are left to the ordinary path.
    """
    protocol = _daphne_protocol(send)
    if protocol is None or getattr(protocol, "_perMessageCompress", None) is not None:
        return None
    transport = protocol.transport
    open_state = protocol.STATE_OPEN
    # A plain TCP transport exposes its socket; TLS and other wrappers do not, and
    # then every frame goes through the transport's buffer.
    sock = getattr(transport, "socket", None)

    def write(frame: bytes) -> int:
        if (
            protocol.state != open_state
            or transport.disconnecting
            or transport.disconnected
        ):
            return -1
        if sock is not None and _queued(transport) == 0:
            # Nothing is waiting: one send() and done, without registering the
            # socket with the event loop for a write it can do now.
            try:
                sent = sock.send(frame)
            except BlockingIOError:
                sent = 0
            except OSError:
                sent = 0  # the transport meets the same error and closes properly
            if sent == len(frame):
                return 0
            frame = frame[sent:]
        transport.write(frame)
        return _queued(transport)

    return write
