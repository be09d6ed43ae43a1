"""Server CPU per REST request of a running gateway, against `/healthz` as baseline.

    .venv/bin/python -m bench.request_cost --base-url http://127.0.0.1:8000 \\
        --token KEY --activity ID --pid SERVER_PID [--requests 300] [--rounds 5]

Sends requests one after another on one keep-alive connection, so nothing queues,
and reads the CPU the server's processes (`--pid` and its descendants: the launcher
of `make run` will do) spent on them from /proc. Each round measures a block of
`/healthz` (no view work: what a request costs before any view runs), a block of
PATCHes of the activity (~1 KiB, as `make bench` sends) and a block of GETs of it;
the figures are medians over the rounds, and the ratio to `/healthz` is taken
within each round, since the machine is noisy. Nothing else may drive the server
meanwhile.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import httpx

from bench import procstat

PATCH_TEXT = "t" * 600
PATCH_PAD = "p" * 300


def server_cpu_secs(pid: int) -> float:
    return procstat.usage(procstat.tree(pid)).cpu_secs


def cost_ms(pid: int, requests: int, call: Callable[[], httpx.Response]) -> float:
    """Server CPU milliseconds per call, over `requests` calls in a row."""
    before = server_cpu_secs(pid)
    for _ in range(requests):
        response = call()
        if response.status_code != 200:
            raise SystemExit(f"{response.request.url}: {response.status_code}")
    return (server_cpu_secs(pid) - before) * 1000 / requests


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="an API token")
    parser.add_argument("--activity", type=int, required=True, help="an id to edit")
    parser.add_argument("--pid", type=int, required=True, help="the server's pid")
    parser.add_argument("--requests", type=int, default=300, help="per block")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    path = f"/api/user-activities/{args.activity}/"
    body = {"text": PATCH_TEXT, "resource": {"bench": "cost", "pad": PATCH_PAD}}
    with httpx.Client(
        base_url=args.base_url,
        headers={"Authorization": f"Token {args.token}"},
        trust_env=False,
        timeout=10,
    ) as client:
        calls = {
            "healthz": lambda: client.get("/healthz"),
            "patch": lambda: client.patch(path, json=body),
            "get": lambda: client.get(path),
        }
        for call in calls.values():  # warm up: connections, caches, the pool
            cost_ms(args.pid, 20, call)
        rounds = []
        for _ in range(args.rounds):
            rounds.append(
                {name: cost_ms(args.pid, args.requests, c) for name, c in calls.items()}
            )
            time.sleep(0.2)
    report = {
        "requests_per_block": args.requests,
        "rounds": args.rounds,
        **{
            f"{name}_cpu_ms": statistics.median(r[name] for r in rounds)
            for name in calls
        },
        **{
            f"{name}_vs_healthz": statistics.median(
                r[name] / r["healthz"] for r in rounds
            )
            for name in ("patch", "get")
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
