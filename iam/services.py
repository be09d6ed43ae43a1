"""Use cases changing who may see what: users, groups, memberships, revocation."""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F

from iam.models import IAMUser, Membership, WorkspaceGroup

logger = logging.getLogger(__name__)


def personal_group_ensure(*, user: IAMUser) -> WorkspaceGroup:
    """The user's personal workspace group, made (with membership) on first call."""
    with transaction.atomic():
        group, created = WorkspaceGroup.objects.get_or_create(
            personal_owner=user, defaults={"name": f"{user.username} (personal)"}
        )
        if created:
            Membership.objects.get_or_create(
                user=user, group=group, defaults={"role": Membership.Role.ADMIN}
            )
    return group


def user_create(
    *, username: str, password: str | None = None, email: str = "", **extra: object
) -> IAMUser:
    """Create a user; the post-save receiver gives it its personal group."""
    user = IAMUser.objects.create_user(
        username=username, password=password, email=email, **extra
    )
    return user


def workspace_group_create(
    *, name: str, admins: Iterable[IAMUser] = ()
) -> WorkspaceGroup:
    """Create a shared workspace group with the given admins."""
    with transaction.atomic():
        group = WorkspaceGroup.objects.create(name=name)
        for admin in admins:
            membership_add(user=admin, group=group, role=Membership.Role.ADMIN)
    return group


def membership_add(
    *, user: IAMUser, group: WorkspaceGroup, role: str = Membership.Role.MEMBER
) -> Membership:
    """Add (or re-role) a user in a group; access is granted at once."""
    with transaction.atomic():
        head = (
            WorkspaceGroup.objects.select_for_update(no_key=True)
            .only("event_seq")
            .get(pk=group.pk)
        )
        membership, created = Membership.objects.update_or_create(
            user=user,
            group=group,
            defaults={"role": role},
            create_defaults={"role": role, "joined_seq": head.event_seq},
        )
    if created:
        logger.info("user %s joined group %s as %s", user.pk, group.pk, role)
    return membership


def membership_remove(*, user: IAMUser, group: WorkspaceGroup) -> bool:
    """Remove a user from a group; the post-delete receiver revokes live access."""
    deleted, _ = Membership.objects.filter(user=user, group=group).delete()
    return deleted > 0


def access_revoke(*, group_ids: Iterable[int]) -> None:
    """Mark the groups' access as changed, so gateways re-check their subscribers.

    Runs in the caller's transaction and takes each group's row lock, the same lock
    a writer takes to number its event: any event committed after this commit
    carries the new version and is held until its subscribers are re-checked.
    """
    ids = sorted(set(group_ids))
    if not ids:
        return
    WorkspaceGroup.objects.filter(pk__in=ids).update(
        access_version=F("access_version") + 1
    )
    logger.info("access changed in groups %s", ids)


def user_access_revoke(*, user_id: int) -> None:
    """Revoke live access of one user in every group they belong to."""
    group_ids = Membership.objects.filter(user_id=user_id).values_list(
        "group_id", flat=True
    )
    access_revoke(group_ids=list(group_ids))
