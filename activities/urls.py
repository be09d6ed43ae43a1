from collections.abc import Callable

from django.http import HttpResponseBase
from django.urls import URLPattern, path

from activities import views


def _slash_optional(
    route: str, view: Callable[..., HttpResponseBase], name: str
) -> list[URLPattern]:
    """The route with its trailing slash (canonical, named, in the schema) and
    without it: API clients often drop the slash, and a redirect to the slashed
    path would turn their PATCH or DELETE into a GET."""
    return [path(route, view, name=name), path(route.rstrip("/"), view)]


urlpatterns = [
    *_slash_optional(
        "user-activities/", views.UserActivityListView.as_view(), "activity-list"
    ),
    *_slash_optional(
        "user-activities/<int:pk>/",
        views.UserActivityDetailView.as_view(),
        "activity-detail",
    ),
    *_slash_optional(
        "workspace-groups/", views.WorkspaceGroupListView.as_view(), "group-list"
    ),
    *_slash_optional(
        "activity-types/", views.ActivityTypeListView.as_view(), "type-list"
    ),
]
