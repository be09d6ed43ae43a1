"""Print the live events of one workspace group: a minimal client of /ws/activities/.

    python -m gateway.watch --token KEY --group 7 [--since 41] [--url ws://...]

It subscribes, prints each frame as it arrives, and on a dropped connection
(a restart, a resync) reconnects and resumes from the last seq it printed, so it
misses nothing. It stops, with a message and exit status 2, when retrying cannot
help: the token is refused, the group is not the user's, or access ends.
"""

import argparse
import asyncio
import json
import signal
import sys
from typing import Any

import websockets

# Close codes after which reconnecting with the same token cannot succeed.
FINAL_CLOSE_CODES = {
    4401: "the server refused the token (unknown, deleted, or its session ended)",
    4403: "the user is deactivated",
}
RECONNECT_DELAY_SECS = 1.0
EXIT_REFUSED = 2


class WatchEnded(Exception):
    """The watch cannot go on; the message says why."""


def _final_reason(message: dict[str, Any]) -> str | None:
    """Why a server frame ends the watch, or None when it does not."""
    kind = message.get("type")
    if kind == "error" and message.get("code") in {"not_found", "bad_request"}:
        return f"the server refused the subscription: {message.get('detail')}"
    if kind == "unsubscribed":
        return f"the subscription ended: {message.get('reason')}"
    return None


async def watch(url: str, token: str, group: int, since: int | None) -> None:
    """Print the group's frames until cancelled; raise WatchEnded when refused."""
    position = [since]
    while True:
        try:
            async with websockets.connect(
                url, additional_headers={"Authorization": f"Token {token}"}
            ) as socket:
                try:
                    reason = await _relay(socket, group, position)
                except asyncio.CancelledError:
                    await socket.close()  # 1000: the user stopped watching
                    raise
            if reason is not None:
                raise WatchEnded(reason)
        except websockets.ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            if code in FINAL_CLOSE_CODES:
                raise WatchEnded(f"{FINAL_CLOSE_CODES[code]} ({code})") from None
            _note(f"connection lost ({exc}); reconnecting")
        except websockets.InvalidURI as exc:
            raise WatchEnded(f"not a WebSocket URL: {exc}") from None
        except websockets.InvalidStatus as exc:
            raise WatchEnded(
                f"the server refused the handshake (HTTP "
                f"{exc.response.status_code}): is {url} its socket URL?"
            ) from None
        except (OSError, websockets.InvalidHandshake) as exc:
            _note(f"cannot connect ({exc}); retrying")
        await asyncio.sleep(RECONNECT_DELAY_SECS)


async def _relay(socket: Any, group: int, position: list[int | None]) -> str | None:
    """Subscribe and print frames; return why the watch must end, if it must.

    `position` holds the last seq printed, kept across reconnections.
    """
    frame: dict[str, object] = {"type": "subscribe", "workspace_group": group}
    if position[0] is not None:
        frame["since"] = position[0]
    await socket.send(json.dumps(frame))
    async for text in socket:
        print(text, flush=True)
        message = json.loads(text)
        reason = _final_reason(message)
        if reason is not None:
            return reason
        # `subscribed` names the head, which a replay has yet to reach: it is a
        # position only when nothing is being replayed.
        if message.get("type") == "subscribed" and position[0] is not None:
            continue
        if isinstance(message.get("seq"), int):
            position[0] = message["seq"]
    return None


async def _until_signalled(url: str, token: str, group: int, since: int | None) -> None:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    # SIGTERM ends the watch like Ctrl-C: the socket closes cleanly (1000).
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    await watch(url, token, group, since)


def _note(text: str) -> None:
    print(f"# {text}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--url",
        default="ws://127.0.0.1:8000/ws/activities/",
        help="the gateway's socket (default: %(default)s)",
    )
    parser.add_argument(
        "--token", required=True, help="an API token (make run prints one)"
    )
    parser.add_argument(
        "--group", type=int, required=True, help="the workspace group id to watch"
    )
    parser.add_argument(
        "--since",
        type=int,
        default=None,
        help="replay the events after this seq first (default: only new ones)",
    )
    args = parser.parse_args()
    try:
        asyncio.run(_until_signalled(args.url, args.token, args.group, args.since))
    except (KeyboardInterrupt, asyncio.CancelledError):
        return 0
    except WatchEnded as ended:
        _note(f"stopped: {ended}")
        return EXIT_REFUSED
    return 0


if __name__ == "__main__":
    sys.exit(main())
