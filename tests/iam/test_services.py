"""Users, groups and memberships: personal groups, replay horizons, revocation."""

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token

from activities.models import UserActivity
from iam import selectors, services
from iam.models import MAX_ID, IAMUser, Membership, WorkspaceGroup


def versions(*groups: WorkspaceGroup) -> list[int]:
    return [WorkspaceGroup.objects.get(pk=g.pk).access_version for g in groups]


def assert_personal_group(user: IAMUser) -> None:
    group = WorkspaceGroup.objects.get(personal_owner=user)
    assert group.name == f"{user.username} (personal)"
    assert list(group.memberships.values_list("user_id", "role")) == [
        (user.pk, Membership.Role.ADMIN)
    ]


# --- personal groups ----------------------------------------------------------


def test_user_create_gives_a_personal_group(db: Any) -> None:
    user = services.user_create(username="ann", password="pw")

    assert_personal_group(user)


def test_orm_create_gives_a_personal_group(db: Any) -> None:
    """A shell or another app creating the row directly still gets the group."""
    user = IAMUser.objects.create(username="shell-made")

    assert_personal_group(user)


def test_createsuperuser_gives_a_personal_group(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-password-1")

    call_command(
        "createsuperuser",
        username="root",
        email="root@example.com",
        interactive=False,
        verbosity=0,
    )

    assert_personal_group(IAMUser.objects.get(username="root"))


def test_admin_add_user_gives_a_personal_group(
    make_user: Callable[..., IAMUser],
) -> None:
    boss = make_user("boss", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(boss)

    response = client.post(
        "/admin/iam/iamuser/add/",
        {
            "username": "via-admin",
            "password1": "a-long-password-1",
            "password2": "a-long-password-1",
            "usable_password": "true",
            # The details inline's empty formset.
            "details-TOTAL_FORMS": "0",
            "details-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    assert_personal_group(IAMUser.objects.get(username="via-admin"))


def test_saving_a_user_again_makes_no_second_group(
    make_user: Callable[..., IAMUser],
) -> None:
    user = make_user()
    user.first_name = "Ann"
    user.save()

    assert WorkspaceGroup.objects.filter(personal_owner=user).count() == 1
    assert services.personal_group_ensure(user=user) == user.personal_group


# --- memberships --------------------------------------------------------------


def test_membership_add_starts_replay_at_the_groups_head(
    make_user: Callable[..., IAMUser],
    make_group: Callable[..., WorkspaceGroup],
    make_activity: Callable[..., UserActivity],
) -> None:
    admin = make_user()
    group = make_group("team", admins=[admin])
    make_activity(admin, workspace_group=group)
    make_activity(admin, workspace_group=group)
    newcomer = make_user()

    membership = services.membership_add(user=newcomer, group=group)

    assert membership.joined_seq == 2
    assert membership.role == Membership.Role.MEMBER
    assert selectors.group_is_member(user_id=newcomer.pk, group_id=group.pk)


def test_membership_add_again_changes_role_but_not_horizon(
    make_user: Callable[..., IAMUser],
    make_group: Callable[..., WorkspaceGroup],
    make_activity: Callable[..., UserActivity],
) -> None:
    admin = make_user()
    member = make_user()
    group = make_group("team", admins=[admin], members=[member])
    make_activity(admin, workspace_group=group)

    again = services.membership_add(
        user=member, group=group, role=Membership.Role.ADMIN
    )

    assert (again.role, again.joined_seq) == (Membership.Role.ADMIN, 0)
    assert Membership.objects.filter(user=member, group=group).count() == 1


def test_membership_made_through_the_orm_is_stamped_too(
    make_user: Callable[..., IAMUser],
    make_group: Callable[..., WorkspaceGroup],
    make_activity: Callable[..., UserActivity],
) -> None:
    """The admin inline saves a Membership directly; it gets the same horizon."""
    admin = make_user()
    group = make_group("team", admins=[admin])
    make_activity(admin, workspace_group=group)

    membership = Membership.objects.create(user=make_user(), group=group)

    assert membership.joined_seq == 1


def test_workspace_group_list_annotates_the_role(
    make_user: Callable[..., IAMUser], make_group: Callable[..., WorkspaceGroup]
) -> None:
    user = make_user()
    led = make_group("led", admins=[user])
    joined = make_group("joined", members=[user])
    make_group("other", admins=[make_user()])

    # `role` is an annotation of the selector's query.
    rows = [(g.pk, g.role) for g in selectors.workspace_group_list(user=user)]  # type: ignore[attr-defined]

    assert rows == [
        (user.personal_group.pk, "admin"),
        (led.pk, "admin"),
        (joined.pk, "member"),
    ]


@pytest.mark.parametrize(
    ("user_id", "group_id"), [(MAX_ID + 1, 1), (1, MAX_ID + 1), (0, 1), (1, -5)]
)
def test_group_is_member_is_false_for_impossible_ids(
    db: Any, user_id: int, group_id: int
) -> None:
    assert selectors.group_is_member(user_id=user_id, group_id=group_id) is False


# --- revocation ---------------------------------------------------------------


def test_membership_remove_bumps_only_that_groups_access_version(
    make_user: Callable[..., IAMUser], make_group: Callable[..., WorkspaceGroup]
) -> None:
    user = make_user()
    left = make_group("left", members=[user])
    kept = make_group("kept", members=[user])

    assert services.membership_remove(user=user, group=left) is True

    assert versions(left, kept, user.personal_group) == [1, 0, 0]
    assert not selectors.group_is_member(user_id=user.pk, group_id=left.pk)


def test_membership_remove_of_a_non_member_changes_nothing(
    make_user: Callable[..., IAMUser], make_group: Callable[..., WorkspaceGroup]
) -> None:
    group = make_group("team", admins=[make_user()])

    assert services.membership_remove(user=make_user(), group=group) is False

    assert versions(group) == [0]


def test_membership_deleted_through_the_orm_bumps_access_version(
    make_user: Callable[..., IAMUser], make_group: Callable[..., WorkspaceGroup]
) -> None:
    user = make_user()
    group = make_group("team", members=[user])

    Membership.objects.get(user=user, group=group).delete()

    assert versions(group) == [1]


@pytest.mark.parametrize("repoint", ["user", "group"])
def test_membership_repointed_through_the_orm_is_a_removal_and_a_new_join(
    make_user: Callable[..., IAMUser],
    make_group: Callable[..., WorkspaceGroup],
    make_activity: Callable[..., UserActivity],
    repoint: str,
) -> None:
    """Regression: the admin lets a membership's user or group be changed in place.
    The old pair's access was not revoked (its subscriber kept getting events
    until the next poll) and the new member kept the old replay horizon (0), so
    they could replay the group's history from before they joined."""
    admin, leaver, newcomer = make_user(), make_user(), make_user()
    old = make_group("old", admins=[admin], members=[leaver])
    new = make_group("new", admins=[admin])
    for group in (old, old, new):
        make_activity(admin, workspace_group=group)
    membership = Membership.objects.get(user=leaver, group=old)

    if repoint == "user":
        membership.user = newcomer
    else:
        membership.group = new
    membership.save()

    assert versions(old, new) == [1, 0]
    assert membership.joined_seq == (2 if repoint == "user" else 1)
    membership.role = Membership.Role.ADMIN
    membership.save()
    assert versions(old, new) == [1, 0]


def test_deactivating_a_user_bumps_each_of_their_groups(
    make_user: Callable[..., IAMUser], make_group: Callable[..., WorkspaceGroup]
) -> None:
    user = make_user()
    team = make_group("team", members=[user])
    elsewhere = make_group("elsewhere", admins=[make_user()])

    user.is_active = False
    user.save()

    assert versions(user.personal_group, team, elsewhere) == [1, 1, 0]
    assert selectors.memberships_still_valid(pairs=[(user.pk, team.pk)]) == set()


def test_saving_an_active_or_inactive_user_again_bumps_nothing(
    make_user: Callable[..., IAMUser], make_group: Callable[..., WorkspaceGroup]
) -> None:
    user = make_user()
    team = make_group("team", members=[user])
    user.last_name = "Unchanged access"
    user.save()
    assert versions(team) == [0]

    user.is_active = False
    user.save()
    user.save()

    assert versions(team) == [1]


def test_deleting_a_token_bumps_the_users_groups(
    make_user: Callable[..., IAMUser], make_group: Callable[..., WorkspaceGroup]
) -> None:
    user = make_user()
    team = make_group("team", members=[user])
    key = user.auth_token.key

    Token.objects.get(key=key).delete()

    assert versions(user.personal_group, team) == [1, 1]
    assert selectors.live_token_keys(keys=[key]) == set()


def test_logout_bumps_the_users_groups(
    make_user: Callable[..., IAMUser], make_group: Callable[..., WorkspaceGroup]
) -> None:
    user = make_user()
    team = make_group("team", members=[user])
    client = Client()
    client.force_login(user)
    session_key = client.session.session_key
    assert session_key is not None
    assert selectors.live_session_keys(keys=[session_key]) == {session_key}

    client.post("/accounts/logout/")

    assert versions(team) == [1]
    assert selectors.live_session_keys(keys=[session_key]) == set()


def test_password_change_ends_the_users_sessions_for_sockets(
    make_user: Callable[..., IAMUser],
) -> None:
    """Regression: a socket opened with a session outlived a password change,
    because only the session row was checked, not the password hash in it that
    Django uses to invalidate sessions."""
    user = make_user()
    client = Client()
    client.force_login(user)
    session_key = client.session.session_key
    assert session_key is not None
    assert selectors.live_session_keys(keys=[session_key]) == {session_key}

    user.set_password("a-new-password")
    user.save()

    assert selectors.live_session_keys(keys=[session_key]) == set()


def test_revocation_rolls_back_with_its_transaction(
    make_user: Callable[..., IAMUser], make_group: Callable[..., WorkspaceGroup]
) -> None:
    """The bump lives in the transaction of the change: a failed removal leaves
    both the membership and the version as they were."""
    from django.db import transaction

    user = make_user()
    team = make_group("team", members=[user])

    with pytest.raises(RuntimeError), transaction.atomic():
        services.membership_remove(user=user, group=team)
        raise RuntimeError("aborted")

    assert versions(team) == [0]
    assert selectors.group_is_member(user_id=user.pk, group_id=team.pk)
