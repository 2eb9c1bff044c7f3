"""What the WebSocket drivers take from pure helpers: options and handler choice.

`event_socket` turns a `connect()` call's options into the core's `EventSocket` and
the timeouts; `EventHandlers.for_event` picks the handlers of one event (and
refuses an `error` event nobody handles). Neither needs a socket, so they are
checked here whole (the error a failure becomes is the core's
`EventSocket.failure`, tested in tests/proto/test_event_socket.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from oxide_io import Client, Timeout
from oxide_io._connect_args import WebSocketConnectOptions, event_socket
from oxide_io._event_handlers import EventHandlers
from oxide_io._options import ClientOptions
from oxide_proto import APIEventError, WebSocketOptions

KEY = "sk-test-0123456789abcdefSECRET"


def client_options(**given: Any) -> ClientOptions:
    with Client(api_key=KEY, base_url="https://api.example.test/v1", **given) as client:
        return client._options


def test_connect_options_are_the_core_options_and_a_timeout() -> None:
    # One list: a name `connect()` takes but the core does not know would be a TypeError.
    declared = set(WebSocketConnectOptions.__annotations__)
    assert declared == {*WebSocketOptions.__slots__, "timeout"}


def test_event_socket_takes_the_client_timeout_unless_given() -> None:
    options = client_options(timeout=Timeout(30, connect=2), default_headers={"X-Team": "a"})
    proto, timeout = event_socket(options, "/realtime", {}, {"model": "m"}, {"OpenAI-Beta": "b"})
    assert timeout == Timeout(30, connect=2)
    assert str(proto.url) == "wss://api.example.test/v1/realtime?model=m"
    headers = {name.lower(): value for name, value in proto.handshake().headers}
    assert headers["x-team"] == "a" and headers["openai-beta"] == "b"
    assert headers["authorization"] == f"Bearer {KEY}"
    proto, timeout = event_socket(
        options, "/responses", {"timeout": 5.0, "max_retries": 3, "reconnect": True}
    )
    assert timeout == Timeout(5.0)
    assert proto.policy.max_retries == 3
    with pytest.raises(TypeError):
        event_socket(options, "/responses", {"max_retries": 3, "retries": 1})  # type: ignore[typeddict-unknown-key]


def test_for_event_picks_the_type_then_every_event_and_drops_once() -> None:
    handlers: EventHandlers[str] = EventHandlers()
    calls: list[str] = []

    def named(tag: str) -> Any:
        return lambda event: calls.append(tag)

    every, delta, first = named("every"), named("delta"), named("first")
    handlers.add("event", every)
    handlers.add("response.output_text.delta", delta)
    handlers.add("response.output_text.delta", first, once=True)
    assert handlers.for_event({"type": "response.output_text.delta"}) == [delta, first, every]
    assert handlers.for_event({"type": "response.output_text.delta"}) == [delta, every]
    assert handlers.for_event({"type": 7}) == [every]
    handlers.remove("event", every)
    assert handlers.for_event({"type": "response.created"}) == []


def test_for_event_raises_an_error_event_nobody_handles() -> None:
    handlers: EventHandlers[str] = EventHandlers()
    error = {"type": "error", "error": {"message": "bad", "code": "invalid"}}
    with pytest.raises(APIEventError, match=r"bad \(code invalid\)") as caught:
        handlers.for_event(error)
    assert caught.value.body == {"message": "bad", "code": "invalid"}
    handlers.add("error", print)
    assert handlers.for_event(error) == [print]
