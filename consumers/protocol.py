"""The WebSocket protocol of /ws/activities/: frames, their validation, close codes.

Client frames are validated here and turned into small immutable commands; server
frames are built here, so every frame the gateway speaks is listed in one module
(activity events are rendered by activities.stream and forwarded as text).
"""

import json
from dataclasses import dataclass
from typing import Any, TypeGuard

from activities.types import ActivityType

# Close codes. 4xxx are the application's own (RFC 6455 leaves them to us); each
# mirrors the HTTP status a REST client would get for the same reason.
CLOSE_UNAUTHENTICATED = 4401  # no credentials, or they were revoked
CLOSE_FORBIDDEN = 4403  # the user was deactivated
CLOSE_RESYNC = 4409  # the client fell too far behind: reconnect with `since`
CLOSE_RATE_LIMITED = 4429  # kept flooding after a rate_limited error
CLOSE_TOO_BIG = 1009  # a frame over MAX_FRAME_BYTES
CLOSE_INTERNAL_ERROR = 1011  # the server failed on a frame; reconnecting is fine
CLOSE_SERVICE_RESTART = 1012  # the worker is shutting down: reconnect elsewhere

# Frames above this are refused unread; the largest legitimate client frame (a
# subscribe listing all 91 activity types) is well under 2 KiB.
MAX_FRAME_BYTES = 64 * 1024

ERROR_BAD_REQUEST = "bad_request"
ERROR_NOT_FOUND = "not_found"
ERROR_RATE_LIMITED = "rate_limited"

REASON_CLIENT = "client"
REASON_ACCESS_REVOKED = "access_revoked"

_ACTIVITY_TYPES = frozenset(ActivityType.values)


class ProtocolError(Exception):
    """A client frame that does not follow the protocol; answered with bad_request."""


@dataclass(frozen=True)
class Subscribe:
    workspace_group: int
    since: int | None = None
    activity_types: frozenset[int] | None = None


@dataclass(frozen=True)
class Unsubscribe:
    workspace_group: int


@dataclass(frozen=True)
class Ping:
    pass


ClientFrame = Subscribe | Unsubscribe | Ping


# Ids and seqs are stored as 64-bit integers; a larger number would reach the
# database only to overflow there.
MAX_INTEGER = 2**63 - 1


def _is_integer(value: Any) -> TypeGuard[int]:
    # JSON true/false arrive as bool, a subclass of int, and 1.0 as a float equal
    # to 1: neither is an integer on the wire.
    return isinstance(value, int) and not isinstance(value, bool)


def _integer(frame: dict[str, Any], name: str, *, minimum: int) -> int:
    value = frame.get(name)
    if not _is_integer(value):
        raise ProtocolError(f"'{name}' must be an integer.")
    if value < minimum:
        raise ProtocolError(f"'{name}' must be at least {minimum}.")
    if value > MAX_INTEGER:
        raise ProtocolError(f"'{name}' must be at most {MAX_INTEGER}.")
    return int(value)


def _activity_types(frame: dict[str, Any]) -> frozenset[int] | None:
    if "activity_types" not in frame or frame["activity_types"] is None:
        return None
    values = frame["activity_types"]
    if not isinstance(values, list) or not values:
        raise ProtocolError(
            "'activity_types' must be a non-empty list of activity types."
        )
    unknown = [v for v in values if not _is_integer(v) or v not in _ACTIVITY_TYPES]
    if unknown:
        raise ProtocolError(f"Unknown activity types: {unknown[:5]!r}.")
    return frozenset(values)


_ALLOWED_KEYS = {
    "subscribe": {"type", "workspace_group", "since", "activity_types"},
    "unsubscribe": {"type", "workspace_group"},
    "ping": {"type"},
}


def parse_client_frame(text: str) -> ClientFrame:
    """Turn one text frame into a command, or raise ProtocolError saying why not."""
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        # RecursionError: a frame of a few thousand nested brackets.
        raise ProtocolError("Frames must be JSON text.") from None
    if not isinstance(frame, dict):
        raise ProtocolError("A frame must be a JSON object.")
    kind = frame.get("type")
    if not isinstance(kind, str) or kind not in _ALLOWED_KEYS:
        raise ProtocolError("'type' must be one of subscribe, unsubscribe, ping.")
    extra = set(frame) - _ALLOWED_KEYS[kind]
    if extra:
        raise ProtocolError(f"Unexpected fields for {kind}: {sorted(extra)}.")
    if kind == "ping":
        return Ping()
    group = _integer(frame, "workspace_group", minimum=1)
    if kind == "unsubscribe":
        return Unsubscribe(workspace_group=group)
    since = None
    if frame.get("since") is not None:
        since = _integer(frame, "since", minimum=0)
    return Subscribe(
        workspace_group=group, since=since, activity_types=_activity_types(frame)
    )


def _dump(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"))


def subscribed_frame(group_id: int, seq: int) -> str:
    return _dump({"type": "subscribed", "workspace_group": group_id, "seq": seq})


def unsubscribed_frame(group_id: int, reason: str) -> str:
    return _dump(
        {"type": "unsubscribed", "workspace_group": group_id, "reason": reason}
    )


def reset_frame(group_id: int, seq: int) -> str:
    return _dump({"type": "reset", "workspace_group": group_id, "seq": seq})


# Details quote the client's input; this bound keeps an answer far below the frame
# size limit whatever was sent (escaping can multiply characters by six).
MAX_DETAIL_CHARS = 300


def error_frame(code: str, detail: str) -> str:
    if len(detail) > MAX_DETAIL_CHARS:
        detail = detail[: MAX_DETAIL_CHARS - 1] + "…"
    return _dump({"type": "error", "code": code, "detail": detail})


PONG_FRAME = _dump({"type": "pong"})
