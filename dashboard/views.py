"""Pages for people: the landing page and the live feed dashboard.

Both pages are thin: the dashboard's data comes from the same REST endpoints and
socket any client uses, so the page proves the public contract rather than a
private one.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from activities.serializers import ActivityTypeSerializer
from activities.types import Category


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The landing page: links to the dashboard, the API docs and the admin."""
    return render(request, "dashboard/home.html")


@require_safe
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The live feed page; its script reads groups and activities over the API.

    The type catalogue is embedded (it is static), so the filters render before
    the first request returns.
    """
    user = request.user
    context = {
        "boot": {
            "user": {"id": user.pk, "username": user.get_username()},
            "activity_types": ActivityTypeSerializer.catalogue(),
            "categories": [{"value": c.value, "label": c.label} for c in Category],
        }
    }
    return render(request, "dashboard/dashboard.html", context)
