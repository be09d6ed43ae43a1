import logging
from typing import Any

from django.core.management.base import BaseCommand

from activities.stream import events_prune
from gateway.conf import gateway_setting

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Delete replay-log events past the retention window (EVENT_RETENTION_SECS, "
        "EVENT_RETENTION_COUNT per group). Safe to run while the gateway serves."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--max-age-secs", type=float, default=None)
        parser.add_argument("--keep-per-group", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        max_age = options["max_age_secs"]
        keep = options["keep_per_group"]
        deleted = events_prune(
            max_age_secs=gateway_setting("EVENT_RETENTION_SECS")
            if max_age is None
            else max_age,
            keep_per_group=gateway_setting("EVENT_RETENTION_COUNT")
            if keep is None
            else keep,
        )
        logger.info("pruned %s events", deleted)
        self.stdout.write(f"pruned {deleted} events")
