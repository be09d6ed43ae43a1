"""Demo data and demo traffic: realistic activities made through the real services."""

import io
import random
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageDraw
from rest_framework.authtoken.models import Token

from activities import services
from activities.models import UserActivity
from activities.types import ActivityType
from iam import services as iam_services
from iam.models import IAMUser, IAMUserDetail, Membership, WorkspaceGroup

DEMO_PASSWORD = "demo-password"  # noqa: S105 (printed by `make run` on purpose)

# username, full name, avatar colour (None: no picture, the dashboard shows initials)
DEMO_USERS: tuple[tuple[str, str, str | None], ...] = (
    ("alice", "Alice Martin", "#3b82f6"),
    ("bob", "Bob Okafor", "#f97316"),
    ("carol", "Carol Nguyen", "#10b981"),
    ("dave", "Dave Kowalski", None),
    ("erin", "Erin Silva", "#a855f7"),
)

# group name, admin, other members
DEMO_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Design team", "alice", ("bob", "carol")),
    ("Game night", "bob", ("alice", "dave")),
    ("Research lab", "carol", ("alice", "erin")),
)

_TEXTS: dict[str, tuple[str, ...]] = {
    "game": ("joined the lobby for a quick match", "won 3-1 against the bots"),
    "quest": ("finished the onboarding quest", "opened the weekly quest"),
    "blog": ("read 'Designing for latency'", "bookmarked a post on CRDTs"),
    "ai": ("generated ten practice questions", "asked the tutor about recursion"),
    "video": ("watched the release walkthrough", "published a short demo"),
    "resource": ("shared the style guide", "liked the onboarding checklist"),
}


def avatar_png(initials: str, colour: str) -> bytes:
    """A 96x96 PNG avatar: initials on a coloured disc."""
    image = Image.new("RGBA", (96, 96), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, 95, 95), fill=colour)
    draw.text((48, 48), initials, fill="white", anchor="mm", font_size=40)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def demo_users_ensure() -> dict[str, IAMUser]:
    """Create the demo users (with pictures, tokens and groups) once; return them."""
    users: dict[str, IAMUser] = {}
    for username, full_name, colour in DEMO_USERS:
        first, last = full_name.split(" ", 1)
        user = IAMUser.objects.filter(username=username).first()
        if user is None:
            user = iam_services.user_create(
                username=username,
                password=DEMO_PASSWORD,
                email=f"{username}@example.com",
                first_name=first,
                last_name=last,
            )
        if colour and not user.details.exists():
            detail = IAMUserDetail(user=user)
            detail.profile_picture.save(
                f"{username}.png", ContentFile(avatar_png(first[0] + last[0], colour))
            )
        Token.objects.get_or_create(user=user)
        users[username] = user
    for name, admin, members in DEMO_GROUPS:
        group = WorkspaceGroup.objects.filter(name=name, personal_owner=None).first()
        if group is None:
            group = iam_services.workspace_group_create(
                name=name, admins=[users[admin]]
            )
        for member in members:
            if not Membership.objects.filter(user=users[member], group=group).exists():
                iam_services.membership_add(user=users[member], group=group)
    return users


def random_activity_data(rng: random.Random, group_id: int | None) -> dict[str, Any]:
    """Plausible fields for a new activity of a random type."""
    activity_type = rng.choice(list(ActivityType))
    family = next((k for k in _TEXTS if k in activity_type.label.lower()), "resource")
    return {
        "text": f"{rng.choice(_TEXTS[family])} ({activity_type.label.lower()})",
        "activity_type": activity_type.value,
        "resource": {"kind": family, "ref": rng.randint(1, 9999)},
        "workspace_group": WorkspaceGroup.objects.get(pk=group_id)
        if group_id
        else None,
    }


def traffic_step(rng: random.Random, users: list[IAMUser]) -> str:
    """One random change through the services: mostly creates, some edits and moves."""
    actor = rng.choice(users)
    groups = list(
        Membership.objects.filter(user=actor).values_list("group_id", flat=True)
    )
    roll = rng.random()
    mine = UserActivity.objects.filter(user=actor, is_active=True).order_by("-id")[:20]
    target = rng.choice(list(mine)) if mine else None
    if target is None or roll < 0.6:
        services.activity_create(
            actor=actor, data=random_activity_data(rng, rng.choice(groups))
        )
        return "created"
    if roll < 0.85:
        services.activity_update(
            actor=actor,
            activity_id=target.pk,
            data={"text": target.text.split(" (edited")[0] + " (edited)"},
        )
        return "updated"
    if roll < 0.93 and len(groups) > 1:
        other = rng.choice([g for g in groups if g != target.workspace_group_id])
        services.activity_update(
            actor=actor,
            activity_id=target.pk,
            data={"workspace_group": WorkspaceGroup.objects.get(pk=other)},
        )
        return "moved"
    services.activity_delete(actor=actor, activity_id=target.pk)
    return "removed"


def demo_seed(activity_count: int = 300, seed: int = 7) -> dict[str, IAMUser]:
    """Users, groups, tokens, and `activity_count` activities if there are none yet."""
    with transaction.atomic():
        users = demo_users_ensure()
    if not UserActivity.objects.exists():
        rng = random.Random(seed)
        people = list(users.values())
        for _ in range(activity_count):
            traffic_step(rng, people)
    return users
