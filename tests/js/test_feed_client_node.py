"""Runs the JavaScript unit tests of the feed client under node's own test runner."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_TIMEOUT_SECS = 120


def test_feed_client_node_suite_passes() -> None:
    """`node --test tests/js/` exits 0, and it did run tests (not an empty match)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    result = subprocess.run(
        [node, "--test", "tests/js/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECS,
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "# fail 0" in report, report
    assert "# pass 0" not in report, report
