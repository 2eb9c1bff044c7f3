"""Event handlers on the WebSocket connections (`on`, `off`, `once`, `dispatch_events`).

The official SDK's Responses and Realtime connections, and their managers before
connecting, take handlers by event type; `dispatch_events()` reads until the
connection closes. Run in blocking code, asyncio and trio against the real
server; an async connection also takes async handlers.
"""

from __future__ import annotations

from typing import Any

import pytest

from oxide_io import OpenAIError
from oxide_proto import APIEventError, WebSocketConnectionClosedError, WebSocketQueueFullError
from oxide_proto.types.realtime import RealtimeClientEventSessionUpdate
from oxide_proto.types.responses import ResponseTextDeltaEvent
from tests.io.blocking import unwrap, wrap
from tests.io.leaks import client_sockets
from tests.io.ws_fixtures import Runtime
from tests.io.ws_fixtures import _ws_api_plain as _ws_api_plain
from tests.io.ws_fixtures import _ws_api_tls as _ws_api_tls
from tests.io.ws_fixtures import ws as ws
from tests.io.ws_fixtures import ws_api as ws_api
from tests.io.ws_fixtures import wss_api as wss_api
from tests.ws_api_server import CloseWhenIdle, ErrorEvent, Text, WsApiServer

pytestmark = pytest.mark.anyio


class Stop(Exception):
    """Raised by a handler to end `dispatch_events` (the Realtime server never closes)."""


