"""Tests of the activities app's management commands."""

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from activities.management.commands import generate_traffic
from activities.models import ActivityEvent

pytestmark = pytest.mark.django_db


def test_generate_traffic_makes_changes_through_the_services() -> None:
    out = StringIO()

    call_command("generate_traffic", rate=200, duration=0.5, seed=7, stdout=out)

    lines = out.getvalue().split()
    assert lines, "no change was made"
    assert ActivityEvent.objects.exists()


def test_generate_traffic_stops_quietly_on_ctrl_c(monkeypatch: Any) -> None:
    """Regression: Ctrl-C, the usual way to end a demo, printed a traceback."""
    calls = 0

    def step(*args: Any) -> str:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt
        return "created"

    monkeypatch.setattr(generate_traffic, "traffic_step", step)
    out = StringIO()

    call_command("generate_traffic", rate=1000, stdout=out)

    assert out.getvalue().splitlines()[-1] == "stopped after 2 changes"
