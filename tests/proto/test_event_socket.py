"""The core's event-socket decisions, a Responses turn and Realtime audio, without a socket.

`EventSocket` is told what happened and answers: the handshake's URL and headers,
whether a close is reopened, the wait before each attempt, what `on_reconnecting`
sees and may change, which failed attempt ends the reconnecting. The accumulators
are fed the server's events as the whole sans-I/O stack delivers them: the
handshake `EventSocket` built goes through a `WebSocketSession` to wsproto's server
side, and the server's frames come back whole, byte by byte and split at
Hypothesis-chosen points, so the events and the outcome must be the same each way.
"""

from __future__ import annotations

import base64
import json
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
    APIConnectionError,
    APIEventError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    AzureConfig,
    BadRequestError,
    BetaRealtimeClientEvents,
    BetaResponsesClientEvents,
    Closed,
    EventSocket,
    EventSocketTarget,
    Headers,
    InternalServerError,
    LimitExceededError,
    MalformedEventError,
    OpenAIError,
    Opened,
    RateLimitError,
    RealtimeAudio,
    RealtimeAudioCollector,
    RealtimeClientEvents,
    ReconnectingEvent,
    ReconnectPolicy,
    RemoteProtocolError,
    Request,
    ResponseFailedError,
    ResponseIncompleteError,
    ResponseInfo,
    ResponsesClientEvents,
    ResponsesTurn,
    ResponseTooLargeError,
    RetryPolicy,
    TextMessage,
    WebSocketConnectionClosedError,
    WebSocketHandshakeError,
    WebSocketOptions,
    WebSocketQueueFullError,
    WebSocketSession,
    audio_chunks,
    closed_error,
    decode_beta_responses_event,
    event_error,
    parse_event_payload,
    parse_realtime_event,
    parse_responses_event,
    retryable_handshake,
    unhandled_error,
)
from oxide_proto.types.responses import Response
from tests.splits import bytewise, split_at, split_points, whole

KEY = "sk-test-0123456789SECRET"


def target(**fields: Any) -> EventSocketTarget:
    fields.setdefault("base_url", "https://api.example.test/v1")
    fields.setdefault("path", "/responses")
    fields.setdefault("api_key", KEY)
    return EventSocketTarget(**fields)


def headers_of(socket: EventSocket) -> dict[str, str]:
    return {name.lower(): value for name, value in socket.handshake().headers}


def no_jitter() -> float:
    return 0.0


# -- the handshake ---------------------------------------------------------------------


def test_handshake_is_built_like_a_request_minus_what_describes_a_body() -> None:
    socket = EventSocket(
        target(
            organization="org_1",
            project="proj_1",
            default_headers={"X-Team": "a", "Accept": "text/event-stream"},
            default_query={"tier": "low"},
        ),
        WebSocketOptions(extra_query={"lane": "b"}, extra_headers={"X-Team": None, "X-Run": "7"}),
    )
    handshake = socket.handshake()
    assert handshake.url == URL("wss", "api.example.test", 443, "/v1/responses?tier=low&lane=b")
    assert socket.url == handshake.url
    headers = headers_of(socket)
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["openai-organization"] == "org_1"
    assert headers["openai-project"] == "proj_1"
    assert headers["x-run"] == "7"
    assert "user-agent" in headers
    # None removes a default header; what describes an HTTP body is no part of an Upgrade.
    for absent in ("x-team", "accept", "accept-encoding", "content-type"):
        assert absent not in headers
    assert not any(name.startswith("x-stainless-retry") for name in headers)


def test_websocket_base_url_wins_and_http_becomes_ws() -> None:
    plain = EventSocket(target(base_url="http://127.0.0.1:8080/v1"), WebSocketOptions())
    assert str(plain.url) == "ws://127.0.0.1:8080/v1/responses"
    chosen = EventSocket(
        target(websocket_base_url="wss://edge.example.test/ws", path="/realtime"),
        WebSocketOptions(),
    )
    assert str(chosen.url) == "wss://edge.example.test/ws/realtime"


def test_a_query_argument_left_as_none_is_not_sent() -> None:
    socket = EventSocket(
        target(
            path="/realtime",
            query={"model": None, "call_id": "call_1"},
            default_query={"model": "d"},
        ),
        WebSocketOptions(),
    )
    assert socket.url.target == "/v1/realtime?model=d&call_id=call_1"


