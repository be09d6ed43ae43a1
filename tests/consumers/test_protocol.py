"""Frame parsing and rendering of the /ws/activities/ protocol, without a socket."""

import json

import pytest

from activities.types import ActivityType
from consumers import protocol
from consumers.protocol import Ping, ProtocolError, Subscribe, Unsubscribe

LOGIN = int(ActivityType.USER_LOGIN)
ALL_TYPES = [int(t) for t in ActivityType]


def test_parse_client_frame_reads_subscribe() -> None:
    frame = '{"type": "subscribe", "workspace_group": 7}'

    assert protocol.parse_client_frame(frame) == Subscribe(workspace_group=7)


def test_parse_client_frame_reads_subscribe_with_since_and_types() -> None:
    frame = json.dumps(
        {
            "type": "subscribe",
            "workspace_group": 7,
            "since": 0,
            "activity_types": [LOGIN, LOGIN],
        }
    )

    assert protocol.parse_client_frame(frame) == Subscribe(
        workspace_group=7, since=0, activity_types=frozenset({LOGIN})
    )


def test_parse_client_frame_treats_null_since_and_types_as_absent() -> None:
    frame = (
        '{"type":"subscribe","workspace_group":7,"since":null,"activity_types":null}'
    )

    assert protocol.parse_client_frame(frame) == Subscribe(workspace_group=7)


def test_parse_client_frame_accepts_every_activity_type() -> None:
    frame = json.dumps(
        {"type": "subscribe", "workspace_group": 1, "activity_types": ALL_TYPES}
    )

    parsed = protocol.parse_client_frame(frame)

    assert isinstance(parsed, Subscribe)
    assert parsed.activity_types == frozenset(ALL_TYPES)
    assert len(frame.encode()) < 2048


def test_parse_client_frame_reads_unsubscribe_and_ping() -> None:
    assert protocol.parse_client_frame(
        '{"type":"unsubscribe","workspace_group":3}'
    ) == Unsubscribe(workspace_group=3)
    assert protocol.parse_client_frame('{"type":"ping"}') == Ping()


# The start of a subscribe frame to group 7, for the cases that vary the rest.
G7 = '{"type":"subscribe","workspace_group":7,'

MALFORMED = [
    "",
    "not json",
    "{",
    "[]",
    '[{"type":"ping"}]',
    '"subscribe"',
    "42",
    "null",
    "{}",
    '{"type":"publish"}',
    '{"type":7}',
    '{"type":null}',
    '{"type":"PING"}',
    '{"type":"subscribe"}',
    '{"type":"subscribe","workspace_group":"7"}',
    '{"type":"subscribe","workspace_group":true}',
    '{"type":"subscribe","workspace_group":1.5}',
    '{"type":"subscribe","workspace_group":1.0}',
    '{"type":"subscribe","workspace_group":0}',
    '{"type":"subscribe","workspace_group":-1}',
    '{"type":"subscribe","workspace_group":null}',
    '{"type":"subscribe","workspace_group":[7]}',
    '{"type":"subscribe","workspace_group":7,"since":-1}',
    '{"type":"subscribe","workspace_group":7,"since":"x"}',
    '{"type":"subscribe","workspace_group":7,"since":"3"}',
    '{"type":"subscribe","workspace_group":7,"since":false}',
    '{"type":"subscribe","workspace_group":7,"since":2.5}',
    '{"type":"subscribe","workspace_group":7,"activity_types":1}',
    '{"type":"subscribe","workspace_group":7,"activity_types":"1"}',
    '{"type":"subscribe","workspace_group":7,"activity_types":{}}',
    '{"type":"subscribe","workspace_group":7,"activity_types":[]}',
    '{"type":"subscribe","workspace_group":7,"activity_types":[99999]}',
    '{"type":"subscribe","workspace_group":7,"activity_types":[true]}',
    G7 + f'"activity_types":["{LOGIN}"]}}',
    G7 + f'"activity_types":[[{LOGIN}]]}}',
    G7 + f'"activity_types":[{LOGIN}.0]}}',
    '{"type":"subscribe","workspace_group":7,"extra":1}',
    f'{{"type":"subscribe","workspace_group":{2**63}}}',
    G7 + f'"since":{2**64}}}',
    "[" * 50_000 + "]" * 50_000,
    '{"type":"subscribe","workspace_group":' + "9" * 5000 + "}",
    '{"type":"unsubscribe"}',
    '{"type":"unsubscribe","workspace_group":"7"}',
    '{"type":"unsubscribe","workspace_group":7,"since":1}',
    '{"type":"ping","workspace_group":7}',
    "NaN",
    '{"type":"subscribe","workspace_group":NaN}',
    '{"type":"subscribe","workspace_group":Infinity}',
]


@pytest.mark.parametrize("text", MALFORMED, ids=lambda text: text[:60])
def test_parse_client_frame_refuses_malformed_frames(text: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        protocol.parse_client_frame(text)

    assert str(caught.value)


def test_parse_client_frame_refuses_unhashable_activity_types() -> None:
    """Tests that a list or object inside activity_types is a ProtocolError.

    A TypeError from hashing it would escape the consumer's error handling.
    """
    for inner in ("[1]", "{}"):
        with pytest.raises(ProtocolError):
            protocol.parse_client_frame(G7 + '"activity_types":[' + inner + "]}")


def test_parse_client_frame_accepts_the_largest_integer() -> None:
    frame = f'{{"type":"subscribe","workspace_group":{2**63 - 1}}}'

    assert protocol.parse_client_frame(frame) == Subscribe(workspace_group=2**63 - 1)


def test_server_frames_have_their_exact_shape() -> None:
    assert json.loads(protocol.subscribed_frame(7, 42)) == {
        "type": "subscribed",
        "workspace_group": 7,
        "seq": 42,
    }
    assert json.loads(protocol.unsubscribed_frame(7, protocol.REASON_CLIENT)) == {
        "type": "unsubscribed",
        "workspace_group": 7,
        "reason": "client",
    }
    assert json.loads(
        protocol.unsubscribed_frame(7, protocol.REASON_ACCESS_REVOKED)
    ) == {"type": "unsubscribed", "workspace_group": 7, "reason": "access_revoked"}
    assert json.loads(protocol.reset_frame(7, 43)) == {
        "type": "reset",
        "workspace_group": 7,
        "seq": 43,
    }
    assert json.loads(protocol.error_frame("not_found", "No.")) == {
        "type": "error",
        "code": "not_found",
        "detail": "No.",
    }
    assert json.loads(protocol.PONG_FRAME) == {"type": "pong"}


def test_close_codes_are_the_documented_ones() -> None:
    assert protocol.CLOSE_UNAUTHENTICATED == 4401
    assert protocol.CLOSE_FORBIDDEN == 4403
    assert protocol.CLOSE_RATE_LIMITED == 4429
    assert protocol.CLOSE_TOO_BIG == 1009
    assert protocol.MAX_FRAME_BYTES == 64 * 1024
