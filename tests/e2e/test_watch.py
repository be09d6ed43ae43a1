"""The command-line watcher (gateway.watch) against a real gateway."""

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import Gateway, Provisioner, api_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXIT_WITHIN_SECS = 15.0


async def _watcher(
    gateway: Gateway, *args: str, url: str | None = None
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.watch",
        "--url",
        url or gateway.ws_url,
        *args,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


async def _line(process: asyncio.subprocess.Process) -> dict[str, object]:
    assert process.stdout is not None
    raw = await asyncio.wait_for(process.stdout.readline(), EXIT_WITHIN_SECS)
    assert raw, "the watcher printed nothing"
    line: dict[str, object] = json.loads(raw)
    return line


async def test_watcher_prints_the_groups_events(
    shared_gateway: Gateway, provision: Provisioner
) -> None:
    world = provision(
        users=["author"], groups=[{"name": "watched", "admins": ["author"]}]
    )
    author, group = world.users["author"], world.groups["watched"]
    process = await _watcher(
        shared_gateway, "--token", author.token, "--group", str(group)
    )
    try:
        subscribed = await _line(process)
        assert subscribed["type"] == "subscribed"
        async with api_for(shared_gateway, author) as api:
            created = await api.create(
                text="seen by the watcher", workspace_group=group
            )

        event = await _line(process)

        assert event["type"] == "activity.created"
        assert event["activity"] == created
    finally:
        process.terminate()
        await process.wait()


@pytest.mark.parametrize("refusal", ["bad token", "foreign group"])
async def test_watcher_stops_when_retrying_cannot_help(
    shared_gateway: Gateway, provision: Provisioner, refusal: str
) -> None:
    """Regression: a refused token made the watcher reconnect every second forever,
    and a group that was not the user's left it waiting silently."""
    world = provision(
        users=["member", "stranger"],
        groups=[{"name": "private", "admins": ["member"]}],
    )
    token = world.users["stranger"].token if refusal == "foreign group" else "0" * 40
    process = await _watcher(
        shared_gateway, "--token", token, "--group", str(world.groups["private"])
    )

    _, stderr = await asyncio.wait_for(process.communicate(), EXIT_WITHIN_SECS)

    assert process.returncode == 2
    expected = "refused the token" if refusal == "bad token" else "no such workspace"
    assert expected in stderr.decode().lower()


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("ws://127.0.0.1:{port}/ws/activity/", "refused the handshake (http 403)"),
        ("http://127.0.0.1:{port}/ws/activities/", "not a websocket url"),
    ],
)
async def test_watcher_stops_on_a_url_that_cannot_work(
    shared_gateway: Gateway, provision: Provisioner, where: str, expected: str
) -> None:
    """Regression: a mistyped path or scheme ended the watcher with a traceback."""
    token = provision(users=["typo"]).users["typo"].token
    process = await _watcher(
        shared_gateway,
        "--token",
        token,
        "--group",
        "1",
        url=where.format(port=shared_gateway.port),
    )

    _, stderr = await asyncio.wait_for(process.communicate(), EXIT_WITHIN_SECS)

    assert process.returncode == 2
    assert expected in stderr.decode().lower()
    assert "traceback" not in stderr.decode().lower()


async def test_watcher_stopped_by_sigterm_closes_its_socket_cleanly(
    shared_gateway: Gateway, provision: Provisioner
) -> None:
    world = provision(users=["leaving"], groups=[{"name": "g", "admins": ["leaving"]}])
    user = world.users["leaving"]
    process = await _watcher(
        shared_gateway, "--token", user.token, "--group", str(world.groups["g"])
    )
    assert (await _line(process))["type"] == "subscribed"

    process.terminate()

    assert await asyncio.wait_for(process.wait(), EXIT_WITHIN_SECS) == 0
    await asyncio.sleep(0.5)
    assert f"socket closed: user {user.id}, code 1000" in shared_gateway.log_text()