async def test_responses_handlers_by_type_every_event_and_once(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    # A normal close after the answer ends the dispatch quietly.
    ws_api.script(CloseWhenIdle(code=1000, after=0.0, text="Hello there"))
    client = ws.client(ws_api)
    deltas: list[str] = []
    kinds: list[str] = []
    firsts: list[str] = []
    removed: list[str] = []

    def on_delta(event: Any) -> None:
        assert isinstance(event, ResponseTextDeltaEvent)
        deltas.append(event.delta)

    def never(event: Any) -> None:
        removed.append(event.type)

    async with ws.connect_responses(client) as conn:
        assert conn.on("response.output_text.delta", on_delta) is not None
        conn.once("event", lambda event: firsts.append(event.type))
        conn.on("response.completed", never).off("response.completed", never)

        @conn.on("event")
        def every(event: Any) -> None:
            kinds.append(event.type)

        await conn.response.create(model="gpt-test", input="hi")
        await conn.dispatch_events()
    assert "".join(deltas) == "Hello there"
    assert kinds[0] == "response.created"
    assert kinds[-1] == "response.completed"
    assert kinds.count("response.output_text.delta") == len(deltas) == 3
    assert firsts == ["response.created"]
    assert removed == []
    assert client_sockets(ws_api.port) == 0


async def test_handlers_registered_on_the_manager_move_to_the_connection(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    ws_api.script(CloseWhenIdle(code=1000, after=0.0))
    client = ws.client(ws_api)
    done: list[str] = []
    manager = ws.connect_responses(client)
    manager.on("response.completed", lambda event: done.append(event.response.id))
    async with manager as conn:
        await conn.response.create(model="gpt-test", input="hi")
        await conn.dispatch_events()
    assert len(done) == 1


async def test_events_sent_to_the_manager_go_first_once_it_is_entered(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    client = ws.client(ws_api)
    done: list[str] = []

    def on_completed(event: Any) -> None:
        done.append(event.response.id)
        if len(done) == 3:
            raise Stop

    manager = ws.connect_responses(client)
    assert not hasattr(unwrap(manager), "recv"), "nothing to receive before entering"
    # As the official SDK's managers: `send` queues (a plain call in async code too).
    unwrap(manager).send({"type": "response.create", "model": "gpt-test", "input": "first"})
    manager.on("response.completed", on_completed)
    assert ws_api.connections == 0, "queued: nothing is opened before entering"
    ws_api.received.clear()
    async with manager as conn:
        unwrap(manager).send({"type": "response.create", "model": "gpt-test", "input": "second"})
        await conn.response.create(model="gpt-test", input="third")
        with pytest.raises(Stop):
            await conn.dispatch_events()
    sent = [event["input"] for event in ws_api.received if event.get("type") == "response.create"]
    assert sent == ["first", "second", "third"]


async def test_the_manager_and_the_connection_take_event_models(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    # As the official SDK's: a client event may be a model, sent as the keys it holds.
    update = RealtimeClientEventSessionUpdate.model_validate(
        {"type": "session.update", "session": {"type": "realtime", "instructions": "queued"}}
    )
    again = RealtimeClientEventSessionUpdate.model_validate(
        {"type": "session.update", "session": {"type": "realtime", "instructions": "sent"}}
    )
    client = ws.client(ws_api)
    manager = ws.connect_realtime(client, model="gpt-realtime")
    with pytest.raises(TypeError, match="a client event is a dict or an event model, not list"):
        unwrap(manager).send([("type", "session.update")])
    unwrap(manager).send(update)
    ws_api.received.clear()
    async with manager as conn:
        await conn.send(again)
        seen = []
        while len(seen) < 2:
            event = await conn.recv()
            if event.type == "session.updated":
                seen.append(event.session.instructions)
    assert seen == ["queued", "sent"]
    updates = [e for e in ws_api.received if e["type"] == "session.update"]
    # Only the keys given: no `event_id: null`, nor the session's unset fields.
    assert updates == [
        {"type": "session.update", "session": {"type": "realtime", "instructions": "queued"}},
        {"type": "session.update", "session": {"type": "realtime", "instructions": "sent"}},
    ]


async def test_the_managers_queue_is_bounded_in_bytes(ws: Runtime, ws_api: WsApiServer) -> None:
    ws_api.script(CloseWhenIdle(code=1000, after=0.0))
    client = ws.client(ws_api)
    manager = unwrap(ws.connect_responses(client, max_queue_size=150))
    event = {"type": "response.create", "model": "gpt-test", "input": "x" * 40}
    manager.send(event)  # 96 bytes of JSON
    with pytest.raises(WebSocketQueueFullError, match="96 of 150 bytes") as caught:
        manager.send(event)
    assert isinstance(caught.value, OpenAIError)
    ws_api.received.clear()
    async with wrap(manager) if ws.name == "sync" else manager as conn:
        # Read until the server's close: its answer shows it has recorded the event
        # (the Close handshake alone can finish before the server reads its buffer).
        await conn.dispatch_events()
    assert [e["input"] for e in ws_api.received if e.get("type") == "response.create"] == ["x" * 40]
    with pytest.raises(WebSocketConnectionClosedError):
        manager.send(event)  # closed: nothing more to queue


async def test_an_unhandled_error_event_raises(ws: Runtime, ws_api: WsApiServer) -> None:
    ws_api.script(ErrorEvent(code="bad_thing", message="that was wrong"))
    client = ws.client(ws_api)
    async with ws.connect_responses(client) as conn:
        conn.on("response.completed", lambda event: None)
        await conn.response.create(model="gpt-test", input="hi")
        with pytest.raises(APIEventError) as caught:
            await conn.dispatch_events()
    assert isinstance(caught.value, OpenAIError)
    assert caught.value.code == "bad_thing"
    assert "that was wrong" in str(caught.value)


@pytest.mark.parametrize("handled_by", ["error", "event"])
async def test_a_handled_error_event_does_not_raise(
    ws: Runtime, ws_api: WsApiServer, handled_by: str
) -> None:
    ws_api.script(ErrorEvent(), CloseWhenIdle(code=1000, after=0.0))
    client = ws.client(ws_api)
    seen: list[str] = []
    async with ws.connect_responses(client) as conn:
        conn.on(handled_by, lambda event: seen.append(event.type))
        await conn.response.create(model="gpt-test", input="bad")
        await conn.response.create(model="gpt-test", input="good")
        await conn.dispatch_events()
    assert seen[0] == "error"
    if handled_by == "event":
        assert seen[-1] == "response.completed"


async def test_an_abnormal_close_ends_the_dispatch_with_the_error(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    ws_api.script(CloseWhenIdle(code=1011, after=0.0))
    client = ws.client(ws_api)
    async with ws.connect_responses(client) as conn:
        await conn.response.create(model="gpt-test", input="hi")
        with pytest.raises(WebSocketConnectionClosedError) as caught:
            await conn.dispatch_events()
    assert caught.value.code == 1011


async def test_async_handlers_are_awaited(ws: Runtime, ws_api: WsApiServer) -> None:
    if ws.name == "sync":
        pytest.skip("the blocking connection calls handlers; async ones are for AsyncClient")
    ws_api.script(CloseWhenIdle(code=1000, after=0.0), Text("second"))
    client = ws.client(ws_api)
    texts: list[str] = []
    async with ws.connect_responses(client) as conn:

        async def on_completed(event: Any) -> None:
            texts.append(event.response.output[0].content[0].text)

        conn.on("response.completed", on_completed)
        conn.on("response.created", lambda event: texts.append("created"))
        await conn.response.create(model="gpt-test", input="hi")
        await conn.dispatch_events()
    assert texts == ["created", "echo: hi"]


async def test_realtime_handlers(ws: Runtime, ws_api: WsApiServer) -> None:
    client = ws.client(ws_api)
    seen: list[str] = []
    async with ws.connect_realtime(client, model="gpt-realtime") as conn:

        @conn.on("session.created")
        def created(event: Any) -> None:
            seen.append(event.session.id)

        def updated(event: Any) -> None:
            seen.append(event.session.instructions)
            raise Stop

        conn.on("session.updated", updated)
        await conn.session.update(session={"type": "realtime", "instructions": "be brief"})
        with pytest.raises(Stop):
            await conn.dispatch_events()
        # An error event with no handler for it (nor for every event) raises.
        await conn.send({"type": "no.such.event"})
        with pytest.raises(APIEventError) as caught:
            await conn.dispatch_events()
        assert caught.value.code == "unknown_event"
    assert seen == ["sess_1", "be brief"]
