"""Make users, tokens and groups in the database a running gateway uses.

Run as `python -m tests.e2e.provision` with DATABASE_URL set. It reads one JSON spec
per line on stdin and answers each with one JSON line on stdout, so a test session
pays for Django's start once. It goes through the product's services (signals give
every user a personal group), in a process of its own because the test process's
Django is bound to pytest-django's test database.

Spec:    {"users": ["alice", ...],
          "groups": [{"name": "g1", "admins": ["alice"], "members": ["bob"]}]}
Answer:  {"ok": {"users": {"alice": {"id": 1, "token": "...", "personal_group": 3}},
                 "groups": {"g1": 4}}}
         or {"error": "<traceback>"}

A spec with an "op" changes what exists instead, through the same services and
signals an admin or a shell would trigger (see OPS):

Spec:    {"op": "membership_remove", "user": 1, "group": 4}
Answer:  {"ok": {..., "committed_at": <time.time() just after the commit>}}
"""

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import django


def provision(spec: dict[str, Any]) -> dict[str, Any]:
    """Create everything `spec` names, in one transaction, and describe it."""
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    from iam import services
    from iam.models import IAMUser, Membership

    made: dict[str, Any] = {"users": {}, "groups": {}}
    users: dict[str, IAMUser] = {}
    with transaction.atomic():
        for name in spec.get("users", []):
            # No password: hashing one costs a second of CPU, and tokens suffice.
            user = services.user_create(username=name, password=None)
            token = Token.objects.create(user=user)
            users[name] = user
            made["users"][name] = {
                "id": user.pk,
                "token": token.key,
                "personal_group": services.personal_group_ensure(user=user).pk,
            }
        for group_spec in spec.get("groups", []):
            group = services.workspace_group_create(
                name=group_spec["name"],
                admins=[users[name] for name in group_spec.get("admins", [])],
            )
            for name in group_spec.get("members", []):
                services.membership_add(
                    user=users[name], group=group, role=Membership.Role.MEMBER
                )
            made["groups"][group_spec["name"]] = group.pk
    return made


def membership_remove(*, user: int, group: int) -> dict[str, Any]:
    """Remove a membership; `revoked_after` is the group's seq at the removal.

    The group row is locked first, so no event commits in between: events up to
    `revoked_after` were committed while the user was a member, later ones after.
    """
    from django.db import transaction

    from iam import services
    from iam.models import IAMUser, WorkspaceGroup

    with transaction.atomic():
        locked = WorkspaceGroup.objects.select_for_update().get(pk=group)
        removed = services.membership_remove(
            user=IAMUser.objects.get(pk=user), group=locked
        )
        head = WorkspaceGroup.objects.get(pk=group).event_seq
    return {"removed": removed, "revoked_after": head}


def membership_add(*, user: int, group: int) -> dict[str, Any]:
    """Add a plain membership; `joined_seq` is the group's seq when it was made."""
    from iam import services
    from iam.models import IAMUser, Membership, WorkspaceGroup

    membership = services.membership_add(
        user=IAMUser.objects.get(pk=user),
        group=WorkspaceGroup.objects.get(pk=group),
        role=Membership.Role.MEMBER,
    )
    return {"joined_seq": membership.joined_seq}


def user_deactivate(*, user: int) -> dict[str, Any]:
    """Set is_active to false with a model save, as the admin does."""
    from iam.models import IAMUser

    account = IAMUser.objects.get(pk=user)
    account.is_active = False
    account.save()
    return {}


def token_delete(*, user: int) -> dict[str, Any]:
    """Delete the user's API token, as the admin does."""
    from rest_framework.authtoken.models import Token

    Token.objects.get(user_id=user).delete()
    return {}


def events_seed(*, user: int, group: int, count: int) -> dict[str, Any]:
    """Give `group` a history of `count` logged events, fast; `head` afterwards.

    One activity is created through the service (seq 1); then, under the group
    row's lock as the stream numbers events, `count - 1` text edits of it are
    logged in one bulk insert, each frame rendered by the stream's own renderer
    from the activity's JSON with that edit's text. Going through the service for
    each would cost a serializer run per event (about 15 ms here), a minute for a
    few thousand. Nothing is published: the seed is for replays from the log.
    """
    from django.db import transaction

    from activities.models import ActivityEvent
    from activities.services import activity_create, activity_representation
    from activities.stream import render_frame
    from iam.models import IAMUser, WorkspaceGroup

    author = IAMUser.objects.get(pk=user)
    activity = activity_create(
        actor=author,
        data={"text": "seed", "workspace_group": WorkspaceGroup.objects.get(pk=group)},
    )
    data = activity_representation(activity)
    with transaction.atomic():
        head = WorkspaceGroup.objects.select_for_update().get(pk=group)
        rows = []
        for seq in range(head.event_seq + 1, head.event_seq + count):
            data["text"] = f"seed edit #{seq}"
            rows.append(
                ActivityEvent(
                    workspace_group_id=group,
                    seq=seq,
                    kind=ActivityEvent.Kind.UPDATED,
                    activity_id=activity.pk,
                    activity_type=activity.activity_type,
                    access_version=head.access_version,
                    frame=render_frame(
                        kind=ActivityEvent.Kind.UPDATED,
                        group_id=group,
                        seq=seq,
                        activity=data,
                    ),
                )
            )
        ActivityEvent.objects.bulk_create(rows, batch_size=1000)
        activity.text = data["text"]
        activity.save(update_fields=["text"])
        last = head.event_seq + count - 1
        WorkspaceGroup.objects.filter(pk=group).update(event_seq=last)
    return {"head": last}


OPS: dict[str, Callable[..., dict[str, Any]]] = {
    "membership_remove": membership_remove,
    "membership_add": membership_add,
    "user_deactivate": user_deactivate,
    "token_delete": token_delete,
    "events_seed": events_seed,
}


def handle(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one spec: an op by name, or the provisioning of users and groups."""
    if "op" not in spec:
        return provision(spec)
    args = dict(spec)
    done = OPS[args.pop("op")](**args)
    return {**done, "committed_at": time.time()}


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings")
    django.setup()
    for line in sys.stdin:
        try:
            answer: dict[str, Any] = {"ok": handle(json.loads(line))}
        except Exception:
            answer = {"error": traceback.format_exc()}
        print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