def test_connect_makes_the_session_of_the_handshake_under_the_options() -> None:
    options = WebSocketOptions(
        extra_headers={"X-Run": "7"},
        max_message_size=16,
        keepalive_interval=3.0,
        keepalive_timeout=2.0,
    )
    socket = EventSocket(target(), options)
    session = socket.connect(10.0)
    assert session.url == socket.url
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(session.data_to_send())
    (request,) = server.events()
    assert isinstance(request, ws.Request)
    assert request.target == socket.url.target
    sent = {name.decode().lower(): value.decode() for name, value in request.extra_headers}
    assert sent["authorization"] == f"Bearer {KEY}" and sent["x-run"] == "7"
    session.receive_data(server.send(ws.AcceptConnection()), 10.0)
    assert isinstance(session.next_event(), Opened)
    assert session.next_timer() == 13.0  # the keepalive interval
    session.handle_timer(13.0)
    assert session.next_timer() == 15.0  # the pong's deadline
    session.receive_data(server.send(ws.TextMessage("x" * 17)), 14.0)
    with pytest.raises(LimitExceededError):
        session.next_event()
    assert socket.connect(20.0) is not session  # one session per connection


def test_authenticated_replaces_the_key_for_the_next_handshake() -> None:
    socket = EventSocket(target(), WebSocketOptions(extra_headers={"X-Mine": "1"}))
    socket.authenticated("sk-fresh", {"X-Auth": "token", "X-Mine": "auth"})
    headers = headers_of(socket)
    assert headers["authorization"] == "Bearer sk-fresh"
    assert headers["x-auth"] == "token"
    assert headers["x-mine"] == "1"  # the call's own headers win over the auth ones
    socket.authenticated(None, None)
    assert "authorization" not in headers_of(socket)


def test_azure_realtime_names_the_deployment_and_authenticates_by_header() -> None:
    azure = AzureConfig(
        base_url="https://res.openai.azure.test/openai",
        api_version="2025-04-01-preview",
        endpoint="https://res.openai.azure.test",
        api_key="azure-key",
    )
    socket = EventSocket(
        target(path="/realtime", query={"model": "gpt-rt"}, azure=azure), WebSocketOptions()
    )
    url = str(socket.url)
    assert url.startswith("wss://res.openai.azure.test/openai/realtime?")
    assert "deployment=gpt-rt" in url and "api-version=2025-04-01-preview" in url
    assert "model=" not in url
    headers = headers_of(socket)
    assert headers["api-key"] == "azure-key"
    assert "authorization" not in headers


# -- the options -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (WebSocketOptions(), ReconnectPolicy(max_retries=0)),
        (
            WebSocketOptions(on_reconnecting=lambda event: None),
            ReconnectPolicy(max_retries=5, initial_delay=0.5, max_delay=8.0),
        ),
        (
            WebSocketOptions(reconnect=True, max_retries=2, initial_delay=0.1, max_delay=0.2),
            ReconnectPolicy(max_retries=2, initial_delay=0.1, max_delay=0.2),
        ),
        (
            WebSocketOptions(reconnect=False, on_reconnecting=lambda event: None),
            ReconnectPolicy(max_retries=0),
        ),
        (
            WebSocketOptions(reconnect=ReconnectPolicy(max_retries=9), max_retries=1),
            ReconnectPolicy(max_retries=9),
        ),
    ],
    ids=["default_off", "callback_turns_on", "true", "false_wins", "policy_as_given"],
)
def test_reconnect_policy_from_the_options(
    options: WebSocketOptions, expected: ReconnectPolicy
) -> None:
    assert options.reconnect_policy() == expected


def test_unknown_option_is_a_type_error() -> None:
    unknown: dict[str, Any] = {"max_queue": 3}
    with pytest.raises(TypeError):
        WebSocketOptions(**unknown)


# -- reconnecting ----------------------------------------------------------------------


def reconnecting(**options: Any) -> EventSocket:
    options.setdefault("reconnect", ReconnectPolicy(max_retries=3, initial_delay=1.0))
    socket = EventSocket(target(), WebSocketOptions(**options))
    socket.opened()
    return socket


@pytest.mark.parametrize("code", [1000, 1002, 1008, 1009, 4001])
def test_a_close_not_worth_reopening_is_raised(code: int) -> None:
    socket = reconnecting()
    with pytest.raises(WebSocketConnectionClosedError) as caught:
        socket.lost(code, "why")
    assert caught.value.code == code
    assert str(caught.value) == f"the WebSocket connection closed (code {code}, why)"


def test_without_reconnecting_even_an_abnormal_close_is_raised() -> None:
    socket = EventSocket(target(), WebSocketOptions())
    with pytest.raises(WebSocketConnectionClosedError) as caught:
        socket.lost(1006)
    assert caught.value.code == 1006


def test_attempts_wait_the_policy_backoff_then_give_up_with_the_last_failure() -> None:
    socket = reconnecting()
    lost = socket.lost(1011, "server error")
    assert lost.code == 1011
    delays = [socket.next_attempt(no_jitter)]
    refused = WebSocketHandshakeError("busy", status_code=503)
    assert socket.open_failed(refused)
    delays.append(socket.next_attempt(lambda: 1.0))  # the most jitter: a quarter less
    dropped = APIConnectionError(message="refused", request=None)
    assert socket.open_failed(dropped)
    delays.append(socket.next_attempt(no_jitter))
    assert delays == [1.0, 1.5, 4.0]
    assert socket.attempts == 3
    timed_out = APITimeoutError(None)
    assert socket.open_failed(timed_out)
    with pytest.raises(APITimeoutError) as caught:
        socket.next_attempt(no_jitter)
    assert caught.value is timed_out
    assert socket.reconnects == 0


