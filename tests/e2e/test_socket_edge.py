"""The handshake and frame rules, enforced by a real Daphne worker."""

import pytest
from websockets.exceptions import InvalidStatus

from tests.e2e.harness import Gateway, Provisioner, open_socket

pytestmark = pytest.mark.e2e


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
