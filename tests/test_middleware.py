"""The gateway's own HTTP middleware."""

from collections.abc import Callable
from typing import Any

from django.core.handlers.asgi import ASGIHandler
from django.db import OperationalError
from django.test import Client
from django.utils.deprecation import MiddlewareMixin
from rest_framework.test import APIClient

from activities import selectors
from iam.models import IAMUser


def _database_down(*args: Any, **kwargs: Any) -> Any:
    raise OperationalError("connection failed: sorry, too many clients already")


def test_database_failure_answers_503_with_retry_after(
    make_user: Callable[..., IAMUser],
    client_for: Callable[..., APIClient],
    monkeypatch: Any,
) -> None:
    """Regression: PostgreSQL running out of connections under write load made the
    API answer 500, which says "bug" where the truth is "retry shortly"."""
    client = client_for(make_user())
    monkeypatch.setattr(selectors, "activity_visible_list", _database_down)

    response = client.get("/api/user-activities/")

    assert response.status_code == 503
    assert response.json() == {"detail": "The database is unavailable; retry shortly."}
    assert response.headers["Retry-After"] == "1"


def test_database_failure_on_a_page_answers_503_as_text(
    make_user: Callable[..., IAMUser], monkeypatch: Any
) -> None:
    client = Client()
    client.force_login(make_user())
    monkeypatch.setattr(
        "dashboard.views.ActivityTypeSerializer.catalogue", _database_down
    )

    response = client.get("/dashboard/")

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/plain")


def test_other_errors_are_left_to_django(
    make_user: Callable[..., IAMUser],
    client_for: Callable[..., APIClient],
    monkeypatch: Any,
) -> None:
    client = client_for(make_user())
    client.raise_request_exception = True

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "activity_visible_list", broken)

    try:
        client.get("/api/user-activities/")
    except RuntimeError:
        return
    raise AssertionError("a programming error must not be dressed up as a 503")


def test_middleware_chain_runs_in_the_requests_thread(monkeypatch: Any) -> None:
    """Every middleware is set up in synchronous mode under ASGI.

    Were one of them set up for the event loop, Django would hand each of its
    hooks to a thread and back, about 2 ms of CPU per request (measured with
    bench.request_cost), with nothing failing to say so.
    """
    built: list[MiddlewareMixin] = []
    setup = MiddlewareMixin.__init__

    def recording(self: MiddlewareMixin, get_response: Any) -> None:
        setup(self, get_response)
        built.append(self)

    monkeypatch.setattr(MiddlewareMixin, "__init__", recording)

    ASGIHandler()

    assert len(built) >= 5
    assert [m for m in built if getattr(m, "async_mode", None) is not False] == []
