from django.urls import path

from activities import views

urlpatterns = [
    path(
        "user-activities/", views.UserActivityListView.as_view(), name="activity-list"
    ),
    path(
        "user-activities/<int:pk>/",
        views.UserActivityDetailView.as_view(),
        name="activity-detail",
    ),
    path(
        "workspace-groups/", views.WorkspaceGroupListView.as_view(), name="group-list"
    ),
    path("activity-types/", views.ActivityTypeListView.as_view(), name="type-list"),
]
