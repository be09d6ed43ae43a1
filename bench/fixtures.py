"""Users, groups, tokens and activities of one bench run, printed as JSON.

    DATABASE_URL=... python -m bench.fixtures --plan plan.json

Runs against a freshly migrated database. Every system under test gets its own
groups and activities, so one system's edits can never reach another's sockets.
"""

import argparse
import json
import os
import sys
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings")

# Group ids start here (plus a per-run offset): the gateway's pub/sub layer has no
# key prefix and Redis channels ignore the db index, so small ids could collide
# with the groups of a test run sharing the same Redis.
GROUP_ID_BASE = 1_000_000_000


def build(plan: dict[str, Any]) -> dict[str, Any]:
    from django.db import connection, transaction
    from rest_framework.authtoken.models import Token

    from activities.models import UserActivity
    from activities.types import ActivityType
    from iam import services as iam_services
    from iam.models import IAMUser, Membership, WorkspaceGroup

    start = GROUP_ID_BASE + (os.getpid() % 100_000) * 10_000
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('iam_workspacegroup', 'id'), %s)",
                [start],
            )

    writers = plan["writers"]
    with transaction.atomic():
        writer = iam_services.user_create(username="bench-writer", password=None)
        subscribers = [
            iam_services.user_create(username=f"bench-sub{i}", password=None)
            for i in range(plan["subscriber_users"])
        ]
        tokens = {
            user.pk: Token.objects.create(user=user).key
            for user in [writer, *subscribers]
        }
        layouts: dict[str, dict[str, Any]] = {}
        for key, group_count in plan["layouts"].items():
            groups = [
                WorkspaceGroup.objects.create(name=f"bench {key} {i}")
                for i in range(group_count)
            ]
            Membership.objects.bulk_create(
                Membership(user=user, group=group, role=role)
                for group in groups
                for user, role in [
                    (writer, Membership.Role.ADMIN),
                    *((sub, Membership.Role.MEMBER) for sub in subscribers),
                ]
            )
            activities = UserActivity.objects.bulk_create(
                UserActivity(
                    user=writer,
                    workspace_group=group,
                    text="bench",
                    activity_type=ActivityType.USER_LOGIN,
                    created_by=writer.username,
                    updated_by=writer.username,
                )
                for group in groups
                for _ in range(writers)
            )
            by_group: dict[str, list[int]] = {}
            for activity in activities:
                by_group.setdefault(str(activity.workspace_group_id), []).append(
                    activity.pk
                )
            layouts[key] = {
                "groups": [group.pk for group in groups],
                "activities": by_group,
            }
    assert IAMUser.objects.filter(username__startswith="bench-").count() == len(tokens)
    return {
        "writer_token": tokens[writer.pk],
        "subscriber_tokens": [tokens[user.pk] for user in subscribers],
        "layouts": layouts,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plan", required=True, help="JSON file: see bench.run")
    args = parser.parse_args()
    django.setup()
    with open(args.plan) as handle:
        plan = json.load(handle)
    json.dump(build(plan), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
