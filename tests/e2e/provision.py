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
"""

import json
import os
import sys
import traceback
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


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings")
    django.setup()
    for line in sys.stdin:
        try:
            answer = {"ok": provision(json.loads(line))}
        except Exception:
            answer = {"error": traceback.format_exc()}
        print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
