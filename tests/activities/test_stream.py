"""The change stream as services and the REST API produce it: events, seq, publish."""

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction
from rest_framework.test import APIClient

from activities import events, services
from activities.models import ActivityEvent, UserActivity
from iam.models import IAMUser, WorkspaceGroup

LIST = "/api/user-activities/"
IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


class FailingLayer(InMemoryChannelLayer):
    """A channel layer whose broker is down: every group send raises."""

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        raise ConnectionError("broker unreachable")


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Messages handed to the publisher, in order (nothing reaches a layer)."""
    sent: list[dict[str, Any]] = []

    def record(message: dict[str, Any]) -> bool:
        sent.append(message)
        return True

    monkeypatch.setattr(events, "publish", record)
    return sent


@pytest.fixture
def log_records(monkeypatch: pytest.MonkeyPatch, caplog: Any) -> Any:
    """The gateway's loggers do not propagate to the root; let caplog hear them."""
    monkeypatch.setattr(logging.getLogger("activities"), "propagate", True)
    caplog.set_level(logging.INFO, logger="activities")
    # Each test starts with no publish failure reported yet.
    monkeypatch.setattr(events, "_failures", events._FailureReports())
    return caplog


def log_of(group: WorkspaceGroup) -> list[tuple[int, str, int]]:
    return list(
        ActivityEvent.objects.filter(workspace_group=group)
        .order_by("seq")
        .values_list("seq", "kind", "activity_id")
    )


def frame_of(message: dict[str, Any]) -> dict[str, Any]:
    return json.loads(message["frame"])