def test_a_refusal_that_will_not_change_ends_the_reconnecting() -> None:
    socket = reconnecting()
    socket.lost(1006)
    socket.next_attempt(no_jitter)
    assert not socket.open_failed(WebSocketHandshakeError("no", status_code=401))
    assert not socket.open_failed(ValueError("a bug, not a connection problem"))


def test_a_first_open_that_fails_is_never_retried_here() -> None:
    socket = EventSocket(target(), WebSocketOptions(reconnect=True))
    assert not socket.open_failed(APIConnectionError(message="refused", request=None))
    with pytest.raises(RuntimeError):
        socket.next_attempt(no_jitter)


def test_a_successful_attempt_counts_and_an_event_resets_the_attempts() -> None:
    socket = reconnecting()
    socket.lost(1012)
    socket.next_attempt(no_jitter)
    socket.opened()
    assert socket.reconnects == 1
    socket.received('{"type": "error", "error": {}}')
    socket.received("not json")
    socket.received(b'{"type": ""}')
    assert socket.attempts == 1  # neither an error nor garbage proves the connection
    socket.received('{"type": "response.created"}')
    assert socket.attempts == 0
    socket.lost(1006)
    assert socket.next_attempt(no_jitter) == 1.0  # attempt 1 again


def test_on_reconnecting_is_told_each_attempt_and_may_change_the_handshake() -> None:
    seen: list[ReconnectingEvent] = []

    def callback(event: ReconnectingEvent) -> Any:
        seen.append(event)
        if event.attempt == 1:
            return {"extra_query": {"resume": "s1"}, "extra_headers": {"X-Token": "t2"}}
        return None

    socket = reconnecting(extra_headers={"X-Token": "t1"}, on_reconnecting=callback)
    socket.lost(1001)
    assert socket.next_attempt(no_jitter) == 1.0
    assert "resume=s1" in str(socket.url)
    assert headers_of(socket)["x-token"] == "t2"
    assert socket.open_failed(APIConnectionError(message="down", request=None))
    socket.next_attempt(no_jitter)
    assert seen == [
        ReconnectingEvent(
            attempt=1,
            max_attempts=3,
            delay=1.0,
            close_code=1001,
            extra_query={},
            extra_headers={"X-Token": "t1"},
        ),
        ReconnectingEvent(
            attempt=2,
            max_attempts=3,
            delay=2.0,
            close_code=1001,
            extra_query={"resume": "s1"},
            extra_headers={"X-Token": "t2"},
        ),
    ]


def test_on_reconnecting_aborting_or_raising_raises_the_close() -> None:
    socket = reconnecting(on_reconnecting=lambda event: {"abort": True})
    lost = socket.lost(1006)
    with pytest.raises(WebSocketConnectionClosedError) as caught:
        socket.next_attempt(no_jitter)
    assert caught.value is lost

    def broken(event: ReconnectingEvent) -> None:
        raise KeyError("oops")

    socket = reconnecting(on_reconnecting=broken)
    lost = socket.lost(1006)
    with pytest.raises(WebSocketConnectionClosedError) as caught:
        socket.next_attempt(no_jitter)
    assert caught.value is lost
    assert isinstance(caught.value.__cause__, KeyError)


def test_after_close_a_send_raises_instead_of_reopening() -> None:
    socket = reconnecting()
    socket.check_send()
    socket.close()
    with pytest.raises(WebSocketConnectionClosedError) as caught:
        socket.check_send()
    assert caught.value.code == 1000
    with pytest.raises(WebSocketConnectionClosedError):
        socket.lost(1006)


def test_one_rule_for_a_refused_handshake_in_both_policies() -> None:
    request = Request("GET", URL("wss", "api.example.test", 443, "/v1/responses"), Headers())
    policy = RetryPolicy()
    for status, expected in [(None, True), (429, True), (500, True), (503, True), (401, False)]:
        error = WebSocketHandshakeError("refused", status_code=status)
        assert retryable_handshake(error) is expected
        decision = policy.decide(attempt=0, request=request, error=error, now=0.0, random=no_jitter)
        assert decision.retry is expected


# -- events ----------------------------------------------------------------------------


