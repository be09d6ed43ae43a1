"""REST interface of user activities: thin adapters over services and selectors."""

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from activities import selectors, services
from activities.filters import UserActivityFilter
from activities.models import UserActivity
from activities.serializers import (
    ActivityTypeSerializer,
    UserActivitySerializer,
    WorkspaceGroupSerializer,
)
from iam.models import IAMUser, Membership, WorkspaceGroup
from iam.selectors import user_group_ids

# The stream cursor: the seq each group in scope had when the response was read.
STREAM_SEQ_HEADER = "X-Stream-Seq"
STREAM_SEQ_PARAMETER = OpenApiParameter(
    name=STREAM_SEQ_HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    response=[200],
    description=(
        "Latest committed seq of each workspace group in scope, as `group=seq` "
        "pairs separated by commas (`7=42,9=3`), read before the body. Subscribe "
        "with `since` set to a group's value to miss nothing after this response."
    ),
)


def stream_seq_header_value(*, user: IAMUser, group_filter: Any) -> str:
    """`group=seq` pairs for the caller's groups, or the one group asked for."""
    group_ids = user_group_ids(user=user)
    try:
        if group_filter not in (None, ""):
            group_ids &= {int(group_filter)}
    except (TypeError, ValueError):
        group_ids = set()
    heads = selectors.group_heads(group_ids=group_ids)
    return ",".join(f"{pk}={heads[pk][0]}" for pk in sorted(heads))


class ActivityCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ActivityWriteMixin:
    """Serializer wiring shared by the list and detail views."""

    request: Request

    def get_serializer(self, *args: Any, **kwargs: Any) -> UserActivitySerializer:
        serializer = UserActivitySerializer(*args, **kwargs)
        user = getattr(self.request, "user", None)
        if user is not None and user.is_authenticated:
            field = serializer.fields["workspace_group"]
            field.queryset = selectors.writable_groups(user=user)  # type: ignore[attr-defined]
        return serializer

    def respond(
        self, activity: UserActivity, code: int = status.HTTP_200_OK
    ) -> Response:
        return Response(services.activity_representation(activity), status=code)


@extend_schema_view(
    get=extend_schema(
        summary="List user activities", parameters=[STREAM_SEQ_PARAMETER]
    ),
    post=extend_schema(summary="Create a user activity"),
)
class UserActivityListView(ActivityWriteMixin, generics.ListCreateAPIView):  # type: ignore[type-arg]
    """Visible activities, newest first, with a cursor; and creation."""

    serializer_class = UserActivitySerializer
    filterset_class = UserActivityFilter
    pagination_class = ActivityCursorPagination

    def get_queryset(self) -> QuerySet[UserActivity]:
        return selectors.activity_visible_list(user=self.request.user)  # type: ignore[arg-type]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Read the stream head before the page, so that a client subscribing with
        # `since` set to it misses nothing committed after the page was read.
        seq_header = stream_seq_header_value(
            user=request.user,  # type: ignore[arg-type]
            group_filter=request.query_params.get("workspace_group"),
        )
        response = super().list(request, *args, **kwargs)
        response.headers[STREAM_SEQ_HEADER] = seq_header
        return response

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        activity = services.activity_create(
            actor=request.user,
            data=serializer.validated_data,  # type: ignore[arg-type]
        )
        return self.respond(activity, status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        summary="Retrieve a user activity",
        description="Retrieves a specific user activity.",
        parameters=[STREAM_SEQ_PARAMETER],
    ),
    put=extend_schema(summary="Update a user activity"),
    patch=extend_schema(summary="Partially update a user activity"),
    delete=extend_schema(
        summary="Soft delete a user activity",
        description="Sets `deleted_at`, `deleted_by` and `is_active=false`.",
        responses={204: OpenApiResponse(description="Soft deleted.")},
    ),
)
class UserActivityDetailView(ActivityWriteMixin, generics.RetrieveUpdateDestroyAPIView):  # type: ignore[type-arg]
    """The reference endpoint: retrieve or update one activity; plus soft delete."""

    serializer_class = UserActivitySerializer
    queryset = UserActivity.objects.none()

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        activity = selectors.activity_get(user=request.user, pk=kwargs["pk"])  # type: ignore[arg-type]
        # Head read after the row, then the row's state is covered by `since`.
        seq_header = stream_seq_header_value(
            user=request.user,  # type: ignore[arg-type]
            group_filter=activity.workspace_group_id,
        )
        response = self.respond(activity)
        response.headers[STREAM_SEQ_HEADER] = seq_header
        return response

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        current = selectors.activity_get(user=request.user, pk=kwargs["pk"])  # type: ignore[arg-type]
        serializer = self.get_serializer(current, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        activity = services.activity_update(
            actor=request.user,  # type: ignore[arg-type]
            activity_id=current.pk,
            data=serializer.validated_data,
        )
        return self.respond(activity)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.activity_delete(actor=request.user, activity_id=kwargs["pk"])  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class WorkspaceGroupListView(generics.ListAPIView):  # type: ignore[type-arg]
    """The caller's workspace groups, with their role and each stream's head."""

    serializer_class = WorkspaceGroupSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[WorkspaceGroup]:
        role = Membership.objects.filter(
            group=OuterRef("pk"), user=self.request.user
        ).values("role")[:1]
        return (
            WorkspaceGroup.objects.filter(
                pk__in=user_group_ids(user=self.request.user)  # type: ignore[arg-type]
            )
            .annotate(role=Subquery(role))
            .order_by("id")
        )


class ActivityTypeListView(APIView):
    """Every activity type with its label and category."""

    @extend_schema(responses=ActivityTypeSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(ActivityTypeSerializer.catalogue())
