"""Pages for people: the landing page and the live feed dashboard."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def home(request: HttpRequest) -> HttpResponse:
    """The landing page: the dashboard for people, the API docs for programs."""
    return redirect("/api/docs/")
