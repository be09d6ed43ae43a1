"""Reads about users and groups: who belongs where, who may see or edit."""

from collections.abc import Iterable

from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework.authtoken.models import Token

from iam.models import MAX_ID, IAMUser, Membership, WorkspaceGroup


def user_group_ids(*, user: IAMUser) -> set[int]:
    """Ids of the workspace groups the user is a member of."""
    return set(Membership.objects.filter(user=user).values_list("group_id", flat=True))


def workspace_group_list(*, user: IAMUser) -> QuerySet[WorkspaceGroup]:
    """The caller's groups in id order, each annotated with the caller's `role`."""
    role = Membership.objects.filter(group=OuterRef("pk"), user=user).values("role")
    return (
        WorkspaceGroup.objects.filter(memberships__user=user)
        .annotate(role=Subquery(role[:1]))
        .order_by("id")
    )


def group_is_member(*, user_id: int, group_id: int) -> bool:
    """Whether the user belongs to the group (the only way to read its stream)."""
    if not (0 < group_id <= MAX_ID and 0 < user_id <= MAX_ID):
        return False
    return Membership.objects.filter(user_id=user_id, group_id=group_id).exists()


def memberships_still_valid(
    *, pairs: Iterable[tuple[int, int]]
) -> set[tuple[int, int]]:
    """Of the given (user id, group id) pairs, those whose membership still exists."""
    pairs = set(pairs)
    if not pairs:
        return set()
    user_ids = {user_id for user_id, _ in pairs}
    group_ids = {group_id for _, group_id in pairs}
    rows = Membership.objects.filter(
        user_id__in=user_ids, group_id__in=group_ids, user__is_active=True
    ).values_list("user_id", "group_id")
    return pairs & set(rows)


def active_user_ids(*, user_ids: Iterable[int]) -> set[int]:
    """Of the given users, those that exist and are active."""
    return set(
        IAMUser.objects.filter(pk__in=set(user_ids), is_active=True).values_list(
            "pk", flat=True
        )
    )


def token_user(key: str) -> IAMUser | None:
    """The active user an API token key belongs to, or None."""
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return None
    user: IAMUser = token.user
    return user


def live_token_keys(*, keys: Iterable[str]) -> set[str]:
    """Of the given API token keys, those that still exist."""
    return set(Token.objects.filter(key__in=set(keys)).values_list("key", flat=True))


def live_session_keys(*, keys: Iterable[str]) -> set[str]:
    """Of the given session keys, those that still authenticate their user: the
    session exists, has not expired, and was made with the user's current password
    (Django invalidates sessions on a password change through that hash)."""
    sessions = list(
        Session.objects.filter(
            session_key__in=set(keys), expire_date__gt=timezone.now()
        )
    )
    claims: dict[str, tuple[str, str]] = {}
    for session in sessions:
        data = session.get_decoded()
        user_id, user_hash = data.get(SESSION_KEY), data.get(HASH_SESSION_KEY)
        if user_id is not None and user_hash:
            claims[session.session_key] = (str(user_id), str(user_hash))
    users = IAMUser.objects.in_bulk([user_id for user_id, _ in claims.values()])
    live = set()
    for key, (user_id, user_hash) in claims.items():
        user = users.get(int(user_id)) if user_id.isdigit() else None
        if user is not None and constant_time_compare(
            user_hash, user.get_session_auth_hash()
        ):
            live.add(key)
    return live
