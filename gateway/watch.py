"""Print the live events of one workspace group: a minimal client of /ws/activities/.

    python -m gateway.watch --token KEY --group 7 [--since 41] [--url ws://...]

It subscribes, prints each frame as it arrives, and on a dropped connection
reconnects and resumes from the last seq it printed, so it misses nothing.
"""

import argparse
import asyncio
import json
import sys

import websockets


async def watch(url: str, token: str, group: int, since: int | None) -> None:
    last = since
    while True:
        try:
            async with websockets.connect(
                url, additional_headers={"Authorization": f"Token {token}"}
            ) as socket:
                frame: dict[str, object] = {
                    "type": "subscribe",
                    "workspace_group": group,
                }
                if last is not None:
                    frame["since"] = last
                await socket.send(json.dumps(frame))
                async for text in socket:
                    print(text, flush=True)
                    message = json.loads(text)
                    kind = message.get("type")
                    # `subscribed` names the head, which a replay has yet to reach:
                    # it is a position only when nothing is being replayed.
                    if kind == "subscribed" and last is not None:
                        continue
                    if isinstance(message.get("seq"), int):
                        last = message["seq"]
        except (OSError, websockets.ConnectionClosed) as exc:
            print(
                f"# connection lost ({exc}); reconnecting", file=sys.stderr, flush=True
            )
            await asyncio.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="ws://127.0.0.1:8000/ws/activities/")
    parser.add_argument("--token", required=True)
    parser.add_argument("--group", type=int, required=True)
    parser.add_argument("--since", type=int, default=None)
    args = parser.parse_args()
    try:
        asyncio.run(watch(args.url, args.token, args.group, args.since))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
