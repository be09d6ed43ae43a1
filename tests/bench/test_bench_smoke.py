"""The bench's own correctness: a tiny run loses nothing, duplicates nothing, and
writes the report other tools read. No timing is asserted."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_SECS = 240

pytestmark = pytest.mark.e2e


def _server_url(url: str, default: str) -> str:
    """The scheme and host of a database or Redis URL, without its path."""
    if not url:
        return default
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_quick_run_delivers_every_edit_once_and_writes_the_report(
    tmp_path: Path,
) -> None:
    env = dict(os.environ)
    env["BENCH_PG_URL"] = _server_url(
        env.get("TEST_DATABASE_URL", ""), "postgresql://postgres@127.0.0.1:5432"
    )
    env["BENCH_REDIS_URL"] = _server_url(
        env.get("TEST_REDIS_URL", ""), "redis://127.0.0.1:6379"
    )
    # Not the db index of `make bench`, which may be running at the same time.
    env["BENCH_REDIS_DB"] = "13"
    done = subprocess.run(
        [
            sys.executable, "-m", "bench.run", "--quick",
            "--systems", "gateway,channels-docs",
            "--sizes", "20", "--no-many", "--phase-secs", "2", "--out", str(tmp_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECS,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    report = json.loads((tmp_path / "latest.json").read_text())
    assert {"started", "command", "plan", "rows", "ratios", "runs"} <= set(report)
    assert {row["system"] for row in report["rows"]} == {"gateway", "channels-docs"}
    for row in report["rows"]:
        assert {
            "scenario",
            "deliveries_per_sec",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "max_ms",
            "lost",
            "duplicates",
            "http_errors",
            "server_us_per_delivery",
            "pg_us_per_delivery",
            "client_cpu_pct",
            "kib_per_idle_socket",
        } <= set(row)
    for run in report["runs"]:
        assert run["sockets_open"] == 20
        assert "server_died" not in run
        for phase in run["phases"]:
            assert phase["edits_acked"] > 0, phase
            assert phase["expected"] > 0, phase
            assert phase["lost"] == 0, phase
            assert phase["duplicates"] == 0, phase
            assert phase["delivered"] == phase["expected"], phase
            # Every edit was answered, and answered 200: a failed write is a fault
            # even though nobody expects to hear of it.
            assert phase["http_status"] == {"200": phase["edits_sent"]}, phase
    assert report["ratios"]
    assert "gateway" in done.stdout and "channels-docs" in done.stdout
