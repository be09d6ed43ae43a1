"""REST interface of user activities: thin adapters over services and selectors."""

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, generics, parsers, status
from rest_framework import serializers as drf_serializers
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from activities import selectors, services
from activities.filters import IdFilter, UserActivityFilter
from activities.models import UserActivity
from activities.serializers import (
    ActivityTypeSerializer,
    UserActivitySerializer,
    WorkspaceGroupSerializer,
)
from iam.models import MAX_ID, IAMUser, WorkspaceGroup
from iam.selectors import user_group_ids, workspace_group_list

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


def stream_heads(*, user: IAMUser, group_ids: set[int] | None) -> dict[int, int]:
    """Latest seq of the caller's groups, narrowed to `group_ids` if given.

    Only groups the caller belongs to appear: their heads are what a subscription
    of the caller can start from.
    """
    scope = user_group_ids(user=user)
    if group_ids is not None:
        scope &= group_ids
    return {pk: seq for pk, (seq, _) in selectors.group_heads(group_ids=scope).items()}


def stream_seq_header_value(heads: dict[int, int]) -> str:
    """The `X-Stream-Seq` value: `group=seq` pairs, by group id."""
    return ",".join(f"{pk}={heads[pk]}" for pk in sorted(heads))


class SafeJSONParser(parsers.JSONParser):
    """DRF's JSON parser, with absurd nesting answered as a parse error (400)."""

    def parse(
        self, stream: Any, media_type: Any = None, parser_context: Any = None
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(
                "JSON parse error - nested too deeply"
            ) from None


# JSON only: form encodings turn an absent boolean into false (a new activity would
# be born inactive) and have no null; the API speaks JSON.
PARSERS = [SafeJSONParser]


class ActivityCursorPagination(CursorPagination):
    """Newest first; a cursor that was not made here is bad input (400)."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
            if cursor is not None and cursor.position is not None:
                if not 0 <= int(cursor.position) <= MAX_ID:
                    raise ValueError(cursor.position)
        except (exceptions.NotFound, ValueError):
            raise exceptions.ValidationError(
                {self.cursor_query_param: [self.invalid_cursor_message]}
            ) from None
        return cursor


# Error answers as the API gives them: DRF's {"detail": ...}, or field errors.
_DETAIL = OpenApiResponse(
    inline_serializer("ErrorDetail", {"detail": drf_serializers.CharField()}),
    description="`detail` says why.",
)
_FIELD_ERRORS = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Field errors: each field names a list of messages.",
)
_401 = OpenApiResponse(
    _DETAIL.response, description="No credentials, or bad ones (`WWW-Authenticate`)."
)
_403 = OpenApiResponse(
    _DETAIL.response, description="The caller may see this activity but not edit it."
)
_404 = OpenApiResponse(
    _DETAIL.response, description="No such activity, or one the caller may not see."
)


@extend_schema_view(
    get=extend_schema(
        summary="List user activities",
        parameters=[STREAM_SEQ_PARAMETER],
        responses={
            200: UserActivitySerializer(many=True),
            400: _FIELD_ERRORS,
            401: _401,
        },
    ),
    post=extend_schema(
        summary="Create a user activity",
        description="Creates an activity authored by the caller.",
        responses={201: UserActivitySerializer, 400: _FIELD_ERRORS, 401: _401},
    ),
)
class UserActivityListView(generics.ListCreateAPIView):  # type: ignore[type-arg]
    """Visible activities, newest first, with a cursor; and creation."""

    serializer_class = UserActivitySerializer
    filterset_class = UserActivityFilter
    pagination_class = ActivityCursorPagination
    parser_classes = PARSERS

    def get_queryset(self) -> QuerySet[UserActivity]:
        if getattr(self, "swagger_fake_view", False):
            return UserActivity.objects.none()
        return selectors.activity_visible_list(user=self.request.user)  # type: ignore[arg-type]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Filters first: a bad one is a 400 before anything is read.
        queryset = self.filter_queryset(self.get_queryset())
        group = request.query_params.get("workspace_group")
        # The filter has accepted it already ("7" or "7.0"): read it the same way.
        group_ids = (
            None if group in (None, "") else {IdFilter.field_class().clean(group)}
        )
        # Read the stream head before the page, so that a client subscribing with
        # `since` set to it misses nothing committed after the page was read.
        seq_header = stream_seq_header_value(
            stream_heads(user=request.user, group_ids=group_ids)  # type: ignore[arg-type]
        )
        page = self.paginate_queryset(queryset)
        serializer = self.get_serializer(page, many=True)
        response = self.get_paginated_response(serializer.data)
        response.headers[STREAM_SEQ_HEADER] = seq_header
        return response

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        activity = services.activity_create(
            actor=request.user,  # type: ignore[arg-type]
            data=serializer.validated_data,
        )
        return Response(
            services.activity_representation(activity), status=status.HTTP_201_CREATED
        )


@extend_schema_view(
    get=extend_schema(
        summary="Retrieve a user activity",
        description="Retrieves a specific user activity.",
        parameters=[STREAM_SEQ_PARAMETER],
        responses={200: UserActivitySerializer, 401: _401, 404: _404},
    ),
    put=extend_schema(
        summary="Update a user activity",
        description="Updates a specific user activity.",
        responses={
            200: UserActivitySerializer,
            400: _FIELD_ERRORS,
            401: _401,
            403: _403,
            404: _404,
        },
    ),
    patch=extend_schema(
        summary="Partially update a user activity",
        description="Updates the given fields of a specific user activity.",
        responses={
            200: UserActivitySerializer,
            400: _FIELD_ERRORS,
            401: _401,
            403: _403,
            404: _404,
        },
    ),
    delete=extend_schema(
        summary="Soft delete a user activity",
        description="Sets `deleted_at`, `deleted_by` and `is_active=false`.",
        responses={
            204: OpenApiResponse(description="Soft deleted."),
            401: _401,
            403: _403,
            404: _404,
        },
    ),
)
class UserActivityDetailView(generics.RetrieveUpdateDestroyAPIView):  # type: ignore[type-arg]
    """The reference endpoint: retrieve or update one activity; plus soft delete."""

    serializer_class = UserActivitySerializer
    queryset = UserActivity.objects.none()
    parser_classes = PARSERS

    def get_object(self) -> UserActivity:
        return selectors.activity_get(user=self.request.user, pk=self.kwargs["pk"])  # type: ignore[arg-type]

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Heads before the row, as for the list: whatever commits after the heads
        # were read is replayed to a subscriber starting from them. The row's
        # group is only known after, so the heads of all the caller's groups are
        # read and the row's one kept.
        heads = stream_heads(user=request.user, group_ids=None)  # type: ignore[arg-type]
        activity = self.get_object()
        group_id = activity.workspace_group_id
        seq_header = stream_seq_header_value(
            {group_id: heads[group_id]} if group_id in heads else {}
        )
        response = Response(services.activity_representation(activity))
        response.headers[STREAM_SEQ_HEADER] = seq_header
        return response

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)

        def validated(current: UserActivity) -> Mapping[str, Any]:
            # Called on the locked row once 404 and 403 are ruled out: those come
            # before any judgement of the body.
            serializer = self.get_serializer(
                current, data=request.data, partial=partial
            )
            serializer.is_valid(raise_exception=True)
            return serializer.validated_data  # type: ignore[no-any-return]

        activity = services.activity_update(
            actor=request.user,  # type: ignore[arg-type]
            activity_id=kwargs["pk"],
            data=validated,
        )
        return Response(services.activity_representation(activity))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.activity_delete(actor=request.user, activity_id=kwargs["pk"])  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class WorkspaceGroupListView(generics.ListAPIView):  # type: ignore[type-arg]
    """The caller's workspace groups, with their role and each stream's head."""

    serializer_class = WorkspaceGroupSerializer
    pagination_class = None
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[WorkspaceGroup]:
        if getattr(self, "swagger_fake_view", False):
            return WorkspaceGroup.objects.none()
        return workspace_group_list(user=self.request.user)  # type: ignore[arg-type]


class ActivityTypeListView(APIView):
    """Every activity type with its label and category."""

    @extend_schema(responses=ActivityTypeSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(ActivityTypeSerializer.catalogue())
