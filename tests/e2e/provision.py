"""Make users, tokens and groups in the database a running gateway uses.

Run as `python -m tests.e2e.provision` with DATABASE_URL set; reads a JSON spec on
stdin and writes what it made as JSON on stdout. It goes through the same services
as the product (so signals give every user a personal group), in its own process
because the test process's Django is bound to pytest-django's test database.

Spec:    {"users": ["alice", ...],
          "groups": [{"name": "g1", "admins": ["alice"], "members": ["bob"]}]}
Answer:  {"users": {"alice": {"id": 1, "token": "...", "personal_group": 3}},
          "groups": {"g1": 4}}
"""

import json
import os
import sys
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
            user = services.user_create(username=name, password=f"pw-{name}")
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
    spec = json.load(sys.stdin)
    json.dump(provision(spec), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