def test_event_payloads_and_error_events() -> None:
    assert parse_event_payload(b'{"type": "x"}') == {"type": "x"}
    for bad in (b"\xff", "[1]", "{", "[" * 100_000):
        with pytest.raises(MalformedEventError):
            parse_event_payload(bad)
    nested = {"type": "error", "error": {"message": "bad model", "code": "model_not_found"}}
    error = event_error(nested)
    assert str(error) == "bad model (code model_not_found)"
    assert error.body == nested["error"]
    assert str(event_error({"type": "error"})) == "the server sent an error event"
    assert unhandled_error(nested, handled=True) is None
    assert unhandled_error({"type": "response.created"}, handled=False) is None
    raised = unhandled_error(nested, handled=False)
    assert isinstance(raised, APIEventError) and raised.body == nested["error"]


def test_client_events_go_to_send_and_return_what_it_returns() -> None:
    sent: list[dict[str, Any]] = []

    def send(event: dict[str, Any]) -> int:
        sent.append(event)
        return len(sent)

    responses = ResponsesClientEvents(send)
    assert responses.create(model="m", input="hi") == 1
    responses.steer(input="more", previous_response_id="resp_1")
    realtime = RealtimeClientEvents(send)
    realtime.session.update(session={"voice": "alloy"}, event_id="e1")
    realtime.response.create()
    realtime.response.cancel(response_id="r1")
    realtime.input_audio_buffer.append(audio="AAA=")
    realtime.input_audio_buffer.commit()
    realtime.input_audio_buffer.clear()
    realtime.output_audio_buffer.clear()
    realtime.conversation.item.create(item={"type": "message"})
    realtime.conversation.item.delete(item_id="i1")
    realtime.conversation.item.retrieve(item_id="i1")
    realtime.conversation.item.truncate(item_id="i1", content_index=0, audio_end_ms=500)
    assert sent == [
        {"type": "response.create", "model": "m", "input": "hi"},
        {"type": "response.steer", "input": "more", "previous_response_id": "resp_1"},
        {"type": "session.update", "event_id": "e1", "session": {"voice": "alloy"}},
        {"type": "response.create"},
        {"type": "response.cancel", "response_id": "r1"},
        {"type": "input_audio_buffer.append", "audio": "AAA="},
        {"type": "input_audio_buffer.commit"},
        {"type": "input_audio_buffer.clear"},
        {"type": "output_audio_buffer.clear"},
        {"type": "conversation.item.create", "item": {"type": "message"}},
        {"type": "conversation.item.delete", "item_id": "i1"},
        {"type": "conversation.item.retrieve", "item_id": "i1"},
        {
            "type": "conversation.item.truncate",
            "item_id": "i1",
            "content_index": 0,
            "audio_end_ms": 500,
        },
    ]


def test_audio_chunks_cut_and_encode() -> None:
    pcm = bytes(range(256)) * 3
    chunks = list(audio_chunks(pcm, 100))
    assert len(chunks) == 8
    assert b"".join(base64.b64decode(chunk) for chunk in chunks) == pcm
    assert list(audio_chunks(b"")) == []
    with pytest.raises(ValueError, match="chunk_size"):
        list(audio_chunks(pcm, 0))


# -- the whole stack: EventSocket's handshake, a WebSocketSession, the server's frames ----


def response_body(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1700000000,
        "status": status,
        "model": "gpt-test",
        "output": [],
        "error": None,
        "incomplete_details": None,
        **extra,
    }


def server_bytes(socket: EventSocket, session: WebSocketSession, frames: list[ws.Event]) -> bytes:
    """The server's answer to `session`'s handshake, then `frames`; checks what it was sent."""
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(session.data_to_send())
    (request,) = server.events()
    assert isinstance(request, ws.Request)
    sent = {name.decode().lower(): value.decode() for name, value in request.extra_headers}
    assert sent["authorization"] == f"Bearer {KEY}"
    assert request.target == socket.url.target
    return server.send(ws.AcceptConnection()) + b"".join(server.send(frame) for frame in frames)


def text_frames(events: list[dict[str, Any]]) -> list[ws.Event]:
    """Each event a text message; every other one cut into two frames mid-character."""
    frames: list[ws.Event] = []
    for index, event in enumerate(events):
        text = json.dumps(event, ensure_ascii=False)
        if index % 2:
            cut = len(text) // 2
            frames.append(ws.TextMessage(text[:cut], message_finished=False))
            frames.append(ws.TextMessage(text[cut:], message_finished=True))
        else:
            frames.append(ws.TextMessage(text))
    return frames


def messages_through_the_stack(
    events: list[dict[str, Any]], split: Callable[[bytes], list[bytes]]
) -> tuple[EventSocket, list[str]]:
    socket = EventSocket(target(), WebSocketOptions(max_message_size=1 << 20))
    session = socket.connect(0.0)
    data = server_bytes(socket, session, text_frames(events))
    messages: list[str] = []
    # b"" would mean EOF: a driver never passes an empty read otherwise.
    for chunk in filter(None, split(data)):
        session.receive_data(chunk, 1.0)
        while True:
            event = session.next_event()
            if event is NEED_DATA:
                break
            if isinstance(event, Opened):
                socket.opened()
            elif isinstance(event, TextMessage):
                socket.received(event.data)
                messages.append(event.data)
            else:
                raise AssertionError(f"unexpected {event!r}")
    assert not isinstance(session.closed, Closed)
    return socket, messages


