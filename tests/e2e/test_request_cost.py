"""bench.request_cost against a real gateway: it runs and reports every figure.

It asserts no timing: the figures are the tool's output, not pass/fail criteria.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import GatewayFactory
from tests.e2e.harness import Provisioner, api_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


async def test_request_cost_reports_cpu_per_request(
    start_gateway: GatewayFactory, provision: Provisioner
) -> None:
    gateway = start_gateway()
    world = provision(users=["costly"], groups=[])
    user = world.users["costly"]
    async with api_for(gateway, user) as api:
        activity = await api.create(text="measured")
    assert gateway.process is not None

    done = subprocess.run(
        [
            sys.executable, "-m", "bench.request_cost",
            "--base-url", gateway.base_url, "--token", user.token,
            "--activity", str(activity["id"]), "--pid", str(gateway.process.pid),
            "--requests", "5", "--rounds", "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    for name in ("healthz", "patch", "get"):
        assert report[f"{name}_cpu_ms"] > 0
    assert report["patch_vs_healthz"] > 0
