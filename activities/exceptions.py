"""The errors of the gateway's use cases, and their one mapping onto HTTP.

    GatewayError
     ├── NotFoundError          the thing is missing, or the caller may not see it (404)
     ├── PermissionDeniedError  the caller sees it but may not change it (403)
     └── InvalidInputError      the request is malformed (400, with field errors)

consumers.protocol maps the same classes onto WebSocket `error` frames.
"""

from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class GatewayError(Exception):
    """Base of the use-case errors; `code` is the machine-readable name."""

    code = "error"

    def __init__(self, detail: Any = "") -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(GatewayError):
    code = "not_found"


class PermissionDeniedError(GatewayError):
    code = "permission_denied"


class InvalidInputError(GatewayError):
    code = "bad_request"


_HTTP_ERRORS: dict[type[GatewayError], type[exceptions.APIException]] = {
    NotFoundError: exceptions.NotFound,
    PermissionDeniedError: exceptions.PermissionDenied,
    InvalidInputError: exceptions.ValidationError,
}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, taught the gateway's errors."""
    for error_class, api_class in _HTTP_ERRORS.items():
        if isinstance(exc, error_class):
            exc = api_class(exc.detail or None)
            break
    response = exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_401_UNAUTHORIZED:
        response.headers.setdefault("WWW-Authenticate", 'Token realm="api"')
    return response