TURN = [
    {"type": "response.created", "sequence_number": 0, "response": response_body("in_progress")},
    {"type": "response.output_text.delta", "sequence_number": 1, "delta": "café ✓"},
    {"type": "response.completed", "sequence_number": 2, "response": response_body("completed")},
]


def run_turn(events: list[dict[str, Any]], split: Callable[[bytes], list[bytes]]) -> Response:
    _, messages = messages_through_the_stack(events, split)
    turn = ResponsesTurn()
    request = turn.start({"model": "gpt-test", "input": "a"}, {"input": "b"})
    assert request == {"type": "response.create", "model": "gpt-test", "input": "b"}
    assert turn.unfinished
    ended = [turn.feed(parse_event_payload(message)) for message in messages]
    assert ended == [False] * (len(messages) - 1) + [True]
    assert not turn.unfinished
    return turn.result()


@pytest.mark.parametrize("split", [whole, bytewise], ids=["whole", "bytewise"])
def test_a_responses_turn_through_the_stack(split: Callable[[bytes], list[bytes]]) -> None:
    response = run_turn(TURN, split)
    assert isinstance(response, Response)
    assert response.id == "resp_1" and response.status == "completed"


@settings(max_examples=40, deadline=None)
@given(points=split_points())
def test_a_responses_turn_through_the_stack_at_random_splits(points: list[int]) -> None:
    assert run_turn(TURN, lambda data: split_at(data, points)).status == "completed"


@pytest.mark.parametrize("split", [whole, bytewise], ids=["whole", "bytewise"])
def test_failed_incomplete_and_error_endings(split: Callable[[bytes], list[bytes]]) -> None:
    failed = {
        "type": "response.failed",
        "response": response_body("failed", error={"code": "server_error", "message": "boom"}),
    }
    with pytest.raises(ResponseFailedError, match="resp_1 failed: boom") as caught:
        run_turn([*TURN[:2], failed], split)
    assert caught.value.body == {"code": "server_error", "message": "boom"}
    incomplete = {
        "type": "response.incomplete",
        "response": response_body("incomplete", incomplete_details={"reason": "max_output_tokens"}),
    }
    with pytest.raises(ResponseIncompleteError, match="max_output_tokens"):
        run_turn([*TURN[:2], incomplete], split)
    error = {"type": "error", "error": {"message": "rate limited", "code": "rate_limit"}}
    with pytest.raises(APIEventError, match="rate limited"):
        run_turn([TURN[0], error], split)
    with pytest.raises(APIEventError, match=r"response\.completed without a response"):
        run_turn([{"type": "response.completed"}], split)


def test_a_turn_stopped_by_the_connection_and_one_asked_too_early() -> None:
    turn = ResponsesTurn()
    turn.start(None, {"model": "m"})
    with pytest.raises(RuntimeError):
        turn.result()
    turn.stopped()
    assert not turn.unfinished
    turn.check()  # nothing ended it: nothing to raise


def test_typed_server_events() -> None:
    event = parse_responses_event(json.dumps(TURN[1]))
    assert type(event).__name__ == "ResponseTextDeltaEvent"
    unknown = parse_realtime_event('{"type": "brand.new", "x": 1}')
    assert type(unknown).__name__ == "UnknownModel"


def realtime_events(pcm: bytes, cuts: list[int], words: list[str]) -> list[dict[str, Any]]:
    base = {"response_id": "r", "item_id": "i", "output_index": 0, "content_index": 0}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "event_id": "e0", "response": {"id": "r"}}
    ]
    for chunk in split_at(pcm, cuts):
        delta = base64.b64encode(chunk).decode()
        events.append({"type": "response.output_audio.delta", "delta": delta, **base})
    for word in words:
        events.append({"type": "response.output_audio_transcript.delta", "delta": word, **base})
        events.append({"type": "response.text.delta", "delta": word.upper(), **base})
    done = {"id": "r", "object": "realtime.response", "status": "completed", "output": []}
    events.append({"type": "response.done", "event_id": "e9", "response": done})
    return events


def collect(events: list[dict[str, Any]], split: Callable[[bytes], list[bytes]]) -> RealtimeAudio:
    _, messages = messages_through_the_stack(events, split)
    collector = RealtimeAudioCollector()
    results = [collector.feed(parse_event_payload(message)) for message in messages]
    assert results[:-1] == [None] * (len(messages) - 1)
    final = results[-1]
    assert final is not None
    return final


PCM = bytes(range(256)) * 20


