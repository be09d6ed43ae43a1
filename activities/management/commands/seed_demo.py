import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token

from activities.demo import demo_seed
from activities.models import UserActivity


class Command(BaseCommand):
    help = "Create demo users, groups, tokens and activities (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--activities", type=int, default=300)

    def handle(self, *args: Any, **options: Any) -> None:
        users = demo_seed(activity_count=options["activities"])
        alice = users["alice"]
        activity = (
            UserActivity.objects.filter(
                user=alice, is_active=True, workspace_group__isnull=False
            )
            .order_by("-id")
            .first()
        )
        # `make run` prints a ready-to-paste curl line from this file.
        credentials = Path(settings.BASE_DIR) / "var" / "demo-credentials.json"
        credentials.parent.mkdir(exist_ok=True)
        credentials.write_text(
            json.dumps(
                {
                    "username": alice.username,
                    "token": Token.objects.get(user=alice).key,
                    "activity_id": activity.pk if activity else None,
                    "group_id": activity.workspace_group_id if activity else None,
                }
            )
        )
        self.stdout.write(f"demo data ready: {len(users)} users")
