"""Use cases on activities, called directly as the admin and commands call them."""

from collections.abc import Callable
from typing import Any

import pytest

from activities import services
from activities.exceptions import NotFoundError, PermissionDeniedError
from activities.models import UserActivity
from iam.models import IAMUser, WorkspaceGroup


def test_activity_create_defaults_authorship_to_the_actor(
    make_user: Callable[..., IAMUser],
) -> None:
    user = make_user("ann")

    activity = services.activity_create(actor=user, data={"text": "x"})

    assert activity.user == user
    assert (activity.created_by, activity.updated_by) == ("ann", "ann")
    assert activity.workspace_group == user.personal_group
    assert activity.deleted_by is None


def test_activity_create_ignores_fields_it_does_not_own(
    make_user: Callable[..., IAMUser],
) -> None:
    """Only the reference's writable fields reach the row; ids and stamps do not."""
    user = make_user()

    activity = services.activity_create(
        actor=user, data={"text": "x", "id": 999, "uid": "forged", "user": None}
    )

    assert activity.pk != 999
    assert str(activity.uid) != "forged"
    assert activity.user == user


@pytest.mark.parametrize(
    "resource",
    [
        {"workspace_group": "TEAM"},
        {"workspace_group": True},
        {"workspace_group": 2**70},
        {"workspace_group": None},
        ["workspace_group", 1],
        "workspace_group",
        None,
    ],
)
def test_workspace_group_derive_falls_back_to_personal(
    make_user: Callable[..., IAMUser], resource: Any
) -> None:
    user = make_user()

    group = services.workspace_group_derive(author=user, resource=resource)

    assert group == user.personal_group


def test_workspace_group_derive_uses_a_named_group_of_the_author(
    make_user: Callable[..., IAMUser], make_group: Callable[..., WorkspaceGroup]
) -> None:
    user = make_user()
    team = make_group("team", members=[user])
    foreign = make_group("foreign", admins=[make_user()])

    named = services.workspace_group_derive(
        author=user, resource={"workspace_group": team.pk}
    )
    refused = services.workspace_group_derive(
        author=user, resource={"workspace_group": foreign.pk}
    )

    assert (named, refused) == (team, user.personal_group)


def test_activity_update_stamps_updated_by_unless_given(
    make_user: Callable[..., IAMUser], make_activity: Callable[..., UserActivity]
) -> None:
    author = make_user("ann")
    staff = make_user("root", is_staff=True)
    activity = make_activity(author)

    stamped = services.activity_update(
        actor=staff, activity_id=activity.pk, data={"text": "a"}
    )
    assert stamped.updated_by == "root"
    given = services.activity_update(
        actor=staff, activity_id=activity.pk, data={"updated_by": None}
    )

    assert given.updated_by is None
    assert given.user == author


def test_activity_update_distinguishes_hidden_from_read_only(
    make_user: Callable[..., IAMUser],
    make_group: Callable[..., WorkspaceGroup],
    make_activity: Callable[..., UserActivity],
) -> None:
    author, member, outsider = make_user(), make_user(), make_user()
    team = make_group("team", members=[author, member])
    activity = make_activity(author, workspace_group=team)

    with pytest.raises(PermissionDeniedError):
        services.activity_update(actor=member, activity_id=activity.pk, data={})
    with pytest.raises(NotFoundError):
        services.activity_update(actor=outsider, activity_id=activity.pk, data={})
    with pytest.raises(NotFoundError):
        services.activity_update(actor=author, activity_id=2**64, data={})
    assert (
        services.activity_update(
            actor=author, activity_id=activity.pk, data={"text": "mine"}
        ).text
        == "mine"
    )


def test_activity_update_judges_the_body_after_access(
    make_user: Callable[..., IAMUser],
    make_group: Callable[..., WorkspaceGroup],
    make_activity: Callable[..., UserActivity],
) -> None:
    """A body is only looked at once the row is found and the actor may edit it,
    and it is judged against the locked row."""
    author, member = make_user(), make_user()
    team = make_group("team", members=[author, member])
    activity = make_activity(author, workspace_group=team)
    seen: list[int] = []

    def changes(current: UserActivity) -> dict[str, str]:
        seen.append(current.pk)
        return {"text": "validated"}

    with pytest.raises(PermissionDeniedError):
        services.activity_update(actor=member, activity_id=activity.pk, data=changes)
    assert seen == []
    updated = services.activity_update(
        actor=author, activity_id=activity.pk, data=changes
    )
    assert seen == [activity.pk]
    assert updated.text == "validated"


def test_activity_delete_keeps_the_row(
    make_user: Callable[..., IAMUser], make_activity: Callable[..., UserActivity]
) -> None:
    user = make_user("ann")
    activity = make_activity(user)

    services.activity_delete(actor=user, activity_id=activity.pk)

    row = UserActivity.objects.get(pk=activity.pk)
    assert (row.is_active, row.deleted_by, row.text) == (False, "ann", "did something")
    assert row.deleted_at is not None


def test_admin_edits_go_through_the_services(
    make_user: Callable[..., IAMUser], make_activity: Callable[..., UserActivity]
) -> None:
    """Editing in the admin numbers an event like a REST edit does."""
    from django.test import Client

    from activities.models import ActivityEvent

    boss = make_user("boss", is_staff=True, is_superuser=True)
    author = make_user()
    activity = make_activity(author)
    client = Client()
    client.force_login(boss)

    response = client.post(
        f"/admin/activities/useractivity/{activity.pk}/change/",
        {
            "user": author.pk,
            "workspace_group": author.personal_group.pk,
            "text": "fixed by staff",
            "activity_type": 100,
            "is_active": "on",
            "created_by": activity.created_by,
            "updated_by": "",
            "deleted_by": "",
            "resource": "null",
        },
    )

    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.text == "fixed by staff"
    assert list(
        ActivityEvent.objects.filter(activity_id=activity.pk)
        .order_by("seq")
        .values_list("kind", flat=True)
    ) == ["activity.created", "activity.updated"]