@pytest.mark.parametrize("split", [whole, bytewise], ids=["whole", "bytewise"])
def test_realtime_audio_through_the_stack(split: Callable[[bytes], list[bytes]]) -> None:
    audio = collect(realtime_events(PCM[:300], [100, 200], ["you ", "said"]), split)
    assert audio.audio == PCM[:300]
    assert audio.transcript == "you said"
    assert audio.text == "YOU SAID"
    assert type(audio.done).__name__ == "RealtimeServerEventResponseDone"


@settings(max_examples=40, deadline=None)
@given(
    cuts=split_points(),
    words=st.lists(st.text(max_size=5), max_size=5),
    points=split_points(),
)
def test_realtime_audio_at_random_delta_and_byte_splits(
    cuts: list[int], words: list[str], points: list[int]
) -> None:
    audio = collect(realtime_events(PCM, cuts, words), lambda data: split_at(data, points))
    assert audio.audio == PCM
    assert audio.transcript == "".join(words)


def test_realtime_error_event_raises() -> None:
    collector = RealtimeAudioCollector()
    assert collector.feed({"type": "response.audio.delta", "delta": "AAAA"}) is None
    with pytest.raises(APIEventError, match="no such item"):
        collector.feed({"type": "error", "error": {"message": "no such item"}})


# -- what WebSocketSession adds for the driver: the read's wait and a dead connection's messages


def opened_session(**options: Any) -> tuple[WebSocketSession, WSConnection]:
    session = WebSocketSession(URL("ws", "127.0.0.1", 80, "/v1/responses"), now=0.0, **options)
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(session.data_to_send())
    (request,) = server.events()
    assert isinstance(request, ws.Request)
    session.receive_data(server.send(ws.AcceptConnection()), 0.0)
    assert isinstance(session.next_event(), Opened)
    return session, server


def test_read_wait_ends_at_the_timer_or_at_the_deadline() -> None:
    session, _ = opened_session(keepalive_interval=20.0, keepalive_timeout=5.0)
    assert session.read_wait(1.0, None) == (19.0, True)
    assert session.read_wait(1.0, 11.0) == (10.0, False)
    assert session.read_wait(1.0, 30.0) == (19.0, True)
    assert session.read_wait(25.0, None) == (0.0, True)  # due: run the timer, do not read
    quiet, _ = opened_session(keepalive_interval=None)
    assert quiet.read_wait(1.0, None) == (None, False)
    assert quiet.read_wait(1.0, 3.5) == (2.5, False)
    assert quiet.read_wait(1.0, deadline=3.5) == (2.5, False)
    with pytest.warns(DeprecationWarning, match="deadline="):
        assert quiet.read_wait(1.0, give_up=3.5) == (2.5, False)


@pytest.mark.parametrize("split", [whole, bytewise], ids=["whole", "bytewise"])
def test_take_messages_keeps_what_a_dead_connection_received(
    split: Callable[[bytes], list[bytes]],
) -> None:
    session, server = opened_session(max_message_size=16)
    data = (
        server.send(ws.TextMessage("one"))
        + server.send(ws.TextMessage("x" * 40))  # too big: dropped with its error
        + server.send(ws.BytesMessage(b"two"))
    )
    for chunk in split(data):
        session.receive_data(chunk, 1.0)
    session.receive_data(b"", 2.0)
    messages, closed = session.take_messages()
    assert [message.data for message in messages] == ["one", b"two"]
    assert closed == Closed(1006, "connection lost without a Close frame")
    assert session.take_messages() == ([], closed)


def test_take_messages_of_a_live_connection_stops_at_need_data() -> None:
    session, server = opened_session()
    session.receive_data(server.send(ws.TextMessage("queued")), 1.0)
    messages, closed = session.take_messages()
    assert messages == [TextMessage("queued")]
    assert closed is None


def test_beta_client_events_and_typed_beta_events() -> None:
    sent: list[dict[str, Any]] = []
    responses = BetaResponsesClientEvents(sent.append)
    responses.inject(input=iter([{"type": "function_call_output"}]), response_id="resp_1")
    responses.create(model="m")
    realtime = BetaRealtimeClientEvents(sent.append)
    realtime.transcription_session.update(session={"model": "whisper-1"})
    realtime.session.update(session={})
    assert sent == [
        {
            "type": "response.inject",
            "input": [{"type": "function_call_output"}],
            "response_id": "resp_1",
        },
        {"type": "response.create", "model": "m"},
        {"type": "transcription_session.update", "session": {"model": "whisper-1"}},
        {"type": "session.update", "session": {}},
    ]
    delta = decode_beta_responses_event(
        {
            "type": "response.output_text.delta",
            "delta": "hi",
            "item_id": "m",
            "output_index": 0,
            "content_index": 0,
            "sequence_number": 1,
            "logprobs": [],
        }
    )
    assert type(delta).__name__ == "BetaResponsesServerEventBetaResponseTextWsDelta"
    assert type(decode_beta_responses_event({"type": "brand.new"})).__name__ == "UnknownModel"


