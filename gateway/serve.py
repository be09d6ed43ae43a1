"""Start the gateway: one or several Daphne processes on one listening socket.

With `--workers N` the parent binds HOST:PORT once and hands the socket to N Daphne
processes (`daphne --fd`), so the kernel spreads connections over them; they share
the database and, when REDIS_URL is set, the channel layer. Several workers need
REDIS_URL: the in-memory layer cannot carry an event from one process to another.
"""

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import django

logger = logging.getLogger("gateway.serve")

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings")

# Daphne pings every socket this often and drops one that has not answered a ping
# for PING_TIMEOUT_SECS: half-open connections leave their groups within a minute.
PING_INTERVAL_SECS = 20
PING_TIMEOUT_SECS = 30
# A worker that dies after running this long is replaced; one that dies sooner is
# failing at start-up and is left dead (the others keep serving) rather than looped.
RESPAWN_MIN_UPTIME_SECS = 10
# Frames over 64 KiB are refused by the protocol; let Daphne refuse them unread.
MAX_MESSAGE_BYTES = 64 * 1024


def daphne_command(fd: int) -> list[str]:
    return [
        sys.executable, "-m", "gateway.worker",
        "--fd", str(fd),
        "--ping-interval", str(PING_INTERVAL_SECS),
        "--ping-timeout", str(PING_TIMEOUT_SECS),
        "--websocket-max-message-size", str(MAX_MESSAGE_BYTES),
        "--application-close-timeout", "5",
        "gateway.asgi:application",
    ]  # fmt: skip


def banner(host: str, port: int, workers: int) -> str:
    from django.conf import settings

    base = f"http://{host}:{port}"
    lines = [
        "",
        f"Activity gateway: {workers} process(es) on {base}",
        f"  dashboard   {base}/dashboard/   (log in as alice / demo-password)",
        f"  API docs    {base}/api/docs/",
        f"  socket      ws://{host}:{port}/ws/activities/",
    ]
    credentials = Path(settings.BASE_DIR) / "var" / "demo-credentials.json"
    if credentials.exists():
        demo = json.loads(credentials.read_text())
        token, activity, group = demo["token"], demo["activity_id"], demo["group_id"]
        lines += [
            f"  token       {token}   (user {demo['username']})",
            "",
            "Edit an activity:",
            f"  curl -s -X PATCH {base}/api/user-activities/{activity}/ \\",
            f"       -H 'Authorization: Token {token}' \\",
            "       -H 'Content-Type: application/json' \\",
            '       -d \'{"text": "edited from curl"}\'',
            "",
            f"Watch its group ({group}) live:",
            "  .venv/bin/python -m gateway.watch \\",
            f"       --url ws://{host}:{port}/ws/activities/ \\",
            f"       --token {token} --group {group}",
        ]
    if workers > 1 and not settings.REDIS_URL:
        lines.append("WARNING: several workers without REDIS_URL do not share events.")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    django.setup()
    from django.conf import settings

    host, port = settings.HOST, settings.PORT
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        print(
            f"cannot listen on {host}:{port}: {exc.strerror}. "
            "Is another gateway running? Pick another port: PORT=8150 make run",
            file=sys.stderr,
        )
        return 1
    listener.listen(1024)
    fd = listener.fileno()
    started: dict[int, float] = {}

    def spawn() -> subprocess.Popen[bytes]:
        child = subprocess.Popen(daphne_command(fd), pass_fds=(fd,))
        started[child.pid] = time.monotonic()
        return child

    children = [spawn() for _ in range(max(1, args.workers))]
    print(banner(host, port, len(children)), flush=True)
    stopping = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        if stopping:
            if all(child.poll() is not None for child in children):
                break
        else:
            for index, child in enumerate(children):
                code = child.poll()
                # A worker that died on its own is replaced, unless it died young:
                # then something is wrong with the set-up and respawning would spin.
                if code is not None and time.monotonic() - started[child.pid] > (
                    RESPAWN_MIN_UPTIME_SECS
                ):
                    logger.warning(
                        "worker %s exited with %s; starting another", child.pid, code
                    )
                    children[index] = spawn()
        time.sleep(0.2)
    return max((child.returncode or 0) for child in children)


if __name__ == "__main__":
    sys.exit(main())
