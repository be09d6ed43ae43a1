import random
import time
from typing import Any

from django.core.management.base import BaseCommand

from activities.demo import demo_users_ensure, traffic_step


class Command(BaseCommand):
    help = (
        "Make live demo traffic: random creates, edits, moves and soft deletes by the "
        "demo users, through the same services as the REST API."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--rate", type=float, default=2.0, help="changes per second"
        )
        parser.add_argument(
            "--duration", type=float, default=0, help="seconds; 0 = forever"
        )
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        rng = random.Random(options["seed"])
        users = list(demo_users_ensure().values())
        interval = 1.0 / max(options["rate"], 0.01)
        deadline = (
            time.monotonic() + options["duration"] if options["duration"] else None
        )
        count = 0
        try:
            while deadline is None or time.monotonic() < deadline:
                started = time.monotonic()
                outcome = traffic_step(rng, users)
                count += 1
                self.stdout.write(f"{count} {outcome}")
                time.sleep(max(0.0, interval - (time.monotonic() - started)))
        except KeyboardInterrupt:
            # Ctrl-C is how a demo ends; each change commits on its own, so there
            # is nothing to undo.
            self.stdout.write(f"stopped after {count} changes")