# -- failures: which public error each becomes ----------------------------------------


def session_fed(
    answer: Callable[[WSConnection], bytes], split: Callable[[bytes], list[bytes]], **options: Any
) -> tuple[EventSocket, WebSocketSession, list[Exception]]:
    """A session of a fresh socket fed `answer` (the server's bytes) as `split` cuts
    them, then an EOF; the errors it raised, in order."""
    socket = EventSocket(target(), WebSocketOptions(**options))
    handshake = socket.handshake()
    session = WebSocketSession(
        handshake.url,
        headers=handshake.headers,
        max_message_size=socket.options.max_message_size,
        now=0.0,
    )
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(session.data_to_send())
    (request,) = server.events()
    assert isinstance(request, ws.Request)
    errors: list[Exception] = []
    for chunk in [*filter(None, split(answer(server))), b""]:
        session.receive_data(chunk, 1.0)
        while True:
            try:
                event = session.next_event()
            except Exception as exc:
                errors.append(exc)
                continue
            if event is NEED_DATA or isinstance(event, Closed):
                break
    return socket, session, errors


def corrupt_frame(server: WSConnection) -> bytes:
    accept = server.send(ws.AcceptConnection())
    good = server.send(ws.TextMessage('{"type": "response.created"}'))
    return accept + good + b"\x00\xff garbage \r\n\r\n"


def garbage_handshake(server: WSConnection) -> bytes:
    return b"\x00\xff garbage \r\n\r\n"


def cut_handshake(server: WSConnection) -> bytes:
    return server.send(ws.AcceptConnection())[:20]


def refusal(status: int, body: bytes) -> Callable[[WSConnection], bytes]:
    def answer(server: WSConnection) -> bytes:
        headers = [
            (b"content-type", b"application/json"),
            (b"x-request-id", b"req_42"),
            (b"content-length", str(len(body)).encode()),
        ]
        return server.send(
            ws.RejectConnection(status_code=status, headers=headers, has_body=True)
        ) + (server.send(ws.RejectData(data=body, body_finished=True)))

    return answer


REFUSED_KEY = (
    b'{"error": {"message": "Incorrect API key provided: ' + KEY.encode() + b'", '
    b'"type": "invalid_request_error", "code": "invalid_api_key", "param": null}}'
)


def only(errors: list[Exception]) -> Exception:
    assert len(errors) == 1, errors
    return errors[0]


SPLITS = [whole, bytewise]


@pytest.mark.parametrize("split", SPLITS, ids=["whole", "bytewise"])
def test_a_corrupt_frame_is_a_connection_error(split: Callable[[bytes], list[bytes]]) -> None:
    socket, session, errors = session_fed(corrupt_frame, split)
    error = only(errors)
    assert type(error) is RemoteProtocolError
    failure = socket.failure(error)
    assert type(failure) is APIConnectionError
    assert failure.__cause__ is error
    assert str(failure) == f"WebSocket connection error: {error}"
    assert failure.request is not None and failure.request.url == socket.url
    # The connection is over: what follows is the close, as it was.
    assert session.closed is not None
    closed = closed_error(session.closed.code, session.closed.reason)
    assert socket.failure(closed) is closed


@pytest.mark.parametrize(
    "answer, detail",
    [
        (garbage_handshake, "invalid HTTP response to the WebSocket upgrade"),
        (cut_handshake, "connection closed before the WebSocket handshake"),
    ],
    ids=["garbage", "cut"],
)
@pytest.mark.parametrize("split", SPLITS, ids=["whole", "bytewise"])
def test_a_broken_handshake_is_a_connection_error(
    answer: Callable[[WSConnection], bytes], detail: str, split: Callable[[bytes], list[bytes]]
) -> None:
    socket, _, errors = session_fed(answer, split)
    error = only(errors)
    assert isinstance(error, WebSocketHandshakeError) and error.status_code is None
    failure = socket.failure(error)
    assert type(failure) is APIConnectionError
    assert failure.__cause__ is error
    assert str(failure) == f"WebSocket handshake failed: {detail}"


