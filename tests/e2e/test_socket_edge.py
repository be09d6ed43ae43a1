"""The handshake and frame rules, enforced by a real Daphne worker."""

import asyncio
import json
import socket
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e.conftest import GatewayFactory
from tests.e2e.harness import Gateway, Provisioner, open_socket

pytestmark = pytest.mark.e2e

# The socket's replies fill the kernel's buffers first, then the server's limit.
DEAF_CLOSED_WITHIN_SECS = 40.0


async def test_origin_and_auth_on_real_socket(
    shared_gateway: Gateway, provision: Provisioner
) -> None:
    """No or bad credentials: 4401 after accept; a foreign Origin: 403 at handshake."""
    token = provision(users=["prog"]).users["prog"].token
    gw = shared_gateway

    async with open_socket(gw) as anonymous:
        assert await anonymous.closed_with() == 4401
    async with open_socket(gw, token="0" * 40) as forged:
        assert await forged.closed_with() == 4401
    page = f"http://127.0.0.1:{gw.port}"
    async with open_socket(gw, origin=page) as anonymous_page:
        assert await anonymous_page.closed_with() == 4401

    with pytest.raises(InvalidStatus) as refused:
        async with open_socket(gw, token=token, origin="http://evil.example"):
            pass
    assert refused.value.response.status_code == 403

    async with open_socket(gw, token=token) as program:
        await program.ping()
    async with open_socket(gw, token=token, origin=page) as own_page:
        await own_page.ping()


async def test_frame_over_64_kib_closes_with_1009(
    shared_gateway: Gateway, provision: Provisioner
) -> None:
    token = provision(users=["big"]).users["big"].token
    async with open_socket(shared_gateway, token=token) as sock:
        await sock.ping()
        await sock.ws.send('{"type": "ping", "pad": "' + "x" * (64 * 1024) + '"}')
        assert await sock.closed_with() == 1009


async def test_binary_frame_gets_bad_request_and_socket_stays_open(
    shared_gateway: Gateway, provision: Provisioner
) -> None:
    token = provision(users=["bin"]).users["bin"].token
    async with open_socket(shared_gateway, token=token) as sock:
        await sock.ws.send(b'{"type": "ping"}')
        error = await sock.recv()
        assert error["type"] == "error"
        assert error["code"] == "bad_request"
        await sock.ping()


async def test_error_answering_a_large_frame_stays_small(
    shared_gateway: Gateway, provision: Provisioner
) -> None:
    """Regression: the answer to a bad frame quoted it whole; escaped, a 64 KB frame
    of non-ASCII junk became a 192 KB answer that the server could not send, the
    consumer crashed (1011) with a 69 KB traceback, and the hub kept the socket."""
    token = provision(users=["junk"]).users["junk"].token
    junk = ["é" * 6400] * 5
    async with open_socket(shared_gateway, token=token) as sock:
        frame = {"type": "subscribe", "workspace_group": 1, "activity_types": junk}
        # As UTF-8 text, just under the 64 KiB limit (ASCII-escaped it would not be).
        await sock.ws.send(json.dumps(frame, ensure_ascii=False))
        error = await sock.recv()
        assert error["code"] == "bad_request"
        assert len(error["detail"]) <= 300
        await sock.ping()
    assert "Traceback" not in shared_gateway.log_text()


async def test_a_client_that_sends_but_never_reads_is_closed(
    start_gateway: GatewayFactory, provision: Provisioner
) -> None:
    """Regression: replies to a client that kept sending but never read (errors,
    pongs) piled up in the server without bound, and the socket was never closed:
    its own traffic kept the transport-level ping from timing out."""
    gateway = start_gateway(
        env={
            "SOCKET_BUFFER_LIMIT_BYTES": str(64 * 1024),
            "WS_RATE_PER_SEC": "5000",
            "WS_RATE_BURST": "5000",
        }
    )
    token = provision(users=["deaf"]).users["deaf"].token
    raw = socket.socket()
    # A tiny receive window, and a client that reads nothing (max_queue=1 stops
    # the library from draining the socket once one message waits).
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", gateway.port))
    raw.setblocking(False)
    closed = False
    deaf_frame = json.dumps(
        {"type": "subscribe", "workspace_group": 1, "activity_types": ["x" * 400]}
    )
    async with connect(
        gateway.ws_url,
        sock=raw,
        additional_headers={"Authorization": f"Token {token}"},
        max_queue=1,
    ) as ws:
        deadline = time.monotonic() + DEAF_CLOSED_WITHIN_SECS
        while time.monotonic() < deadline:
            try:
                # Each answer quotes the junk type: about 350 bytes back per frame.
                await ws.send(deaf_frame)
            except ConnectionClosed:
                closed = True
                break
            # Below the rate limit, which would otherwise close it for flooding.
            await asyncio.sleep(0.0005)
    assert closed, "the server kept the socket of a client that never reads"
    assert "is not reading" in gateway.log_text()


async def test_handshake_on_another_path_is_refused_without_a_traceback(
    shared_gateway: Gateway, provision: Provisioner
) -> None:
    """Regression: a handshake on any other path answered 500 and logged a
    traceback, for anyone, unauthenticated."""
    token = provision(users=["lost"]).users["lost"].token
    base = f"ws://127.0.0.1:{shared_gateway.port}"

    for path in ("/", "/ws/", "/favicon.ico", "/ws/activities/extra"):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(base + path):
                pass
        assert refused.value.response.status_code == 403, path
    # Without its trailing slash the socket's path still serves it.
    async with connect(
        base + "/ws/activities", additional_headers={"Authorization": f"Token {token}"}
    ) as ws:
        await ws.send('{"type": "ping"}')
        assert json.loads(await ws.recv()) == {"type": "pong"}
    assert "No route found" not in shared_gateway.log_text()
