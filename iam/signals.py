"""Receivers that keep access rules true whichever code path changed the data.

The admin, a shell and another worker all go through the ORM, so these receivers
(and not only the services) make sure a new user gets a personal group and a lost
membership, a deactivated user, a deleted token or a logout revokes live access.
"""

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

from iam import services
from iam.models import IAMUser, Membership, WorkspaceGroup


@receiver(pre_save, sender=IAMUser)
def note_deactivation(sender: type, instance: IAMUser, **_: Any) -> None:
    instance._deactivating = (  # type: ignore[attr-defined]
        instance.pk is not None
        and not instance.is_active
        and IAMUser.objects.filter(pk=instance.pk, is_active=True).exists()
    )


@receiver(post_save, sender=IAMUser)
def user_saved(
    sender: type, instance: IAMUser, created: bool, raw: bool = False, **_: Any
) -> None:
    # A fixture load (raw) brings its own groups; making one here would clash.
    if created and not raw:
        services.personal_group_ensure(user=instance)
    elif getattr(instance, "_deactivating", False):
        services.user_access_revoke(user_id=instance.pk)


@receiver(pre_save, sender=Membership)
def stamp_joined_seq(sender: type, instance: Membership, **_: Any) -> None:
    # Memberships made outside membership_add (admin inline, shell) still start
    # their replay horizon at the group's head.
    if instance._state.adding:
        if not instance.joined_seq:
            instance.joined_seq = _group_head(instance.group_id)
        return
    # A membership re-pointed to another user or group (the admin allows it) is a
    # removal from the old pair and a new membership of the new one.
    old = (
        Membership.objects.filter(pk=instance.pk)
        .values_list("user_id", "group_id")
        .first()
    )
    if old is not None and old != (instance.user_id, instance.group_id):
        instance._repointed_from_group = old[1]  # type: ignore[attr-defined]
        instance.joined_seq = _group_head(instance.group_id)


@receiver(post_save, sender=Membership)
def revoke_repointed_membership(sender: type, instance: Membership, **_: Any) -> None:
    old_group = getattr(instance, "_repointed_from_group", None)
    if old_group is not None:
        del instance._repointed_from_group  # type: ignore[attr-defined]
        services.access_revoke(group_ids=[old_group])


def _group_head(group_id: int) -> int:
    return (
        WorkspaceGroup.objects.filter(pk=group_id)
        .values_list("event_seq", flat=True)
        .first()
        or 0
    )


@receiver(post_delete, sender=Membership)
def revoke_lost_membership(sender: type, instance: Membership, **_: Any) -> None:
    services.access_revoke(group_ids=[instance.group_id])


@receiver(post_delete, sender=Token)
def revoke_deleted_token(sender: type, instance: Token, **_: Any) -> None:
    services.user_access_revoke(user_id=instance.user_id)


@receiver(user_logged_out)
def revoke_logged_out_session(sender: type, user: IAMUser | None, **_: Any) -> None:
    if user is not None and user.pk is not None:
        services.user_access_revoke(user_id=user.pk)