@pytest.mark.parametrize(
    "status, cls",
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (429, RateLimitError),
        (503, InternalServerError),
        (418, APIStatusError),
    ],
)
@pytest.mark.parametrize("split", SPLITS, ids=["whole", "bytewise"])
def test_a_refused_handshake_is_its_status_error(
    status: int, cls: type[APIStatusError], split: Callable[[bytes], list[bytes]]
) -> None:
    socket, _, errors = session_fed(refusal(status, REFUSED_KEY), split)
    error = only(errors)
    assert isinstance(error, WebSocketHandshakeError) and error.status_code == status
    failure = socket.failure(error)
    assert type(failure) is cls
    assert isinstance(failure, APIStatusError)
    assert failure.__cause__ is error
    # As a request refused alike: the body's error object, the request id.
    assert failure.status_code == status
    assert failure.code == "invalid_api_key" and failure.type == "invalid_request_error"
    assert failure.request_id == "req_42"
    assert failure.request is not None and failure.request.url == socket.url
    # The key in the server's text is cut down, as in any API error.
    assert KEY not in str(failure) and KEY not in repr(failure.body)
    assert str(failure).startswith(f"Error code: {status} - Incorrect API key provided")


@settings(max_examples=30, deadline=None)
@given(points=split_points())
def test_failures_at_random_splits(points: list[int]) -> None:
    def split(data: bytes) -> list[bytes]:
        return split_at(data, points)

    socket, _, errors = session_fed(corrupt_frame, split)
    assert type(socket.failure(only(errors))) is APIConnectionError
    socket, _, errors = session_fed(garbage_handshake, split)
    assert type(socket.failure(only(errors))) is APIConnectionError
    socket, _, errors = session_fed(refusal(401, REFUSED_KEY), split)
    assert type(socket.failure(only(errors))) is AuthenticationError


@pytest.mark.parametrize("split", SPLITS, ids=["whole", "bytewise"])
def test_a_message_over_the_limit_is_too_large(split: Callable[[bytes], list[bytes]]) -> None:
    def big(server: WSConnection) -> bytes:
        return server.send(ws.AcceptConnection()) + server.send(ws.TextMessage("x" * 40))

    socket, _, errors = session_fed(big, split, max_message_size=16)
    error = only(errors)
    assert isinstance(error, LimitExceededError)
    failure = socket.failure(error)
    assert isinstance(failure, ResponseTooLargeError)
    assert (failure.limit_name, failure.limit) == ("max_message_size", 16)
    assert failure.__cause__ is error


def test_transport_failures_timeouts_and_what_passes_unchanged() -> None:
    socket = EventSocket(target(), WebSocketOptions())
    reset = ConnectionResetError("reset by peer")
    failure = socket.failure(reset)
    assert type(failure) is APIConnectionError
    assert str(failure) == "WebSocket connection error: reset by peer"
    assert failure.__cause__ is reset
    timed_out = socket.failure(TimeoutError(), timed_out="read")
    assert type(timed_out) is APITimeoutError
    assert str(timed_out) == "WebSocket timed out (read)."
    already = APIConnectionError(message="through a proxy", request=None)
    assert socket.failure(already) is already
    # The request of the error carries the handshake's headers; the key never shows.
    assert failure.request is not None
    assert failure.request.headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in repr(failure)


def test_reopening_follows_the_refusal_inside_a_status_error() -> None:
    socket = reconnecting()
    for status, expected in [(401, False), (403, False), (429, True), (503, True)]:
        socket.lost(1006)
        socket.next_attempt(no_jitter)
        refused = WebSocketHandshakeError("refused", status_code=status)
        failure = socket.failure(refused)
        assert isinstance(failure, APIStatusError)
        assert socket.open_failed(failure) is expected
        socket.opened()
        socket.received('{"type": "response.created"}')
    socket.lost(1006)
    socket.next_attempt(no_jitter)
    broken = socket.failure(WebSocketHandshakeError("garbage"))
    assert socket.open_failed(broken)
    # An API error that is neither a connection error nor a refused handshake ends it.
    assert not socket.open_failed(
        APIStatusError("x", response=ResponseInfo(400, Headers()), body=None)
    )


def test_a_client_with_an_x509_identity_opens_no_socket() -> None:
    socket = EventSocket(target(x509_identity=True), WebSocketOptions())
    with pytest.raises(OpenAIError, match=r"X\.509 .* not supported by WebSocket"):
        socket.check_may_connect()
    EventSocket(target(), WebSocketOptions()).check_may_connect()  # any other client may


def test_messages_queued_before_a_connection_are_bounded_in_bytes_and_kept_in_order() -> None:
    socket = EventSocket(target(), WebSocketOptions(max_queue_size=10))
    assert not socket.has_queued
    socket.queue("abc")
    socket.queue("é" * 3)  # 6 bytes in UTF-8: 9 in all
    with pytest.raises(WebSocketQueueFullError, match="9 of 10 bytes taken, this message is 2"):
        socket.queue("de")
    socket.queue("f")
    assert socket.has_queued
    assert socket.take_queued() == ["abc", "ééé", "f"]
    assert socket.take_queued() == [] and not socket.has_queued
    socket.queue("0123456789")  # the room is back
    socket.close()
    with pytest.raises(WebSocketConnectionClosedError):
        socket.queue("x")
    assert WebSocketOptions().max_queue_size == 1_048_576  # the official SDK's default
