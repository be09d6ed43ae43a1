"""Stopping a gateway while clients keep writing: bounded, and honest to the clients."""

import signal
import threading
import time
from collections import Counter

import httpx
import pytest

from tests.e2e.conftest import GatewayFactory
from tests.e2e.harness import Provisioner

pytestmark = pytest.mark.e2e

# The worker's grace period (5 s) plus the launcher's poll and some slack.
EXIT_WITHIN_SECS = 12.0
WRITERS = 6


def test_sigterm_under_write_load_exits_and_answers_every_request(
    start_gateway: GatewayFactory, provision: Provisioner
) -> None:
    """Regression: a worker stopped while requests were running never exited. Their
    commits published to the stopped event loop and waited on it forever, and the
    interpreter waited for those threads. Now draining answers new requests 503,
    lets running ones finish, and the process exits within its grace period."""
    gateway = start_gateway(workers=1)
    world = provision(users=["author"], groups=[])
    author = world.users["author"]
    headers = {"Authorization": f"Token {author.token}"}
    with httpx.Client(base_url=gateway.base_url, timeout=10) as client:
        created = client.post(
            "/api/user-activities/", json={"text": "under load"}, headers=headers
        )
    assert created.status_code == 201
    path = f"/api/user-activities/{created.json()['id']}/"
    outcomes: Counter[str] = Counter()
    stop = threading.Event()

    def write() -> None:
        with httpx.Client(base_url=gateway.base_url, timeout=10) as client:
            deadline = time.monotonic() + 30
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    response = client.patch(path, json={"text": "x"}, headers=headers)
                    outcomes[str(response.status_code)] += 1
                except httpx.TransportError as exc:
                    outcomes[type(exc).__name__] += 1
                    time.sleep(0.1)

    writers = [threading.Thread(target=write) for _ in range(WRITERS)]
    for writer in writers:
        writer.start()
    time.sleep(2)
    assert gateway.process is not None

    gateway.process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    code = gateway.process.wait(timeout=EXIT_WITHIN_SECS + 5)
    took = time.monotonic() - started
    stop.set()
    for writer in writers:
        writer.join(timeout=15)

    assert code == 0
    assert took < EXIT_WITHIN_SECS
    assert outcomes["200"] > 0
    # Every answer the server gave is a success or a clean "retry elsewhere".
    assert {key for key in outcomes if key.isdigit()} <= {"200", "503"}
    # No client was left waiting for an answer that never came.
    assert outcomes["ReadTimeout"] == 0
