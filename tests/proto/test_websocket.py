"""WebSocketSession against wsproto's server side, bytes pumped between them in-process.

Every server-to-client stream is a scenario with its expected events, fed whole,
byte by byte and split at Hypothesis-chosen points: all three must give exactly
the expected events and errors. The server's Sec-WebSocket-Accept depends on the
client's random key, so each feed gets its own session and server; the frames after
the handshake are the same bytes every time (a server does not mask).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wsproto import ConnectionType, WSConnection
from wsproto import events as ws

from oxide_proto import (
    NEED_DATA,
    URL,
    BinaryMessage,
    Closed,
    Headers,
    InvalidHeaderError,
    LimitExceededError,
    LocalProtocolError,
    Opened,
    RemoteProtocolError,
    TextMessage,
    WebSocketConnectionClosedError,
    WebSocketHandshakeError,
    WebSocketSession,
    WebSocketState,
)
from tests.splits import bytewise, split_at, split_points, whole

WS_URL = URL("wss", "api.openai.com", 443, "/v1/responses")
AUTH = [("Authorization", "Bearer sk-test-secret"), ("OpenAI-Beta", "responses=v1")]
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def new_session(**kwargs: Any) -> WebSocketSession:
    kwargs.setdefault("headers", AUTH)
    kwargs.setdefault("now", 0.0)
    return WebSocketSession(WS_URL, **kwargs)


def accept_token(request: bytes) -> bytes:
    match = re.search(rb"Sec-WebSocket-Key: (\S+)\r\n", request)
    assert match is not None
    return base64.b64encode(hashlib.sha1(match.group(1) + GUID).digest())


def open_server(session: WebSocketSession) -> tuple[WSConnection, ws.Request]:
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(session.data_to_send())
    (request,) = server.events()
    assert isinstance(request, ws.Request)
    return server, request


def server_sees(server: WSConnection, session: WebSocketSession) -> list[ws.Event]:
    server.receive_data(session.data_to_send())
    return list(server.events())


def observe(session: WebSocketSession) -> list[object]:
    """Every event up to NEED_DATA; a raised error is recorded as (class, message)."""
    seen: list[object] = []
    while True:
        try:
            event = session.next_event()
        except Exception as exc:
            seen.append((type(exc), str(exc)))
            continue
        if event is NEED_DATA:
            return seen
        seen.append(event)
        if isinstance(event, Closed):
            return seen


def feed(session: WebSocketSession, chunks: list[bytes], *, eof: bool = False) -> list[object]:
    # Bytes after the end are still fed (they must be ignored); the repeated Closed
    # that next_event() returns from then on is recorded once.
    seen: list[object] = []
    for chunk in chunks:
        if chunk:  # b"" would mean EOF; a driver never passes an empty read otherwise
            session.receive_data(chunk, 1.0)
            if not seen or not isinstance(seen[-1], Closed):
                seen += observe(session)
    if eof:
        session.receive_data(b"", 2.0)
        if not seen or not isinstance(seen[-1], Closed):
            seen += observe(session)
    return seen


def accepted(server: WSConnection, request: ws.Request) -> bytes:
    return server.send(ws.AcceptConnection(extra_headers=[(b"x-request-id", b"req_1")]))


# -- scenarios: (session kwargs, server script, EOF at the end, expected events) ------

Script = Callable[[WSConnection, ws.Request, bytes], bytes]
OPENED = Opened(None, Headers([("x-request-id", "req_1")]))


def s_open(server: WSConnection, request: ws.Request, raw: bytes) -> bytes:
    return accepted(server, request)


def s_messages(server: WSConnection, request: ws.Request, raw: bytes) -> bytes:
    return (
        accepted(server, request)
        + server.send(ws.TextMessage('{"type":"response.created"}'))
        + server.send(ws.BytesMessage(b"\x00\xff\x10"))
        + server.send(ws.TextMessage(""))
        + server.send(ws.TextMessage("x" * 70000))
    )


def s_fragments(server: WSConnection, request: ws.Request, raw: bytes) -> bytes:
    # "é" is split between two frames' bytes; a ping arrives mid-message (§5.4 allows it).
    return (
        accepted(server, request)
        + server.send(ws.TextMessage("caf", message_finished=False))
        + server.send(ws.TextMessage("é au lait", message_finished=False))
        + server.send(ws.Ping(b"mid"))
        + server.send(ws.TextMessage(" ✓", message_finished=True))
        + server.send(ws.BytesMessage(b"ab", message_finished=False))
        + server.send(ws.BytesMessage(b"", message_finished=False))
        + server.send(ws.BytesMessage(b"cd", message_finished=True))
    )


def s_too_big(server: WSConnection, request: ws.Request, raw: bytes) -> bytes:
    return (
        accepted(server, request)
        + server.send(ws.TextMessage("0123456789"))
        + server.send(ws.BytesMessage(b"01234", message_finished=False))
        + server.send(ws.BytesMessage(b"56789A", message_finished=False))
        + server.send(ws.BytesMessage(b"more", message_finished=True))
        + server.send(ws.TextMessage("ok"))
        + server.send(ws.CloseConnection(1009, "message too big"))
    )


def s_too_big_text(server: WSConnection, request: ws.Request, raw: bytes) -> bytes:
    # Ten characters but twenty bytes of UTF-8: the limit counts bytes.
    return accepted(server, request) + server.send(ws.TextMessage("é" * 10))


def s_ping(server: WSConnection, request: ws.Request, raw: bytes) -> bytes:
    return (
        accepted(server, request)
        + server.send(ws.Ping(b"are you there"))
        + (server.send(ws.TextMessage("after")))
    )


def s_server_close(server: WSConnection, request: ws.Request, raw: bytes) -> bytes:
    return (
        accepted(server, request)
        + server.send(ws.TextMessage("last"))
        + server.send(ws.CloseConnection(4001, "session expired"))
        + b"ignored after the close frame"
    )


def s_eof(server: WSConnection, request: ws.Request, raw: bytes) -> bytes:
    return accepted(server, request) + server.send(ws.TextMessage("half", message_finished=False))


def s_refused_401(server: WSConnection, request: ws.Request, raw: bytes) -> bytes:
    body = json.dumps(
        {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}
    )
    return server.send(
        ws.RejectConnection(
            status_code=401,
            headers=[
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
            has_body=True,
        )
    ) + server.send(ws.RejectData(body.encode(), body_finished=True))


def s_refused_no_body(server: WSConnection, request: ws.Request, raw: bytes) -> bytes:
    return server.send(ws.RejectConnection(status_code=403))


def s_refused_until_close(server: WSConnection, request: ws.Request, raw: bytes) -> bytes:
    # No Content-Length: the body runs to EOF (RFC 9112 §6.3).
    return b"HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nno such endpoint"


def s_bad_accept(server: WSConnection, request: ws.Request, raw: bytes) -> bytes:
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + b"A" * 27 + b"=\r\n\r\n"
    )


def s_unoffered_subprotocol(server: WSConnection, request: ws.Request, raw: bytes) -> bytes:
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Protocol: other\r\nSec-WebSocket-Accept: " + accept_token(raw) + b"\r\n\r\n"
    )


def s_subprotocol(server: WSConnection, request: ws.Request, raw: bytes) -> bytes:
    return server.send(ws.AcceptConnection(subprotocol="realtime"))


def s_garbage(server: WSConnection, request: ws.Request, raw: bytes) -> bytes:
    return b"SSH-2.0-OpenSSH_9.6\r\n\r\n"


def s_eof_before_answer(server: WSConnection, request: ws.Request, raw: bytes) -> bytes:
    return b"HTTP/1.1 101 Swi"


def s_masked_frame(server: WSConnection, request: ws.Request, raw: bytes) -> bytes:
    # RFC 6455 §5.1: a server must not mask its frames; the client fails with 1002.
    return accepted(server, request) + server.send(ws.TextMessage("ok")) + b"\x81\x82abcd\x00\x00"


def s_bad_utf8(server: WSConnection, request: ws.Request, raw: bytes) -> bytes:
    return accepted(server, request) + b"\x81\x05ok\xc3\x28!"


SCENARIOS: dict[str, tuple[dict[str, Any], Script, bool, list[object]]] = {
    "open": ({}, s_open, False, [OPENED]),
    "messages": (
        {},
        s_messages,
        False,
        [
            OPENED,
            TextMessage('{"type":"response.created"}'),
            BinaryMessage(b"\x00\xff\x10"),
            TextMessage(""),
            TextMessage("x" * 70000),
        ],
    ),
    "fragments": (
        {},
        s_fragments,
        False,
        [OPENED, TextMessage("café au lait ✓"), BinaryMessage(b"abcd")],
    ),
    "too_big": (
        {"max_message_size": 10},
        s_too_big,
        False,
        [
            OPENED,
            TextMessage("0123456789"),
            (LimitExceededError, "WebSocket message larger than max_message_size (10 bytes)"),
            TextMessage("ok"),
            Closed(1009, "message too big"),
        ],
    ),
    "too_big_text": (
        {"max_message_size": 19},
        s_too_big_text,
        False,
        [OPENED, (LimitExceededError, "WebSocket message larger than max_message_size (19 bytes)")],
    ),
    "ping": ({}, s_ping, False, [OPENED, TextMessage("after")]),
    "server_close": (
        {},
        s_server_close,
        False,
        [OPENED, TextMessage("last"), Closed(4001, "session expired")],
    ),
    "eof": ({}, s_eof, True, [OPENED, Closed(1006, "connection lost without a Close frame")]),
    "refused_401": (
        {},
        s_refused_401,
        False,
        [
            (
                WebSocketHandshakeError,
                "WebSocket upgrade to wss://api.openai.com/v1/responses refused with HTTP status "
                '401: {"error": {"message": "Incorrect API key provided", '
                '"code": "invalid_api_key"}}',
            ),
            Closed(1006, "WebSocket handshake failed"),
        ],
    ),
    "refused_no_body": (
        {},
        s_refused_no_body,
        False,
        [
            (
                WebSocketHandshakeError,
                "WebSocket upgrade to wss://api.openai.com/v1/responses refused with HTTP "
                "status 403",
            ),
            Closed(1006, "WebSocket handshake failed"),
        ],
    ),
    "refused_until_close": (
        {},
        s_refused_until_close,
        True,
        [
            (
                WebSocketHandshakeError,
                "WebSocket upgrade to wss://api.openai.com/v1/responses refused with HTTP status "
                "404: no such endpoint",
            ),
            Closed(1006, "WebSocket handshake failed"),
        ],
    ),
    "bad_accept": (
        {},
        s_bad_accept,
        False,
        [
            (WebSocketHandshakeError, "invalid WebSocket handshake response: Bad accept token"),
            Closed(1006, "WebSocket handshake failed"),
        ],
    ),
    "unoffered_subprotocol": (
        {"subprotocols": ["realtime"]},
        s_unoffered_subprotocol,
        False,
        [
            (
                WebSocketHandshakeError,
                "invalid WebSocket handshake response: unrecognized subprotocol other",
            ),
            Closed(1006, "WebSocket handshake failed"),
        ],
    ),
    "subprotocol": (
        {"subprotocols": ["realtime", "other"]},
        s_subprotocol,
        False,
        [Opened("realtime", Headers())],
    ),
    "garbage": (
        {},
        s_garbage,
        False,
        [
            (
                WebSocketHandshakeError,
                "invalid HTTP response to the WebSocket upgrade",
            ),
            Closed(1006, "WebSocket handshake failed"),
        ],
    ),
    "eof_before_answer": (
        {},
        s_eof_before_answer,
        True,
        [
            (WebSocketHandshakeError, "connection closed before the WebSocket handshake"),
            Closed(1006, "WebSocket handshake failed"),
        ],
    ),
    "masked_frame": (
        {},
        s_masked_frame,
        False,
        [
            OPENED,
            TextMessage("ok"),
            (
                RemoteProtocolError,
                "WebSocket protocol error: client received unexpected masked frame",
            ),
            Closed(1006, "protocol error: client received unexpected masked frame"),
        ],
    ),
    "bad_utf8": (
        {},
        s_bad_utf8,
        False,
        [
            OPENED,
            (RemoteProtocolError, "WebSocket protocol error: text that is not valid UTF-8"),
            Closed(1006, "protocol error: text that is not valid UTF-8"),
        ],
    ),
}


def play(
    name: str, split: Callable[[bytes], list[bytes]]
) -> tuple[list[object], WebSocketSession, WSConnection]:
    kwargs, script, eof, _ = SCENARIOS[name]
    session = new_session(**kwargs)
    raw = session.data_to_send()
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(raw)
    (request,) = server.events()
    assert isinstance(request, ws.Request)
    stream = script(server, request, raw)
    return feed(session, split(stream), eof=eof), session, server


@pytest.mark.parametrize("split", [whole, bytewise], ids=["whole", "bytewise"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(name: str, split: Callable[[bytes], list[bytes]]) -> None:
    seen, _, _ = play(name, split)
    assert seen == SCENARIOS[name][3]


@pytest.mark.parametrize("name", list(SCENARIOS))
@settings(max_examples=25, deadline=None)
@given(points=split_points())
def test_scenario_split(name: str, points: list[int]) -> None:
    seen, _, _ = play(name, lambda data: split_at(data, points))
    assert seen == SCENARIOS[name][3]


# -- what the server sees of the client's replies ----------------------------------


def test_handshake_request_carries_identification_headers() -> None:
    session = new_session(subprotocols=["realtime"])
    assert session.state is WebSocketState.CONNECTING
    _, request = open_server(session)
    assert request.host == "api.openai.com"
    assert request.target == "/v1/responses"
    assert request.subprotocols == ["realtime"]
    headers = dict(request.extra_headers)
    assert headers[b"authorization"] == b"Bearer sk-test-secret"
    assert headers[b"openai-beta"] == b"responses=v1"
    assert session.next_event() is NEED_DATA


def test_ping_from_server_is_answered() -> None:
    _, session, server = play("ping", whole)
    replies = server_sees(server, session)
    assert replies == [ws.Pong(payload=b"are you there")]


def test_ping_mid_message_is_answered() -> None:
    _, session, server = play("fragments", bytewise)
    assert server_sees(server, session) == [ws.Pong(payload=b"mid")]


def test_server_close_is_echoed_and_sending_then_fails() -> None:
    _, session, server = play("server_close", whole)
    assert session.state is WebSocketState.CLOSED
    assert server_sees(server, session) == [ws.CloseConnection(4001, "session expired")]
    with pytest.raises(WebSocketConnectionClosedError) as info:
        session.send_text("too late")
    assert (info.value.code, info.value.reason) == (4001, "session expired")
    # Closed stays the answer once the connection is over.
    assert session.next_event() == Closed(4001, "session expired")
    session.receive_data(b"\x81\x01x", 3.0)
    assert session.next_event() == Closed(4001, "session expired")


def test_too_big_message_starts_a_close_with_1009() -> None:
    _, session, server = play("too_big", whole)
    assert server_sees(server, session) == [ws.CloseConnection(1009, "message too big")]
    assert session.state is WebSocketState.CLOSED


def test_too_big_error_carries_the_limit() -> None:
    session = new_session(max_message_size=3)
    server, request = open_server(session)
    session.receive_data(accepted(server, request) + server.send(ws.BytesMessage(b"1234")), 1.0)
    assert session.next_event() == OPENED
    with pytest.raises(LimitExceededError) as info:
        session.next_event()
    assert info.value.limit == 3
    assert session.state is WebSocketState.CLOSING
    with pytest.raises(WebSocketConnectionClosedError) as closed:
        session.send_text("x")
    assert closed.value.code == 1009


def test_protocol_error_closes_with_1002() -> None:
    _, session, server = play("masked_frame", whole)
    assert server_sees(server, session) == [ws.CloseConnection(1002, "")]
    assert session.state is WebSocketState.CLOSED


def test_invalid_utf8_closes_with_1007() -> None:
    _, session, server = play("bad_utf8", whole)
    assert server_sees(server, session) == [ws.CloseConnection(1007, "")]


def test_refusal_keeps_status_headers_and_body() -> None:
    session = new_session()
    server, request = open_server(session)
    session.receive_data(s_refused_401(server, request, b""), 1.0)
    with pytest.raises(WebSocketHandshakeError) as info:
        session.next_event()
    error = info.value
    assert error.status_code == 401
    assert error.headers is not None and error.headers["content-type"] == "application/json"
    assert error.body is not None and json.loads(error.body)["error"]["code"] == "invalid_api_key"
    assert session.state is WebSocketState.CLOSED
    assert session.data_to_send() == b""


def test_bad_accept_reports_status_101_and_chains_the_cause() -> None:
    session = new_session()
    session.data_to_send()
    session.receive_data(s_bad_accept(WSConnection(ConnectionType.SERVER), None, b""), 1.0)  # type: ignore[arg-type]
    with pytest.raises(WebSocketHandshakeError) as info:
        session.next_event()
    assert info.value.status_code == 101
    assert info.value.__cause__ is not None


def test_refusal_body_is_bounded() -> None:
    session = new_session()
    session.data_to_send()
    body = b"x" * 200_000
    head = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: %d\r\n\r\n" % len(body)
    session.receive_data(head + body, 1.0)
    with pytest.raises(WebSocketHandshakeError) as info:
        session.next_event()
    assert info.value.status_code == 500
    assert info.value.body is not None and len(info.value.body) == 64 * 1024
    assert len(str(info.value)) < 3000


# -- client to server ----------------------------------------------------------------


def opened_pair(**kwargs: Any) -> tuple[WebSocketSession, WSConnection]:
    session = new_session(**kwargs)
    server, request = open_server(session)
    session.receive_data(accepted(server, request), 0.0)
    assert session.next_event() == OPENED
    assert session.state is WebSocketState.OPEN
    return session, server


def test_text_binary_and_ping_reach_the_server() -> None:
    session, server = opened_pair()
    session.send_text('{"type":"response.create"}')
    session.send_binary(b"\x00\x01" * 40000)
    session.ping(b"hi")
    assert server_sees(server, session) == [
        ws.TextMessage('{"type":"response.create"}'),
        ws.BytesMessage(b"\x00\x01" * 40000),
        ws.Ping(b"hi"),
    ]
    assert session.data_to_send() == b""


def test_client_close_handshake() -> None:
    session, server = opened_pair()
    session.close(4000, "done here", now=5.0)
    assert session.state is WebSocketState.CLOSING
    assert session.next_timer() == 25.0
    in_flight = server.send(ws.TextMessage("in flight"))
    (close,) = server_sees(server, session)
    assert close == ws.CloseConnection(4000, "done here")
    with pytest.raises(WebSocketConnectionClosedError) as info:
        session.send_binary(b"x")
    assert (info.value.code, info.value.reason) == (4000, "done here")
    session.close()  # already closing: nothing more to do
    assert session.data_to_send() == b""
    # Messages the server sent before it saw the Close still arrive.
    reply = in_flight + server.send(close.response())
    assert feed(session, bytewise(reply)) == [TextMessage("in flight"), Closed(4000, "done here")]
    assert session.state is WebSocketState.CLOSED
    assert session.next_timer() is None


def test_close_handshake_times_out() -> None:
    session, _ = opened_pair()
    session.close(now=10.0)
    session.handle_timer(29.0)
    assert session.next_event() is NEED_DATA
    session.handle_timer(30.0)
    assert session.next_event() == Closed(1006, "close handshake timed out")


def test_eof_while_closing_is_1006() -> None:
    session, _ = opened_pair()
    session.close()
    session.receive_data(b"", 1.0)
    assert session.next_event() == Closed(1006, "connection lost without a Close frame")


def test_close_before_open_abandons() -> None:
    session = new_session()
    session.close()
    assert session.state is WebSocketState.CLOSED
    assert session.next_event() == Closed(1006, "closed before the WebSocket handshake")


@pytest.mark.parametrize("code", [999, 1004, 1005, 1006, 1015, 2000, 5000])
def test_close_refuses_reserved_codes(code: int) -> None:
    session, _ = opened_pair()
    with pytest.raises(LocalProtocolError):
        session.close(code)


def test_close_refuses_long_reason_and_ping_long_payload() -> None:
    session, _ = opened_pair()
    with pytest.raises(LocalProtocolError):
        session.close(1000, "é" * 62)
    with pytest.raises(LocalProtocolError):
        session.ping(b"x" * 126)
    assert session.state is WebSocketState.OPEN


def test_sending_before_open_is_a_local_error() -> None:
    session = new_session()
    with pytest.raises(LocalProtocolError):
        session.send_text("early")


# -- keepalive -----------------------------------------------------------------------


def test_keepalive_ping_then_pong_keeps_the_connection() -> None:
    session, server = opened_pair(keepalive_interval=20.0, keepalive_timeout=10.0)
    assert session.next_timer() == 20.0
    session.handle_timer(19.0)
    assert session.data_to_send() == b""
    session.handle_timer(20.0)
    (ping,) = server_sees(server, session)
    assert isinstance(ping, ws.Ping)
    assert session.next_timer() == 30.0
    session.receive_data(server.send(ping.response()), 25.0)
    assert session.next_event() is NEED_DATA
    assert session.state is WebSocketState.OPEN
    assert session.next_timer() == 45.0


def test_keepalive_unanswered_declares_the_connection_dead() -> None:
    session, server = opened_pair(keepalive_interval=20.0, keepalive_timeout=10.0)
    session.handle_timer(20.0)
    assert isinstance(server_sees(server, session)[0], ws.Ping)
    session.handle_timer(29.9)
    assert session.next_event() is NEED_DATA
    session.handle_timer(30.0)
    assert session.next_event() == Closed(1006, "keepalive ping timeout")
    assert session.state is WebSocketState.CLOSED
    assert server_sees(server, session) == [ws.CloseConnection(1011, "keepalive ping timeout")]
    with pytest.raises(WebSocketConnectionClosedError) as info:
        session.send_text("x")
    assert info.value.code == 1006
    assert session.next_timer() is None


def test_keepalive_counts_any_received_bytes_as_life() -> None:
    session, server = opened_pair(keepalive_interval=20.0, keepalive_timeout=10.0)
    session.handle_timer(20.0)
    session.data_to_send()
    session.receive_data(server.send(ws.TextMessage("busy")), 28.0)
    assert session.next_event() == TextMessage("busy")
    assert session.next_timer() == 48.0
    session.handle_timer(35.0)
    assert session.state is WebSocketState.OPEN
    assert session.data_to_send() == b""


def test_keepalive_can_be_off() -> None:
    session, _ = opened_pair(keepalive_interval=None)
    assert session.next_timer() is None
    session.handle_timer(1e9)
    assert session.data_to_send() == b""


def test_no_timer_while_connecting() -> None:
    assert new_session().next_timer() is None


# -- arguments -------------------------------------------------------------------------


def test_header_injection_is_refused_without_showing_secrets() -> None:
    with pytest.raises(InvalidHeaderError) as info:
        new_session(headers=[("Authorization", "Bearer sk-secret\r\nX-Evil: 1")])
    assert "sk-secret" not in str(info.value)
    with pytest.raises(InvalidHeaderError):
        new_session(headers={"Bad Name": "v"})


@pytest.mark.parametrize("name", ["Host", "sec-websocket-key", "Sec-WebSocket-Protocol"])
def test_handshake_headers_cannot_be_overridden(name: str) -> None:
    with pytest.raises(LocalProtocolError):
        new_session(headers=[(name, "x")])


def test_headers_object_and_mapping_are_accepted() -> None:
    for headers in (Headers([("OpenAI-Beta", "realtime=v1")]), {"OpenAI-Beta": "realtime=v1"}):
        _, request = open_server(new_session(headers=headers))
        assert (b"openai-beta", b"realtime=v1") in request.extra_headers


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_message_size": 0},
        {"keepalive_interval": 0.0},
        {"keepalive_timeout": -1.0},
        {"subprotocols": ["has space"]},
    ],
)
def test_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(LocalProtocolError):
        new_session(**kwargs)


def test_http_scheme_is_refused() -> None:
    with pytest.raises(LocalProtocolError):
        WebSocketSession(URL("https", "api.openai.com", 443, "/v1/responses"), now=0.0)


def test_non_default_port_goes_into_host() -> None:
    session = WebSocketSession(URL("ws", "127.0.0.1", 8765, "/ws?x=1"), now=0.0)
    _, request = open_server(session)
    assert request.host == "127.0.0.1:8765"
    assert request.target == "/ws?x=1"


# -- any sequence of messages, any fragmentation, any split ---------------------------

messages = st.lists(
    st.one_of(st.text(max_size=300), st.binary(max_size=300)).flatmap(
        lambda data: st.tuples(
            st.just(data),
            st.lists(st.integers(0, len(data)), max_size=4).map(sorted),
        )
    ),
    max_size=8,
)


@settings(max_examples=100, deadline=None)
@given(script=messages, points=split_points())
def test_any_messages_reassemble(
    script: list[tuple[str | bytes, list[int]]], points: list[int]
) -> None:
    results = []
    for split in (whole, bytewise, lambda data: split_at(data, points)):
        session = new_session()
        server, request = open_server(session)
        stream = accepted(server, request)
        expected: list[object] = [OPENED]
        for data, cuts in script:
            pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
            for i, piece in enumerate(pieces):
                last = i == len(pieces) - 1
                if isinstance(piece, str):
                    stream += server.send(ws.TextMessage(piece, message_finished=last))
                else:
                    stream += server.send(ws.BytesMessage(piece, message_finished=last))
            expected.append(TextMessage(data) if isinstance(data, str) else BinaryMessage(data))
        seen = feed(session, split(stream))
        assert seen == expected
        results.append(seen)
    assert results[0] == results[1] == results[2]


def test_events_are_frozen() -> None:
    with pytest.raises(AttributeError):
        TextMessage("x").data = "y"  # type: ignore[misc]


def test_unparsable_response_keeps_h11s_explanation_as_the_cause() -> None:
    session = new_session()
    session.data_to_send()
    session.receive_data(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", 1.0)
    with pytest.raises(WebSocketHandshakeError) as info:
        session.next_event()
    assert info.value.status_code is None
    assert "illegal status line" in str(info.value.__cause__)


def test_non_ascii_connection_header_in_101_is_a_handshake_error() -> None:
    session = new_session()
    token = accept_token(session.data_to_send())
    session.receive_data(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upg\xe9\r\n"
        b"Sec-WebSocket-Accept: " + token + b"\r\n\r\n",
        1.0,
    )
    with pytest.raises(WebSocketHandshakeError) as info:
        session.next_event()
    assert info.value.status_code == 101
