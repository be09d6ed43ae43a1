"""What the gateway can learn about a socket from the server below the ASGI interface.

ASGI gives an application no way to see whether a peer reads what it is sent. Under
Daphne, the send callable is bound to the Twisted protocol, whose transport counts
the bytes not yet taken by the kernel; that count is the socket's outgoing queue.
Under any other server these probes answer None and only the event buffer is bounded.
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


def pending_bytes_probe(send: Send) -> Callable[[], int | None]:
    """A function giving the bytes queued for the peer, or None when unknowable."""
    protocol = send.args[0] if isinstance(send, partial) and send.args else None
    transport = getattr(protocol, "transport", None)
    if transport is None or not hasattr(transport, "dataBuffer"):
        return lambda: None

    def pending() -> int | None:
        try:
            return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
        except AttributeError:
            return None

    return pending


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