def test_create_records_one_created_event_and_publishes_it_on_commit(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    published: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = make_user()
    group = user.personal_group
    earlier = make_activity(user)
    published.clear()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        activity = make_activity(user)
        assert published == []

    assert len(callbacks) == 1
    callbacks[0]()
    assert log_of(group) == [
        (1, "activity.created", earlier.pk),
        (2, "activity.created", activity.pk),
    ]
    group.refresh_from_db()
    assert group.event_seq == 2
    assert [(m["group"], m["seq"], m["kind"]) for m in published] == [
        (group.pk, 2, "activity.created")
    ]
    assert frame_of(published[0])["activity"]["id"] == activity.pk


def test_update_records_updated_in_the_same_group(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    published: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = make_user()
    activity = make_activity(user)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.activity_update(
            actor=user, activity_id=activity.pk, data={"text": "edited"}
        )

    assert len(callbacks) == 1
    assert log_of(user.personal_group)[-1] == (2, "activity.updated", activity.pk)
    frame = frame_of(published[-1])
    assert (frame["type"], frame["seq"], frame["activity"]["text"]) == (
        "activity.updated",
        2,
        "edited",
    )


def test_soft_delete_records_removed(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    published: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = make_user()
    activity = make_activity(user)

    with django_capture_on_commit_callbacks(execute=True):
        services.activity_delete(actor=user, activity_id=activity.pk)

    assert log_of(user.personal_group)[-1] == (2, "activity.removed", activity.pk)
    frame = frame_of(published[-1])
    assert frame["activity"]["is_active"] is False
    assert frame["activity"]["deleted_by"] == user.username


def test_second_soft_delete_records_nothing(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    published: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = make_user()
    activity = make_activity(user)
    services.activity_delete(actor=user, activity_id=activity.pk)

    with django_capture_on_commit_callbacks() as callbacks:
        services.activity_delete(actor=user, activity_id=activity.pk)

    assert callbacks == []
    assert len(log_of(user.personal_group)) == 2


def test_change_outside_every_feed_records_nothing(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Editing a soft deleted activity changes no feed, so no event is numbered."""
    user = make_user()
    activity = make_activity(user)
    services.activity_delete(actor=user, activity_id=activity.pk)

    with django_capture_on_commit_callbacks() as callbacks:
        services.activity_update(
            actor=user, activity_id=activity.pk, data={"text": "after"}
        )

    assert callbacks == []
    assert len(log_of(user.personal_group)) == 2


def test_restore_records_created(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
) -> None:
    user = make_user()
    activity = make_activity(user)
    services.activity_delete(actor=user, activity_id=activity.pk)

    services.activity_update(
        actor=user, activity_id=activity.pk, data={"is_active": True}
    )

    assert [kind for _, kind, _ in log_of(user.personal_group)] == [
        "activity.created",
        "activity.removed",
        "activity.created",
    ]


def test_move_removes_from_old_group_and_creates_in_new(
    make_user: Callable[..., IAMUser],
    make_group: Callable[..., WorkspaceGroup],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
    published: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The old group hears `removed` with the activity as it last saw it there; the
    new group hears `created` with the activity as the REST response shows it."""
    user = make_user()
    team = make_group("team", members=[user])
    make_activity(user, workspace_group=team)
    activity = make_activity(user)
    client = client_for(user)
    as_it_was = client.get(f"{LIST}{activity.pk}/").json()
    published.clear()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.patch(
            f"{LIST}{activity.pk}/",
            {"workspace_group": team.pk, "text": "moved"},
            format="json",
        )

    assert response.status_code == 200
    assert len(callbacks) == 2
    assert log_of(user.personal_group)[-1] == (2, "activity.removed", activity.pk)
    assert log_of(team)[-1] == (2, "activity.created", activity.pk)
    removed, created = (frame_of(m) for m in published)
    assert (removed["type"], removed["workspace_group"], removed["seq"]) == (
        "activity.removed",
        user.personal_group.pk,
        2,
    )
    assert removed["activity"] == as_it_was
    assert (created["type"], created["workspace_group"], created["seq"]) == (
        "activity.created",
        team.pk,
        2,
    )
    assert created["activity"] == response.json()


def test_rolled_back_change_publishes_nothing_and_consumes_no_seq(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    published: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = make_user()
    group = user.personal_group

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            make_activity(user, text="never")
            raise RuntimeError("the caller's transaction fails afterwards")

    assert callbacks == []
    assert published == []
    group.refresh_from_db()
    assert group.event_seq == 0
    assert not UserActivity.objects.filter(text="never").exists()

    with django_capture_on_commit_callbacks(execute=True):
        kept = make_activity(user)

    assert log_of(group) == [(1, "activity.created", kept.pk)]
    assert [m["seq"] for m in published] == [1]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_event_activity_equals_the_rest_json(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
    published: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
    method: str,
) -> None:
    """What a subscriber receives is what GET answers for the row after the change
    (and what the write itself answered), compared after json.loads."""
    user = make_user()
    existing = make_activity(user, resource={"z": 1, "a": [1.5, "é"]})
    client = client_for(user)
    body = {"text": "changed", "resource": {"b": 2, "a": {"c": None}}}
    published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        if method == "post":
            response = client.post(LIST, body, format="json")
        else:
            call = getattr(client, method)
            response = call(f"{LIST}{existing.pk}/", body, format="json")

    assert response.status_code in (200, 201, 204)
    [message] = published
    activity = frame_of(message)["activity"]
    fetched = client.get(f"{LIST}{activity['id']}/").json()
    assert activity == fetched
    if method != "delete":
        assert activity == response.json()


def test_publish_reaches_the_group_on_a_real_layer(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.CHANNEL_LAYERS = IN_MEMORY
    user = make_user()
    group = user.personal_group
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.group_name(group.pk), channel)

    with django_capture_on_commit_callbacks(execute=True):
        activity = make_activity(user)

    message = async_to_sync(layer.receive)(channel)
    assert message["type"] == events.STREAM_EVENT
    assert (message["group"], message["seq"], message["kind"]) == (
        group.pk,
        1,
        "activity.created",
    )
    assert message["frame"] == ActivityEvent.objects.get(workspace_group=group).frame
    assert frame_of(message)["activity"]["id"] == activity.pk


@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_failing_layer_never_fails_the_request(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
    settings: Any,
    log_records: Any,
    django_capture_on_commit_callbacks: Any,
    method: str,
) -> None:
    """The change is committed and logged as an event; only the live push failed,
    which subscribers repair from the log. The caller still gets its success."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.FailingLayer"}}
    user = make_user()
    existing = make_activity(user)
    client = client_for(user)
    path = LIST if method == "post" else f"{LIST}{existing.pk}/"

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = getattr(client, method)(path, {"text": "x"}, format="json")

    assert response.status_code == {"post": 201, "patch": 200, "delete": 204}[method]
    assert len(callbacks) == 1
    errors = [r for r in log_records.records if r.levelno >= logging.ERROR]
    assert [r.name for r in errors] == ["activities.events"]
    assert "failed" in errors[0].getMessage()
    assert (
        ActivityEvent.objects.filter(workspace_group=user.personal_group).count() == 2
    )


def test_publish_failures_are_reported_once_per_interval_with_a_count(
    make_user: Callable[..., IAMUser],
    settings: Any,
    log_records: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Regression: a five-second Redis outage wrote 222 error tracebacks, one per
    commit; one line per interval, counting the others, says the same."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.FailingLayer"}}
    user = make_user()
    clock = [1000.0]
    monkeypatch.setattr(events, "_failures", events._FailureReports(lambda: clock[0]))

    for step in range(4):
        if step == 3:
            clock[0] += events.FAILURE_REPORT_SECS
        with django_capture_on_commit_callbacks(execute=True):
            services.activity_create(actor=user, data={"text": "x"})

    errors = [r for r in log_records.records if r.levelno >= logging.ERROR]
    assert len(errors) == 2
    assert "and 0 more since the last report" in errors[0].getMessage()
    assert "and 2 more since the last report" in errors[1].getMessage()
    assert all(r.exc_info is None for r in errors)


def test_list_stream_seq_moves_with_each_event(
    make_user: Callable[..., IAMUser],
    make_activity: Callable[..., UserActivity],
    client_for: Callable[..., APIClient],
) -> None:
    user = make_user()
    group = user.personal_group
    client = client_for(user)
    assert client.get(LIST).headers["X-Stream-Seq"] == f"{group.pk}=0"

    activity = make_activity(user)
    services.activity_update(actor=user, activity_id=activity.pk, data={"text": "y"})

    assert client.get(LIST).headers["X-Stream-Seq"] == f"{group.pk}=2"
    retrieved = client.get(f"{LIST}{activity.pk}/")
    assert retrieved.headers["X-Stream-Seq"] == f"{group.pk}=2"
