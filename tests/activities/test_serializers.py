"""One JSON shape per activity: the profile picture, the resource bounds, the author."""

import io
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from activities.models import UserActivity
from activities.serializers import (
    RESOURCE_MAX_DEPTH,
    ActivityUserSerializer,
    ResourceField,
    UserActivitySerializer,
)
from activities.services import activity_representation
from iam.models import IAMUser, IAMUserDetail, WorkspaceGroup


class UnreadableStorage(FileSystemStorage):
    """A storage whose every URL fails, like a bucket whose credentials expired."""

    def url(self, name: str | None) -> str:
        raise OSError("storage unavailable")


def png(name: str, colour: str = "red") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    settings.MEDIA_URL = "/media/"
    settings.PUBLIC_BASE_URL = ""
    return tmp_path


@pytest.fixture
def log_records(monkeypatch: pytest.MonkeyPatch, caplog: Any) -> Any:
    """The gateway's loggers do not propagate to the root; let caplog hear them."""
    monkeypatch.setattr(logging.getLogger("activities"), "propagate", True)
    caplog.set_level(logging.DEBUG, logger="activities")
    return caplog


def picture_of(user: IAMUser) -> Any:
    return ActivityUserSerializer(user).data["profile_picture"]


def test_profile_picture_is_null_without_details(
    make_user: Callable[..., IAMUser], media: Path
) -> None:
    assert picture_of(make_user()) is None


def test_profile_picture_is_null_when_first_detail_has_none(
    make_user: Callable[..., IAMUser], media: Path
) -> None:
    """Only the first detail counts, as the reference's mixin says: a picture on a
    later detail does not stand in for a missing first one."""
    user = make_user()
    IAMUserDetail.objects.create(user=user)
    IAMUserDetail.objects.create(user=user, profile_picture=png("later.png"))

    assert picture_of(user) is None


def test_profile_picture_is_the_url_of_the_first_details_picture(
    make_user: Callable[..., IAMUser], media: Path
) -> None:
    user = make_user()
    first = IAMUserDetail.objects.create(user=user, profile_picture=png("a.png"))
    IAMUserDetail.objects.create(user=user, profile_picture=png("b.png", "blue"))

    value = picture_of(user)

    assert type(value) is str
    assert value == f"/media/{first.profile_picture.name}"
    assert first.profile_picture.name.startswith("profile_pictures/a")
    assert (media / first.profile_picture.name).read_bytes()[:4] == b"\x89PNG"


def test_profile_picture_is_absolute_with_public_base_url(
    make_user: Callable[..., IAMUser], media: Path, settings: Any
) -> None:
    settings.PUBLIC_BASE_URL = "https://gateway.example"
    user = make_user()
    detail = IAMUserDetail.objects.create(user=user, profile_picture=png("a.png"))

    assert picture_of(user) == (
        f"https://gateway.example/media/{detail.profile_picture.name}"
    )


def test_profile_picture_is_null_and_logged_when_storage_fails(
    make_user: Callable[..., IAMUser],
    media: Path,
    settings: Any,
    log_records: Any,
) -> None:
    user = make_user()
    IAMUserDetail.objects.create(user=user, profile_picture=png("a.png"))
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.UnreadableStorage"},
    }

    assert picture_of(user) is None
    assert [r.levelname for r in log_records.records] == ["WARNING"]
    assert f"profile picture of user {user.pk} unreadable" in log_records.text


def test_profile_picture_same_over_rest_and_in_the_representation(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
    media: Path,
    settings: Any,
) -> None:
    settings.PUBLIC_BASE_URL = "https://gateway.example"
    user = make_user()
    IAMUserDetail.objects.create(user=user, profile_picture=png("me.png"))
    activity = make_activity(user)

    over_rest = client_for(user).get(f"/api/user-activities/{activity.pk}/").json()
    direct = json.loads(json.dumps(activity_representation(activity)))

    assert over_rest["user"]["profile_picture"].startswith("https://gateway.example/")
    assert over_rest == direct


def test_representation_is_plain_json(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    media: Path,
) -> None:
    """The same dict goes into socket frames, so it must encode with the standard
    library alone (no ImageFieldFile, UUID or datetime objects left in it)."""
    user = make_user()
    IAMUserDetail.objects.create(user=user, profile_picture=png("me.png"))
    activity = make_activity(user, resource={"a": [1, None]})

    data = activity_representation(activity)

    assert json.loads(json.dumps(data)) == data
    assert {type(v) for v in data.values()} <= {str, int, bool, dict, type(None)}


def test_serializer_output_fields_are_the_reference_fields(
    make_user: Callable[..., IAMUser], make_activity: Callable[..., UserActivity]
) -> None:
    activity = make_activity(make_user())

    assert list(UserActivitySerializer(activity).data) == [
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


def test_serializer_without_request_accepts_no_group(
    make_user: Callable[..., IAMUser],
) -> None:
    """Without a request there is no caller, so no group is anyone's to use."""
    user = make_user()
    serializer = UserActivitySerializer(
        data={"text": "x", "workspace_group": user.personal_group.pk}
    )

    assert not serializer.is_valid()
    assert serializer.errors == {"workspace_group": ["No such workspace group."]}


@pytest.mark.parametrize(
    "value",
    [
        None,
        0,
        "text",
        [],
        {},
        {"a": [1, 2.5, True, None, "😀"]},
        json.loads("[" * RESOURCE_MAX_DEPTH + "]" * RESOURCE_MAX_DEPTH),
    ],
)
def test_resource_field_accepts_json_within_bounds(value: Any) -> None:
    assert ResourceField(allow_null=True).run_validation(value) == value


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (json.loads("[" * 33 + "]" * 33), "too_deep"),
        ({"a": json.loads('{"b":' * 40 + "1" + "}" * 40)}, "too_deep"),
        ("\x00", "unstorable"),
        (["ok", {"k": "\ud83d"}], "unstorable"),
        ({"\udfff": 1}, "unstorable"),
        ("x" * (64 * 1024 + 1), "too_large"),
        (float("nan"), "invalid"),
        (float("inf"), "invalid"),
    ],
)
def test_resource_field_rejects_what_cannot_be_stored(value: Any, code: str) -> None:
    from rest_framework.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        ResourceField(allow_null=True).run_validation(value)

    assert caught.value.get_codes() == [code]


def test_group_field_ignores_a_group_outside_the_callers(
    make_user: Callable[..., IAMUser], make_group: Callable[..., WorkspaceGroup]
) -> None:
    from rest_framework.test import APIRequestFactory

    user = make_user()
    other = make_group("other", admins=[make_user()])
    request = APIRequestFactory().post("/")
    request.user = user

    mine = UserActivitySerializer(
        data={"text": "x", "workspace_group": str(user.personal_group.pk)},
        context={"request": request},
    )
    theirs = UserActivitySerializer(
        data={"text": "x", "workspace_group": other.pk},
        context={"request": request},
    )

    assert mine.is_valid(), mine.errors
    assert mine.validated_data["workspace_group"] == user.personal_group
    assert not theirs.is_valid()
    assert theirs.errors == {"workspace_group": ["No such workspace group."]}
