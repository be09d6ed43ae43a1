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
from activities.types import ActivityType, Category, category_of
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

# What a text says about an activity: "<type label>: <detail>". A category's details
# fit every type of that category ("Quest Deleted: the draft of the weekly quest");
# types whose detail depends on the verb have their own. Fields in braces are drawn
# at random (see _fields).
_CATEGORY_DETAILS: dict[Category, tuple[str, ...]] = {
    Category.GAME: (
        "the Friday chess ladder",
        "a quick 1v1 against the bots",
        "the 3v3 arena match",
        "a blitz round with the design team",
    ),
    Category.RESOURCE: (
        "the style guide",
        "the onboarding checklist",
        "the API cheat sheet",
        "the release notes for {version}",
    ),
    Category.QUEST: (
        "the weekly quest",
        "the onboarding quest",
        "the SQL basics quest",
        "the draft of the spring quest",
    ),
    Category.PUBLICATION: (
        "the latency paper",
        "the quarterly research summary",
        "a write-up of the caching study",
    ),
    Category.BLOG: (
        "'Designing for latency'",
        "'What CRDTs buy you'",
        "'Ten rules for wall dashboards'",
        "'Postgres row locks, gently'",
    ),
    Category.EXPERIENCE: (
        "the intro to Python track",
        "the code review workshop",
        "the accessibility lab",
    ),
    Category.AI: (
        "the distributed systems domain",
        "the databases domain",
        "the frontend basics domain",
    ),
    Category.PODCAST: (
        "episode {n}: shipping on Fridays",
        "episode {n}: on-call stories",
        "the interview with the infra team",
    ),
    Category.VIDEO: (
        "the release walkthrough",
        "a {mins}-minute demo of the dashboard",
        "the onboarding video",
    ),
    Category.DOCUMENT: (
        "the architecture notes",
        "the meeting minutes of week {n}",
        "the security checklist",
    ),
    Category.PROFILE: (
        "new bio and links",
        "time zone and languages",
    ),
    Category.SOCIAL: (
        "Alice Martin",
        "Bob Okafor",
        "Carol Nguyen",
        "Dave Kowalski",
        "Erin Silva",
    ),
    Category.COLLECTION: (
        "the backend starter pack",
        "favourite talks of {year}",
        "the weekend reading list",
    ),
}

_TYPE_DETAILS: dict[ActivityType, tuple[str, ...]] = {
    ActivityType.USER_LOGIN: (
        "from the web app",
        "on the mobile app",
        "from a new laptop",
    ),
    ActivityType.USER_LOGOUT: (
        "after a {mins}-minute session",
        "at the end of the day",
        "from the mobile app",
    ),
    ActivityType.GAME_WON: (
        "beat the bots {wins}-{losses}",
        "took the blitz round {wins}-{losses}",
        "top of the Friday chess ladder",
    ),
    ActivityType.GAME_LEFT: (
        "the 3v3 arena match, at half time",
        "a quick 1v1 against the bots",
        "the blitz round, before the final",
    ),
    ActivityType.DAILY_STREAK: (
        "{days} days in a row",
        "back for day {days}",
        "{days}-day streak, a new best",
    ),
    ActivityType.ELO_GAINED: (
        "+{elo} after a ranked game",
        "+{elo}, now at {rating}",
    ),
    ActivityType.ELO_LOST: (
        "-{elo} after a ranked game",
        "-{elo}, now at {rating}",
    ),
    ActivityType.XP_GAINED: (
        "+{xp} XP for the weekly quest",
        "+{xp} XP for a finished lesson",
        "+{xp} XP for helping a teammate",
    ),
    ActivityType.RESOURCE_COMMENTED: (
        "the style guide: 'can we add dark mode colours?'",
        "the API cheat sheet: 'the pagination part helped'",
        "the onboarding checklist: 'step 4 is out of date'",
    ),
    ActivityType.EXPERIENCE_BULK_DELETED: (
        "{n} old drafts",
        "{n} archived workshops",
    ),
    ActivityType.AI_QUESTION_GENERATED: (
        "{n} practice questions on recursion",
        "{n} quiz questions on SQL joins",
    ),
    ActivityType.AI_ANSWER_GENERATED: (
        "a worked answer on big-O notation",
        "a model answer on HTTP caching",
    ),
    ActivityType.AI_EXPLANATION_GENERATED: (
        "why the index was not used",
        "how CRDT merges converge",
    ),
    ActivityType.AI_CHECKER_GENERATED: (
        "a checker for the sorting exercise",
        "a checker for the regex exercise",
    ),
    ActivityType.AI_OPTIONS_GENERATED: (
        "{n} answer options for the SQL quiz",
        "{n} distractors for the recursion quiz",
    ),
    ActivityType.AI_CHAT_STARTED: (
        "asked the tutor about recursion",
        "asked the tutor about database locks",
    ),
    ActivityType.AI_CHAT_MESSAGE_SENT: (
        "'can you show an example?'",
        "'why is this O(n log n)?'",
        "'what does NO KEY UPDATE lock?'",
    ),
    ActivityType.AI_KNOWLEDGE_SEARCHED: (
        "'websocket backpressure'",
        "'cursor pagination'",
        "'row level locks'",
    ),
    ActivityType.PODCAST_LISTENED: (
        "episode {n}: shipping on Fridays, {mins} min",
        "the interview with the infra team, to the end",
    ),
    ActivityType.PROFILE_PICTURE_UPDATED: (
        "a new photo",
        "a new avatar from the team offsite",
    ),
    ActivityType.PROFILE_VIEWED: (
        "Carol Nguyen's profile",
        "the profile of the new team lead",
    ),
    ActivityType.COLLECTION_EXPERIENCE_ADDED: (
        "the code review workshop to the backend starter pack",
        "the accessibility lab to the weekend reading list",
    ),
    ActivityType.COLLECTION_EXPERIENCE_REMOVED: (
        "the intro to Python track from the backend starter pack",
        "an old workshop from the weekend reading list",
    ),
    ActivityType.COLLECTION_EXPERIENCE_REORDERED: (
        "the backend starter pack, locks first",
        "the weekend reading list, shortest first",
    ),
}


def _fields(rng: random.Random) -> dict[str, Any]:
    wins = rng.randint(2, 5)
    return {
        "n": rng.randint(2, 12),
        "mins": rng.randint(5, 90),
        "days": rng.randint(2, 30),
        "elo": rng.randint(4, 24),
        "rating": rng.randint(1100, 1900),
        "xp": rng.randrange(10, 260, 10),
        "wins": wins,
        "losses": rng.randint(0, wins - 1),
        "version": f"v{rng.randint(1, 3)}.{rng.randint(0, 9)}",
        "year": rng.choice((2023, 2024, 2025)),
    }


def activity_text(
    rng: random.Random, activity_type: int, avoid: str | None = None
) -> str:
    """A short text that fits `activity_type`; not `avoid` (an edit's old text)."""
    kind = ActivityType(activity_type)
    details = _TYPE_DETAILS.get(kind) or _CATEGORY_DETAILS[category_of(kind)]
    text = avoid
    for _ in range(10):
        text = f"{kind.label}: {rng.choice(details).format(**_fields(rng))}"
        if text != avoid:
            break
    assert text is not None
    return text


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
    return {
        "text": activity_text(rng, activity_type.value),
        "activity_type": activity_type.value,
        "resource": {
            "kind": category_of(activity_type).value,
            "ref": rng.randint(1, 9999),
        },
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
            # A real edit: a new text that still fits the activity's type.
            data={"text": activity_text(rng, target.activity_type, target.text)},
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
