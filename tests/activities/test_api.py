"""The REST endpoints of user activities, groups and types, through the real URLs."""

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from activities.models import UserActivity
from iam import services as iam_services
from iam.models import IAMUser, Membership, WorkspaceGroup

LIST = "/api/user-activities/"
RESPONSE_FIELDS = [
    "id",
    "user",
    "workspace_group_id",
    "uid",
    "created_at",
    "updated_at",
    "text",
    "activity_type",
    "deleted_at",
    "is_active",
    "created_by",
    "updated_by",
    "deleted_by",
    "resource",
    "workspace_group",
]


def detail(pk: Any) -> str:
    return f"{LIST}{pk}/"


def raw_post(client: APIClient, path: str, body: str, method: str = "POST") -> Any:
    return client.generic(method, path, body, content_type="application/json")


@pytest.fixture
def team(
    make_user: Callable[..., IAMUser], make_group: Callable[..., WorkspaceGroup]
) -> dict[str, Any]:
    """A shared group with an admin, an author and a plain member, and an outsider."""
    admin = make_user("ada")
    author = make_user("bob")
    member = make_user("cy")
    outsider = make_user("eve")
    group = make_group("team", admins=[admin], members=[author, member])
    return {
        "admin": admin,
        "author": author,
        "member": member,
        "outsider": outsider,
        "group": group,
    }


# --- authentication ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", LIST),
        ("post", LIST),
        ("get", detail(1)),
        ("put", detail(1)),
        ("patch", detail(1)),
        ("delete", detail(1)),
        ("get", "/api/workspace-groups/"),
        ("get", "/api/activity-types/"),
    ],
)
def test_api_without_credentials_is_401_with_challenge(
    db: Any, method: str, path: str
) -> None:
    response = getattr(APIClient(), method)(path)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "detail": "Authentication credentials were not provided."
    }


def test_api_with_unknown_token_is_401(db: Any) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

    response = client.get(LIST)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}
    assert "WWW-Authenticate" in response.headers


def test_api_token_of_inactive_user_is_401(
    make_user: Callable[..., IAMUser], client_for: Callable[..., APIClient]
) -> None:
    user = make_user()
    client = client_for(user)
    user.is_active = False
    user.save()

    response = client.get(LIST)

    assert response.status_code == 401


def test_api_session_cookie_authenticates(
    make_user: Callable[..., IAMUser], make_activity: Callable[..., UserActivity]
) -> None:
    user = make_user()
    activity = make_activity(user)
    client = APIClient()
    client.force_login(user)

    response = client.get(detail(activity.pk))

    assert response.status_code == 200
    assert response.json()["id"] == activity.pk


# --- retrieve ---------------------------------------------------------------


