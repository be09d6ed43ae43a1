"""Fixtures shared by every suite: users, groups, authenticated API clients."""

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from iam import services as iam_services
from iam.models import IAMUser, Membership, WorkspaceGroup

_names = itertools.count(1)


@pytest.fixture
def make_user(db: Any) -> Callable[..., IAMUser]:
    """Make a user with a personal group and a token; extra keywords go to the model."""

    def make(username: str | None = None, **extra: Any) -> IAMUser:
        name = username or f"user{next(_names)}"
        user = iam_services.user_create(username=name, password="pw-" + name, **extra)
        Token.objects.create(user=user)
        return user

    return make


@pytest.fixture
def make_group(db: Any) -> Callable[..., WorkspaceGroup]:
    """Make a shared group: `admins` and `members` are lists of users."""

    def make(
        name: str = "group",
        admins: Sequence[IAMUser] = (),
        members: Sequence[IAMUser] = (),
    ) -> WorkspaceGroup:
        group = iam_services.workspace_group_create(name=name, admins=admins)
        for member in members:
            iam_services.membership_add(
                user=member, group=group, role=Membership.Role.MEMBER
            )
        return group

    return make


@pytest.fixture
def client_for() -> Callable[[IAMUser], APIClient]:
    """An API client authenticated with the user's token."""

    def make(user: IAMUser) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {user.auth_token.key}")
        return client

    return make


@pytest.fixture
def make_activity(db: Any) -> Callable[..., Any]:
    """Make an activity through the service, as `author`; keywords are its fields."""
    from activities import services as activity_services

    def make(author: IAMUser, **fields: Any) -> Any:
        fields.setdefault("text", "did something")
        return activity_services.activity_create(actor=author, data=fields)

    return make


@pytest.fixture(scope="session", autouse=True)
def static_root_exists() -> None:
    """WhiteNoise warns (an error under this suite's filterwarnings) when the
    collected-static directory is missing, as it is before the first `make run`."""
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing() -> Any:
    """The production hasher is slow by design; tests make users by the dozen."""
    from django.test.utils import override_settings

    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    ):
        yield