def test_retrieve_returns_exactly_the_reference_fields(
    team: dict[str, Any],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    author, group = team["author"], team["group"]
    activity = make_activity(
        author,
        text="won a game",
        activity_type=205,
        resource={"game": 3, "workspace_group": group.pk},
    )

    response = client_for(author).get(detail(activity.pk))

    assert response.status_code == 200
    body = response.json()
    assert list(body) == RESPONSE_FIELDS
    activity.refresh_from_db()
    assert body == {
        "id": activity.pk,
        "user": {
            "id": author.pk,
            "username": "bob",
            "first_name": "",
            "last_name": "",
            "profile_picture": None,
        },
        "workspace_group_id": group.pk,
        "uid": str(activity.uid),
        "created_at": activity.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": activity.updated_at.isoformat().replace("+00:00", "Z"),
        "text": "won a game",
        "activity_type": 205,
        "deleted_at": None,
        "is_active": True,
        "created_by": "bob",
        "updated_by": "bob",
        "deleted_by": None,
        "resource": {"game": 3, "workspace_group": group.pk},
        "workspace_group": group.pk,
    }


def test_retrieve_hidden_activity_is_404_like_a_missing_one(
    team: dict[str, Any],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    activity = make_activity(team["author"], workspace_group=team["group"])
    outsider = client_for(team["outsider"])

    hidden = outsider.get(detail(activity.pk))
    missing = outsider.get(detail(activity.pk + 1000))

    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    assert hidden.json() == {"detail": "No UserActivity matches the given query."}


def test_write_to_hidden_activity_is_404_like_a_missing_one(
    team: dict[str, Any],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    """The outsider learns nothing from PUT, PATCH or DELETE either, even with a
    body that would not validate."""
    activity = make_activity(team["author"], workspace_group=team["group"])
    outsider = client_for(team["outsider"])

    for method in ("put", "patch", "delete"):
        call = getattr(outsider, method)
        hidden = call(detail(activity.pk), {"text": ""}, format="json")
        missing = call(detail(activity.pk + 1000), {"text": ""}, format="json")
        assert hidden.status_code == missing.status_code == 404, method
        assert hidden.content == missing.content, method
    activity.refresh_from_db()
    assert activity.text == "did something"
    assert activity.is_active is True


@pytest.mark.parametrize("viewer", ["author", "member", "admin", "staff"])
def test_retrieve_is_allowed_to_members_author_and_staff(
    team: dict[str, Any],
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
    viewer: str,
) -> None:
    activity = make_activity(team["author"], workspace_group=team["group"])
    user = make_user(is_staff=True) if viewer == "staff" else team[viewer]

    response = client_for(user).get(detail(activity.pk))

    assert response.status_code == 200
    assert response.json()["id"] == activity.pk


def test_retrieve_author_keeps_seeing_after_leaving_the_group(
    team: dict[str, Any],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:

    activity = make_activity(team["author"], workspace_group=team["group"])
    iam_services.membership_remove(user=team["author"], group=team["group"])

    assert client_for(team["author"]).get(detail(activity.pk)).status_code == 200
    assert client_for(team["member"]).get(detail(activity.pk)).status_code == 200


def test_retrieve_sets_stream_seq_of_the_activity_group(
    team: dict[str, Any],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    group = team["group"]
    activity = make_activity(team["author"], workspace_group=group)
    make_activity(team["author"], workspace_group=group)

    response = client_for(team["member"]).get(detail(activity.pk))

    assert response.headers["X-Stream-Seq"] == f"{group.pk}=2"


def test_retrieve_stream_seq_is_empty_for_staff_outside_the_group(
    team: dict[str, Any],
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    """Staff may read any activity, but a head is only useful for a group one can
    subscribe to, so a staff user outside the group gets an empty header."""
    activity = make_activity(team["author"], workspace_group=team["group"])

    response = client_for(make_user(is_staff=True)).get(detail(activity.pk))

    assert response.status_code == 200
    assert response.headers["X-Stream-Seq"] == ""


# --- list -------------------------------------------------------------------


def test_list_shows_only_visible_activities_newest_first(
    team: dict[str, Any],
    make_user: Callable[..., IAMUser],
    make_group: Callable[..., WorkspaceGroup],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    group = team["group"]
    first = make_activity(team["author"], workspace_group=group, text="one")
    own = make_activity(team["member"], text="mine, personal")
    second = make_activity(team["admin"], workspace_group=group, text="two")
    make_activity(team["outsider"], text="someone else's")
    make_activity(team["author"], text="author's personal")

    response = client_for(team["member"]).get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["results"]] == [second.pk, own.pk, first.pk]
    assert body["next"] is None
    assert body["previous"] is None
    assert all(list(row) == RESPONSE_FIELDS for row in body["results"])


def test_list_for_staff_shows_everything(
    team: dict[str, Any],
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    rows = [make_activity(team[name]) for name in ("author", "member", "outsider")]

    response = client_for(make_user(is_staff=True)).get(LIST)

    assert [row["id"] for row in response.json()["results"]] == [
        row.pk for row in reversed(rows)
    ]


def test_list_filters_by_workspace_group(
    team: dict[str, Any],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    group = team["group"]
    shared = make_activity(team["author"], workspace_group=group)
    make_activity(team["author"])

    response = client_for(team["author"]).get(LIST, {"workspace_group": group.pk})

    assert [row["id"] for row in response.json()["results"]] == [shared.pk]
    assert response.headers["X-Stream-Seq"] == f"{group.pk}=1"


def test_list_filters_by_repeated_activity_type(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    user = make_user()
    login = make_activity(user, activity_type=100)
    make_activity(user, activity_type=101)
    won = make_activity(user, activity_type=205)

    response = client_for(user).get(LIST + "?activity_type=100&activity_type=205")

    assert [row["id"] for row in response.json()["results"]] == [won.pk, login.pk]


def test_list_filters_by_author(
    team: dict[str, Any],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    group = team["group"]
    by_admin = make_activity(team["admin"], workspace_group=group)
    make_activity(team["author"], workspace_group=group)

    response = client_for(team["member"]).get(LIST, {"user": team["admin"].pk})

    assert [row["id"] for row in response.json()["results"]] == [by_admin.pk]


def test_list_includes_soft_deleted_rows_unless_filtered(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    """The list is the table, not the live feed: soft deleted rows stay listed (the
    row stays, as the contract says) and `is_active=true` gives the feed's view."""
    user = make_user()
    kept = make_activity(user)
    gone = make_activity(user)
    client = client_for(user)
    assert client.delete(detail(gone.pk)).status_code == 204

    everything = client.get(LIST).json()["results"]
    active = client.get(LIST, {"is_active": "true"}).json()["results"]
    inactive = client.get(LIST, {"is_active": "false"}).json()["results"]

    assert [row["id"] for row in everything] == [gone.pk, kept.pk]
    assert [row["id"] for row in active] == [kept.pk]
    assert [row["id"] for row in inactive] == [gone.pk]


def test_list_filters_by_updated_since(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    user = make_user()
    old = make_activity(user)
    new = make_activity(user)
    long_ago = timezone.now() - timedelta(days=3)
    UserActivity.objects.filter(pk=old.pk).update(updated_at=long_ago)
    since = (timezone.now() - timedelta(days=1)).isoformat()

    response = client_for(user).get(LIST, {"updated_since": since})

    assert [row["id"] for row in response.json()["results"]] == [new.pk]


def test_list_paginates_with_a_cursor(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    user = make_user()
    rows = [make_activity(user, text=f"n{i}") for i in range(5)]
    client = client_for(user)

    first = client.get(LIST, {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()

    ids = [row.pk for row in reversed(rows)]
    assert [row["id"] for row in first["results"]] == ids[0:2]
    assert [row["id"] for row in second["results"]] == ids[2:4]
    assert [row["id"] for row in third["results"]] == ids[4:5]
    assert third["next"] is None
    assert "count" not in first


def test_list_stream_seq_names_every_group_of_the_caller(
    team: dict[str, Any],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    author, group = team["author"], team["group"]
    make_activity(author, workspace_group=group)
    make_activity(author, workspace_group=group)
    make_activity(author)
    personal = author.personal_group.pk

    response = client_for(author).get(LIST)

    pairs = sorted([group.pk, personal])
    seqs = {group.pk: 2, personal: 1}
    assert response.headers["X-Stream-Seq"] == ",".join(
        f"{pk}={seqs[pk]}" for pk in pairs
    )


def test_list_stream_seq_of_a_foreign_group_filter_is_empty(
    team: dict[str, Any], client_for: Callable[..., APIClient]
) -> None:
    response = client_for(team["outsider"]).get(
        LIST, {"workspace_group": team["group"].pk}
    )

    assert response.status_code == 200
    assert response.json()["results"] == []
    assert response.headers["X-Stream-Seq"] == ""


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("workspace_group=abc", "workspace_group"),
        ("workspace_group=1.5", "workspace_group"),
        ("workspace_group=99999999999999999999999", "workspace_group"),
        ("workspace_group=-1", "workspace_group"),
        ("user=99999999999999999999999", "user"),
        ("user=x", "user"),
        ("activity_type=99", "activity_type"),
        ("activity_type=abc", "activity_type"),
        ("updated_since=yesterday", "updated_since"),
        ("updated_since=99999-01-01", "updated_since"),
    ],
)
def test_list_rejects_bad_filters_with_400(
    make_user: Callable[..., IAMUser],
    client_for: Callable[..., APIClient],
    query: str,
    field: str,
) -> None:
    response = client_for(make_user()).get(f"{LIST}?{query}")

    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe", b"p=abc", b"p=99999999999999999999999", b"r=x", b"o=-5&p=1"],
)
def test_list_rejects_a_forged_cursor_with_400(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
    raw: bytes,
) -> None:
    """A cursor the server did not make is bad input (400), not a missing page."""
    user = make_user()
    make_activity(user)
    cursor = base64.b64encode(raw).decode()

    response = client_for(user).get(LIST, {"cursor": cursor})

    assert response.status_code == 400
    assert response.json() == {"cursor": ["Invalid cursor"]}


def test_list_query_count_does_not_grow_with_rows(
    make_user: Callable[..., IAMUser],
    make_group: Callable[..., WorkspaceGroup],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
    django_assert_max_num_queries: Any,
    django_assert_num_queries: Any,
) -> None:
    from iam.models import IAMUserDetail

    reader = make_user()
    authors = [make_user() for _ in range(5)]
    group = make_group("busy", members=[reader, *authors])
    for author in authors:
        IAMUserDetail.objects.create(user=author)
    client = client_for(reader)
    for i in range(5):
        make_activity(authors[i % 5], workspace_group=group)
    with django_assert_num_queries(5) as few:
        assert len(client.get(LIST).json()["results"]) == 5

    for i in range(45):
        make_activity(authors[i % 5], workspace_group=group)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(LIST).json()["results"]) == 50


def test_retrieve_query_count_is_bounded(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
    django_assert_max_num_queries: Any,
) -> None:
    user = make_user()
    activity = make_activity(user)
    client = client_for(user)

    with django_assert_max_num_queries(5):
        assert client.get(detail(activity.pk)).status_code == 200


def test_api_paths_answer_without_their_trailing_slash(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    """Regression: a PATCH to /api/user-activities/7 (no slash) got a bodiless 301 to
    the slashed path, which clients follow as a GET, or not at all."""
    user = make_user()
    activity = make_activity(user)
    client = client_for(user)

    patched = client.patch(
        f"/api/user-activities/{activity.pk}", {"text": "no slash"}, format="json"
    )

    assert patched.status_code == 200
    assert patched.json()["text"] == "no slash"
    assert client.get("/api/user-activities").status_code == 200
    assert client.get("/api/workspace-groups").status_code == 200
    assert client.get("/api/activity-types").status_code == 200
    assert client.delete(f"/api/user-activities/{activity.pk}").status_code == 204
    paths = client.get("/api/schema/?format=json").json()["paths"]
    assert all(path.endswith("/") for path in paths)


def test_patch_query_count_is_bounded(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
    django_assert_num_queries: Any,
) -> None:
    """The edit path is the hot one: the token, the locked row and its author's
    details, the row's update, the group's next seq, the event's insert, and the
    transaction's two savepoint statements (under the test's own transaction)."""
    user = make_user()
    activity = make_activity(user)
    client = client_for(user)

    with django_assert_num_queries(8):
        response = client.patch(detail(activity.pk), {"text": "x"}, format="json")
    assert response.status_code == 200


# --- create -----------------------------------------------------------------


def test_create_returns_201_with_defaults_from_the_caller(
    make_user: Callable[..., IAMUser], client_for: Callable[..., APIClient]
) -> None:
    user = make_user("zoe")

    response = client_for(user).post(LIST, {"text": "hello"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert list(body) == RESPONSE_FIELDS
    row = UserActivity.objects.get(pk=body["id"])
    assert row.user_id == user.pk
    assert body["user"]["username"] == "zoe"
    assert body["created_by"] == body["updated_by"] == "zoe"
    assert body["activity_type"] == 100
    assert body["is_active"] is True
    assert body["deleted_by"] is None
    assert body["resource"] is None
    assert body["workspace_group"] == body["workspace_group_id"]
    assert body["workspace_group"] == user.personal_group.pk


def test_create_keeps_explicit_created_by_and_null(
    make_user: Callable[..., IAMUser], client_for: Callable[..., APIClient]
) -> None:
    """Only an absent field defaults to the caller: an explicit null stays null,
    because the reference distinguishes null from a name in these fields."""
    client = client_for(make_user("zoe"))

    response = client.post(
        LIST,
        {"text": "x", "created_by": "importer", "updated_by": None},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["created_by"] == "importer"
    assert response.json()["updated_by"] is None


def test_create_ignores_user_in_the_body(
    team: dict[str, Any], client_for: Callable[..., APIClient]
) -> None:
    victim = team["admin"]

    response = client_for(team["author"]).post(
        LIST,
        {"text": "x", "user": {"id": victim.pk, "username": victim.username}},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["user"]["id"] == team["author"].pk
    assert UserActivity.objects.get(pk=response.json()["id"]).user == team["author"]


def test_create_takes_the_group_from_the_resource_for_a_member(
    team: dict[str, Any], client_for: Callable[..., APIClient]
) -> None:
    group = team["group"]

    response = client_for(team["author"]).post(
        LIST, {"text": "x", "resource": {"workspace_group": group.pk}}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["workspace_group"] == group.pk


def test_create_ignores_a_resource_group_the_author_is_not_in(
    team: dict[str, Any], client_for: Callable[..., APIClient]
) -> None:
    """The resource context is a hint, not a field: a group the author may not use
    there falls back to the personal group instead of failing the request."""
    outsider = team["outsider"]

    response = client_for(outsider).post(
        LIST,
        {"text": "x", "resource": {"workspace_group": team["group"].pk}},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["workspace_group"] == outsider.personal_group.pk


@pytest.mark.parametrize("hint", ["7", 10**30, True, None, [1], {"id": 1}, -1, 1.0])
def test_create_with_odd_resource_group_hint_falls_back_to_personal(
    make_user: Callable[..., IAMUser],
    client_for: Callable[..., APIClient],
    hint: Any,
) -> None:
    user = make_user()

    response = client_for(user).post(
        LIST, {"text": "x", "resource": {"workspace_group": hint}}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["workspace_group"] == user.personal_group.pk


def test_create_explicit_group_wins_over_the_resource(
    team: dict[str, Any], client_for: Callable[..., APIClient]
) -> None:
    author, group = team["author"], team["group"]

    response = client_for(author).post(
        LIST,
        {
            "text": "x",
            "workspace_group": author.personal_group.pk,
            "resource": {"workspace_group": group.pk},
        },
        format="json",
    )

    assert response.json()["workspace_group"] == author.personal_group.pk


def test_create_in_foreign_group_reads_like_a_missing_group(
    team: dict[str, Any], client_for: Callable[..., APIClient]
) -> None:
    client = client_for(team["outsider"])

    foreign = client.post(
        LIST, {"text": "x", "workspace_group": team["group"].pk}, format="json"
    )
    missing = client.post(
        LIST, {"text": "x", "workspace_group": team["group"].pk + 1000}, format="json"
    )

    assert foreign.status_code == missing.status_code == 400
    assert foreign.json() == missing.json()
    assert foreign.json() == {"workspace_group": ["No such workspace group."]}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"text": "x" * 1024}, {"text"}),
        ({"text": ""}, {"text"}),
        ({}, {"text"}),
        ({"text": "x", "created_by": "y" * 256}, {"created_by"}),
        ({"text": "x", "updated_by": "y" * 256}, {"updated_by"}),
        ({"text": "x", "deleted_by": "y" * 256}, {"deleted_by"}),
        ({"text": "x", "activity_type": 99}, {"activity_type"}),
        ({"text": "x", "activity_type": "abc"}, {"activity_type"}),
        ({"text": "x", "activity_type": 100.5}, {"activity_type"}),
        ({"text": "x", "activity_type": True}, {"activity_type"}),
        ({"text": ["x"]}, {"text"}),
        ({"text": {"a": 1}}, {"text"}),
        ({"text": "x", "is_active": "perhaps"}, {"is_active"}),
        ({"text": "x", "deleted_at": "last tuesday"}, {"deleted_at"}),
        ({"text": "x", "deleted_at": 12}, {"deleted_at"}),
        ({"text": "x", "workspace_group": "abc"}, {"workspace_group"}),
        ({"text": "x", "workspace_group": 1.5}, {"workspace_group"}),
        ({"text": "x", "workspace_group": True}, {"workspace_group"}),
        ({"text": "x", "workspace_group": [1]}, {"workspace_group"}),
        ({"text": "x", "workspace_group": 10**30}, {"workspace_group"}),
        ({"text": "x", "workspace_group": -3}, {"workspace_group"}),
        ({"text": "x", "user": 5}, {"user"}),
        ({"text": "x", "user": None}, {"user"}),
        ({"text": "\x00"}, {"text"}),
        ({"text": "x", "resource": {"k": "nul\x00"}}, {"resource"}),
        ({"text": "x", "resource": {"nul\x00": 1}}, {"resource"}),
        ({"text": "x", "resource": "a" * (64 * 1024)}, {"resource"}),
    ],
)
def test_create_rejects_bad_input_with_field_errors(
    make_user: Callable[..., IAMUser],
    client_for: Callable[..., APIClient],
    body: dict[str, Any],
    errors: set[str],
) -> None:
    response = client_for(make_user()).post(LIST, body, format="json")

    assert response.status_code == 400
    assert set(response.json()) == errors
    assert all(isinstance(v, list | dict) for v in response.json().values())
    assert UserActivity.objects.count() == 0


def test_create_with_null_everywhere_is_400_not_500(
    make_user: Callable[..., IAMUser], client_for: Callable[..., APIClient]
) -> None:
    """Nullable fields take null; the others say so, each under its own name."""
    names = [
        "user",
        "text",
        "activity_type",
        "deleted_at",
        "is_active",
        "created_by",
        "updated_by",
        "deleted_by",
        "resource",
        "workspace_group",
    ]

    response = client_for(make_user()).post(LIST, dict.fromkeys(names), format="json")

    assert response.status_code == 400
    assert response.json() == {
        name: ["This field may not be null."]
        for name in ("user", "text", "activity_type", "is_active")
    }


@pytest.mark.parametrize(
    "body",
    [
        '{"text": "x"',
        "not json",
        '{"text": "x", "resource": NaN}',
        '{"text": "x", "resource": 1e999}',
        '{"text": "\\ud800"}',
        '{"text": "x", "resource": {"a": "\\ud800"}}',
        '{"text": "x", "resource": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"text": "x", "resource": ' + "[" * 40 + "]" * 40 + "}",
        '{"text": "x", "resource": 1' + "0" * 5000 + "}",
        "[]",
        "null",
        "17",
        '"text"',
    ],
)
def test_create_with_nasty_json_is_400(
    make_user: Callable[..., IAMUser], client_for: Callable[..., APIClient], body: str
) -> None:
    client = client_for(make_user())

    response = raw_post(client, LIST, body)

    assert response.status_code == 400
    assert isinstance(response.json(), dict)
    assert UserActivity.objects.count() == 0


def test_create_accepts_any_json_resource_within_bounds(
    make_user: Callable[..., IAMUser], client_for: Callable[..., APIClient]
) -> None:
    user = make_user()
    resource = {
        "list": [1, 2.5, None, True, "é✓😀"],
        "nested": {"a": {"b": [{"c": []}]}},
        "big": 10**30,
        "deep": json.loads("[" * 30 + "]" * 30),
    }
    client = client_for(user)

    created = client.post(LIST, {"text": "x", "resource": resource}, format="json")
    fetched = client.get(detail(created.json()["id"]))

    assert created.status_code == 201
    assert created.json()["resource"] == resource
    assert fetched.json()["resource"] == resource


def test_create_refuses_form_encoded_bodies(
    make_user: Callable[..., IAMUser], client_for: Callable[..., APIClient]
) -> None:
    """Regression: a form-encoded POST used to create an activity born inactive
    (an absent form boolean reads as false), silently outside every feed. The API
    speaks JSON only; other encodings are 415 and create nothing."""
    user = make_user()

    response = client_for(user).post(LIST, {"text": "form", "activity_type": "205"})

    assert response.status_code == 415
    assert not UserActivity.objects.filter(user=user).exists()


# --- update -----------------------------------------------------------------


@pytest.mark.parametrize("editor", ["author", "admin", "staff"])
def test_patch_is_allowed_to_author_group_admin_and_staff(
    team: dict[str, Any],
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
    editor: str,
) -> None:
    activity = make_activity(team["author"], workspace_group=team["group"])
    user = make_user("boss", is_staff=True) if editor == "staff" else team[editor]

    response = client_for(user).patch(
        detail(activity.pk), {"text": "edited"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["text"] == "edited"
    assert response.json()["updated_by"] == user.username
    assert response.json()["created_by"] == "bob"
    assert response.json()["user"]["id"] == team["author"].pk


def test_write_by_member_who_cannot_edit_is_403(
    team: dict[str, Any],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    """A member sees but may not change: 403 for PUT, PATCH and DELETE, decided
    before the body is looked at (an invalid body also gets 403, not 400)."""
    activity = make_activity(team["author"], workspace_group=team["group"])
    member = client_for(team["member"])
    forbidden = {"detail": "You may see this activity but not change it."}

    for method, body in [
        ("put", {"text": "mine now"}),
        ("patch", {"text": "mine now"}),
        ("patch", {"text": "x" * 5000}),
        ("delete", None),
    ]:
        response = getattr(member, method)(detail(activity.pk), body, format="json")
        assert response.status_code == 403, method
        assert response.json() == forbidden
    activity.refresh_from_db()
    assert (activity.text, activity.is_active) == ("did something", True)


def test_put_replaces_given_fields_and_stamps_updated_by(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    user = make_user("zoe")
    activity = make_activity(user, created_by="importer", resource={"a": 1})

    response = client_for(user).put(
        detail(activity.pk),
        {"text": "new", "activity_type": 400, "resource": None},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["text"], body["activity_type"], body["resource"]) == (
        "new",
        400,
        None,
    )
    assert body["updated_by"] == "zoe"
    assert body["created_by"] == "importer"


def test_put_requires_text(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    user = make_user()
    activity = make_activity(user)

    response = client_for(user).put(
        detail(activity.pk), {"activity_type": 400}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"text": ["This field is required."]}


def test_put_of_the_get_body_round_trips(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    """A client may send back what it read: read-only fields and `user` are ignored."""
    user = make_user()
    activity = make_activity(user, resource={"k": [1, 2]})
    client = client_for(user)
    body = client.get(detail(activity.pk)).json()
    body["text"] = "changed"

    response = client.put(detail(activity.pk), body, format="json")

    assert response.status_code == 200
    after = response.json()
    assert after["text"] == "changed"
    for name in ("id", "uid", "created_at", "user", "resource", "workspace_group"):
        assert after[name] == body[name], name


def test_patch_keeps_an_explicit_updated_by(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    user = make_user()
    activity = make_activity(user)

    response = client_for(user).patch(
        detail(activity.pk), {"updated_by": "sync-job"}, format="json"
    )

    assert response.json()["updated_by"] == "sync-job"


def test_patch_user_never_changes_the_author(
    team: dict[str, Any],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    activity = make_activity(team["author"], workspace_group=team["group"])

    response = client_for(team["admin"]).patch(
        detail(activity.pk), {"user": {"id": team["admin"].pk}}, format="json"
    )

    assert response.status_code == 200
    activity.refresh_from_db()
    assert activity.user_id == team["author"].pk
    assert response.json()["user"]["id"] == team["author"].pk


def test_patch_moves_to_another_group_of_the_caller(
    team: dict[str, Any],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    author = team["author"]
    activity = make_activity(author)

    response = client_for(author).patch(
        detail(activity.pk), {"workspace_group": team["group"].pk}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["workspace_group"] == team["group"].pk
    assert response.json()["workspace_group_id"] == team["group"].pk


def test_patch_to_foreign_group_reads_like_a_missing_group(
    team: dict[str, Any],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    outsider = team["outsider"]
    activity = make_activity(outsider)
    client = client_for(outsider)

    foreign = client.patch(
        detail(activity.pk), {"workspace_group": team["group"].pk}, format="json"
    )
    missing = client.patch(
        detail(activity.pk), {"workspace_group": 10**6}, format="json"
    )

    assert foreign.status_code == missing.status_code == 400
    assert foreign.content == missing.content


def test_patch_group_to_null_is_400(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    """An activity outside every group would be seen by its author alone and would
    vanish from every feed without a `removed` event; a move names its target."""
    user = make_user()
    activity = make_activity(user)

    response = client_for(user).patch(
        detail(activity.pk), {"workspace_group": None}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["workspace_group"]


def test_patch_with_malformed_json_is_400(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    user = make_user()
    activity = make_activity(user)

    response = raw_post(client_for(user), detail(activity.pk), "{'text':", "PATCH")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


# --- delete -----------------------------------------------------------------


def test_delete_is_soft_and_answers_204(
    team: dict[str, Any],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    activity = make_activity(team["author"], workspace_group=team["group"])

    response = client_for(team["admin"]).delete(detail(activity.pk))

    assert response.status_code == 204
    assert response.content == b""
    row = UserActivity.objects.get(pk=activity.pk)
    assert row.is_active is False
    assert row.deleted_by == "ada"
    assert row.deleted_at is not None
    shown = client_for(team["member"]).get(detail(activity.pk)).json()
    assert (shown["is_active"], shown["deleted_by"]) == (False, "ada")


def test_delete_twice_is_204_and_keeps_the_first_stamp(
    team: dict[str, Any],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    """DELETE is idempotent: repeating it succeeds and changes nothing."""
    activity = make_activity(team["author"], workspace_group=team["group"])
    client_for(team["author"]).delete(detail(activity.pk))
    first = UserActivity.objects.get(pk=activity.pk)

    response = client_for(team["admin"]).delete(detail(activity.pk))

    assert response.status_code == 204
    again = UserActivity.objects.get(pk=activity.pk)
    assert (again.deleted_at, again.deleted_by) == (first.deleted_at, "bob")


# --- nasty ids ----------------------------------------------------------------


@pytest.mark.parametrize(
    "pk", ["99999999999999999999999", "9223372036854775808", "0", "00001"]
)
def test_detail_with_odd_ids_is_404(
    make_user: Callable[..., IAMUser], client_for: Callable[..., APIClient], pk: str
) -> None:
    client = client_for(make_user())

    for method in ("get", "put", "patch", "delete"):
        response = getattr(client, method)(detail(pk), {"text": "x"}, format="json")
        assert response.status_code == 404, method


@pytest.mark.parametrize("pk", ["abc", "-1", "1.5", "%00"])
def test_detail_with_non_integer_ids_is_404(
    make_user: Callable[..., IAMUser], client_for: Callable[..., APIClient], pk: str
) -> None:
    response = client_for(make_user()).get(detail(pk))

    assert response.status_code == 404


def test_browsable_api_renders_list_and_detail(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    user = make_user()
    activity = make_activity(user)
    client = client_for(user)

    for path in (LIST, detail(activity.pk)):
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, path
        assert response["Content-Type"].startswith("text/html")


# --- groups and types ---------------------------------------------------------


def test_workspace_groups_lists_the_callers_groups_with_role(
    team: dict[str, Any],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    author, group = team["author"], team["group"]
    make_activity(author, workspace_group=group)

    response = client_for(author).get("/api/workspace-groups/")

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": author.personal_group.pk,
            "name": "bob (personal)",
            "role": Membership.Role.ADMIN,
            "personal": True,
            "seq": 0,
        },
        {
            "id": group.pk,
            "name": "team",
            "role": Membership.Role.MEMBER,
            "personal": False,
            "seq": 1,
        },
    ]


def test_workspace_groups_in_id_order_without_others(
    team: dict[str, Any], client_for: Callable[..., APIClient]
) -> None:
    admin = team["admin"]

    body = client_for(admin).get("/api/workspace-groups/").json()

    expected = sorted(
        [
            (admin.personal_group.pk, "admin", True),
            (team["group"].pk, "admin", False),
        ]
    )
    assert [(g["id"], g["role"], g["personal"]) for g in body] == expected


def test_activity_types_lists_all_91_with_label_and_category(
    make_user: Callable[..., IAMUser], client_for: Callable[..., APIClient]
) -> None:
    response = client_for(make_user()).get("/api/activity-types/")

    body = response.json()
    assert response.status_code == 200
    assert len(body) == 91
    assert body[0] == {"value": 100, "label": "User Login", "category": "session"}
    assert body[-1] == {
        "value": 1302,
        "label": "User Profile Visited",
        "category": "social",
    }
    assert {tuple(sorted(entry)) for entry in body} == {("category", "label", "value")}


# --- regressions found by probing ----------------------------------------------


def test_list_group_filter_written_as_decimal_is_read_like_the_filter_reads_it(
    make_user: Callable[..., IAMUser], client_for: Callable[..., APIClient]
) -> None:
    """Regression: `?workspace_group=7.0` passed the filter but crashed the stream
    header's own parse (500)."""
    user = make_user()
    group_id = user.personal_group.pk

    response = client_for(user).get(LIST, {"workspace_group": f"{group_id}.0"})

    assert response.status_code == 200
    assert response.headers["X-Stream-Seq"] == f"{group_id}=0"


def test_list_updated_since_beyond_utc_range_is_a_field_error(
    make_user: Callable[..., IAMUser], client_for: Callable[..., APIClient]
) -> None:
    """Regression: a moment that exists only in a far-east offset (year 1 at +14:00)
    overflowed when converted to UTC on SQLite (500)."""
    user = make_user()

    response = client_for(user).get(
        LIST, {"updated_since": "0001-01-01T00:00:00+14:00"}
    )

    assert response.status_code == 400
    assert response.json() == {"updated_since": ["Date-time out of range."]}


def test_author_outside_the_group_can_read_but_not_change_the_activity(
    make_user: Callable[..., IAMUser],
    make_group: Callable[..., WorkspaceGroup],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    """Regressions: an author whose activity an admin moved into a group they are
    not in could move it back out, carrying what that group had written into it
    to a group that never had access; and they, like a member removed from the
    group, could go on writing into that group's live feed. Authors keep reading
    their activity wherever it is; changing it takes membership of its group."""
    author = make_user()
    bridge = make_user()
    home = make_group("home", admins=[bridge], members=[author])
    elsewhere = make_group("elsewhere", admins=[bridge])
    activity = make_activity(author, workspace_group=home)
    client_for(bridge).patch(
        detail(activity.pk), {"workspace_group": elsewhere.pk}, format="json"
    )
    client_for(bridge).patch(
        detail(activity.pk), {"text": "written in elsewhere"}, format="json"
    )

    moved_back = client_for(author).patch(
        detail(activity.pk), {"workspace_group": home.pk}, format="json"
    )
    edited = client_for(author).patch(
        detail(activity.pk), {"text": "the author's own words"}, format="json"
    )

    assert moved_back.status_code == 403
    assert edited.status_code == 403
    assert client_for(author).get(detail(activity.pk)).status_code == 200
    activity.refresh_from_db()
    assert activity.workspace_group_id == elsewhere.pk
    assert activity.text == "written in elsewhere"


def test_member_removed_from_the_group_stops_writing_into_its_feed(
    make_user: Callable[..., IAMUser],
    make_group: Callable[..., WorkspaceGroup],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    author, admin = make_user(), make_user()
    team = make_group("team", admins=[admin], members=[author])
    activity = make_activity(author, workspace_group=team)
    iam_services.membership_remove(user=author, group=team)

    client = client_for(author)
    responses = [
        client.patch(detail(activity.pk), {"text": "still here"}, format="json"),
        client.patch(detail(activity.pk), {"is_active": False}, format="json"),
        client.delete(detail(activity.pk)),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]
    assert client.get(detail(activity.pk)).status_code == 200
    assert (
        client_for(admin)
        .patch(detail(activity.pk), {"text": "moderated"}, format="json")
        .status_code
        == 200
    )


@pytest.mark.parametrize("pk", ["-1", "abc", "1.0"])
def test_malformed_detail_ids_are_json_404s(
    make_user: Callable[..., IAMUser], client_for: Callable[..., APIClient], pk: str
) -> None:
    """Regression: ids the route does not match fell to Django's HTML 404 page."""
    response = client_for(make_user()).get(f"/api/user-activities/{pk}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_retrieve_reads_the_stream_head_before_the_row(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: the single-activity GET read the head after the row, so a change
    committed in between was in the header but not in the body, and a client
    subscribing with `since` set to the header never heard of it. A change landing
    between the two reads must be after the header, where `since` replays it."""
    from activities import views

    author = make_user()
    group = author.personal_group
    activity = make_activity(author, workspace_group=group)
    real_get_object = views.UserActivityDetailView.get_object

    def get_object_while_someone_writes(view: Any) -> UserActivity:
        make_activity(author, workspace_group=group)  # commits seq 2
        return real_get_object(view)

    monkeypatch.setattr(
        views.UserActivityDetailView, "get_object", get_object_while_someone_writes
    )

    response = client_for(author).get(detail(activity.pk))

    assert response.status_code == 200
    assert response.headers["X-Stream-Seq"] == f"{group.pk}=1"
