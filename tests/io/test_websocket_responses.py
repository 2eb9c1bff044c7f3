"""Responses over one WebSocket, in blocking code, asyncio and trio, against a real server.

The server (`tests/ws_api_server.py`, the `websockets` package on 127.0.0.1)
answers each `response.create` as the test scripted it. Every test checks that
no client socket stays open once the connection is closed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from oxide_io import APITimeoutError, MalformedEventError, OpenAIError
from oxide_proto import (
    APIEventError,
    LimitExceededError,
    ReconnectPolicy,
    ResponseFailedError,
    ResponseIncompleteError,
    ResponseTooLargeError,
    UnknownModel,
    WebSocketConnectionClosedError,
)
from oxide_proto.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseTextDeltaEvent,
)
from tests.io.leaks import client_sockets
from tests.io.ws_fixtures import KEY, Runtime
from tests.io.ws_fixtures import _ws_api_plain as _ws_api_plain
from tests.io.ws_fixtures import _ws_api_tls as _ws_api_tls
from tests.io.ws_fixtures import ws as ws
from tests.io.ws_fixtures import ws_api as ws_api
from tests.io.ws_fixtures import wss_api as wss_api
from tests.ws_api_server import (
    CloseMid,
    ErrorEvent,
    Failed,
    Incomplete,
    Malformed,
    Oversize,
    Stall,
    Text,
    ToolCall,
    WsApiServer,
)

pytestmark = pytest.mark.anyio

TOOLS = [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]


def creates(server: WsApiServer) -> list[dict[str, Any]]:
    return [event for event in server.received if event.get("type") == "response.create"]


@pytest.mark.parametrize("tls", [False, True], ids=["ws", "wss"])
async def test_twenty_tool_calls_share_one_connection(
    ws: Runtime, ws_api: WsApiServer, wss_api: WsApiServer, tls: bool
) -> None:
    server = wss_api if tls else ws_api
    server.script(*[ToolCall(arguments=json.dumps({"step": i})) for i in range(19)], Text("done"))
    client = ws.client(server, organization="org-1", project="proj-1")
    async with ws.responses_session(client) as session:
        previous: str | None = None
        ids: list[str] = []
        tool_input: list[dict[str, Any]] | str = "start the loop"
        for step in range(20):
            response = await session.send(
                model="gpt-test", input=tool_input, tools=TOOLS, previous_response_id=previous
            )
            assert isinstance(response, Response)
            assert response.status == "completed"
            previous = response.id
            ids.append(response.id)
            item = response.output[0]
            if step < 19:
                assert item.type == "function_call"
                assert json.loads(item.arguments) == {"step": step}
                tool_input = [
                    {"type": "function_call_output", "call_id": item.call_id, "output": "sunny"}
                ]
            else:
                assert item.type == "message"
                assert item.content[0].text == "done"
        assert client_sockets(server.port) == 1
    assert client_sockets(server.port) == 0
    assert server.connections == 1
    sent = creates(server)
    assert len(sent) == 20
    assert sent[0]["previous_response_id"] is None
    assert [event["previous_response_id"] for event in sent[1:]] == ids[:-1]
    assert sent[1]["input"][0]["type"] == "function_call_output"
    handshake = server.handshakes[0]
    assert handshake["authorization"] == f"Bearer {KEY}"
    assert handshake["openai-organization"] == "org-1"
    assert handshake["openai-project"] == "proj-1"
    assert handshake["user-agent"].startswith("oxide/")
    assert server.paths[0] == "/v1/responses"


async def test_official_spelling_events_and_steer(ws: Runtime, ws_api: WsApiServer) -> None:
    ws_api.script(Text("Hello there", deltas=3))
    client = ws.client(ws_api)
    async with ws.connect_responses(client) as conn:
        await conn.response.create(model="gpt-test", input="hi")
        events = []
        async for event in conn:
            events.append(event)
            if event.type == "response.completed":
                break
        await conn.response.steer(input="also this", previous_response_id="resp_x")
        await conn.send({"type": "response.create", "model": "gpt-test", "input": "again"})
        event = await conn.recv()
        assert isinstance(event, ResponseCreatedEvent)
        while not isinstance(event, ResponseCompletedEvent):
            event = await conn.recv()
    assert isinstance(events[0], ResponseCreatedEvent)
    assert isinstance(events[-1], ResponseCompletedEvent)
    deltas = [e.delta for e in events if isinstance(e, ResponseTextDeltaEvent)]
    assert "".join(deltas) == "Hello there"
    assert ws_api.received[0] == {"type": "response.create", "model": "gpt-test", "input": "hi"}
    assert ws_api.received[1] == {
        "type": "response.steer",
        "input": "also this",
        "previous_response_id": "resp_x",
    }
    assert client_sockets(ws_api.port) == 0


async def test_send_stream_yields_one_response(ws: Runtime, ws_api: WsApiServer) -> None:
    ws_api.script(Text("abcdef", deltas=3), Text("second"))
    client = ws.client(ws_api)
    async with ws.responses_session(client) as session:
        stream = await session.send_stream(model="gpt-test", input="x")
        kinds = [event.type async for event in stream]
        assert kinds[0] == "response.created"
        assert kinds[-1] == "response.completed"
        assert kinds.count("response.output_text.delta") == 3
        response = await session.send({"model": "gpt-test", "input": "y"})
        assert response.output[0].content[0].text == "second"


async def test_abandoned_stream_is_skipped_before_the_next_request(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    ws_api.script(Text("first answer", deltas=6), Text("second answer"))
    client = ws.client(ws_api)
    async with ws.responses_session(client) as session:
        stream = await session.send_stream(model="gpt-test", input="x")
        async for event in stream:
            if event.type == "response.output_text.delta":
                break
        response = await session.send(model="gpt-test", input="y")
        assert response.output[0].content[0].text == "second answer"


async def test_error_event_is_a_typed_error_and_the_connection_stays(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    ws_api.script(ErrorEvent(code="previous_response_not_found", message="no such response"))
    client = ws.client(ws_api)
    async with ws.responses_session(client) as session:
        with pytest.raises(APIEventError) as caught:
            await session.send(model="gpt-test", input="x", previous_response_id="resp_gone")
        assert caught.value.code == "previous_response_not_found"
        assert "no such response" in str(caught.value)
        response = await session.send(model="gpt-test", input="again")
        assert response.status == "completed"
    assert ws_api.connections == 1


async def test_error_event_in_a_stream(ws: Runtime, ws_api: WsApiServer) -> None:
    ws_api.script(ErrorEvent())
    client = ws.client(ws_api)
    async with ws.responses_session(client) as session:
        stream = await session.send_stream(model="gpt-test", input="x")
        with pytest.raises(APIEventError):
            async for _ in stream:
                pass


async def test_failed_and_incomplete_responses(ws: Runtime, ws_api: WsApiServer) -> None:
    ws_api.script(Failed("overloaded"), Incomplete("max_output_tokens"))
    client = ws.client(ws_api)
    async with ws.responses_session(client) as session:
        with pytest.raises(ResponseFailedError) as failed:
            await session.send(model="gpt-test", input="x")
        assert "overloaded" in str(failed.value)
        assert failed.value.response.status == "failed"
        with pytest.raises(ResponseIncompleteError) as incomplete:
            await session.send(model="gpt-test", input="x")
        assert incomplete.value.reason == "max_output_tokens"


async def test_server_closing_mid_response(ws: Runtime, ws_api: WsApiServer) -> None:
    ws_api.script(CloseMid(1011))
    client = ws.client(ws_api)
    async with ws.responses_session(client) as session:
        with pytest.raises(WebSocketConnectionClosedError) as caught:
            await session.send(model="gpt-test", input="x")
        assert caught.value.code == 1011
        # Without reconnect, the connection stays down.
        with pytest.raises(WebSocketConnectionClosedError):
            await session.send(model="gpt-test", input="y")
    assert client_sockets(ws_api.port) == 0
    assert len(creates(ws_api)) == 1


@pytest.mark.parametrize("code", [None, 1011], ids=["dropped", "1011"])
async def test_reconnect_after_abnormal_close_never_replays(
    ws: Runtime, ws_api: WsApiServer, code: int | None
) -> None:
    ws_api.script(CloseMid(code), Text("after reconnect"))
    client = ws.client(ws_api)
    policy = ReconnectPolicy(max_retries=3, initial_delay=0.01, max_delay=0.05)
    async with ws.responses_session(client, reconnect=policy) as session:
        with pytest.raises(WebSocketConnectionClosedError) as caught:
            await session.send(model="gpt-test", input="in flight")
        assert caught.value.code == (1006 if code is None else code)
        response = await session.send(model="gpt-test", input="next")
        assert response.output[0].content[0].text == "after reconnect"
        assert session.connection.reconnects == 1
    assert ws_api.connections == 2
    assert [event["input"] for event in creates(ws_api)] == ["in flight", "next"]
    assert client_sockets(ws_api.port) == 0


async def test_malformed_json_is_a_typed_error(ws: Runtime, ws_api: WsApiServer) -> None:
    ws_api.script(Malformed())
    client = ws.client(ws_api)
    async with ws.responses_session(client) as session:
        with pytest.raises(MalformedEventError) as caught:
            await session.send(model="gpt-test", input="x")
        assert "not valid JSON" in str(caught.value)
    assert client_sockets(ws_api.port) == 0


async def test_a_server_that_stops_answering_times_out(ws: Runtime, ws_api: WsApiServer) -> None:
    ws_api.script(Stall(), Text("still here"))
    client = ws.client(ws_api)
    async with ws.responses_session(client, timeout=0.5) as session:
        with pytest.raises(APITimeoutError):
            await session.send(model="gpt-test", input="x")
        # The connection itself is fine: the next request is answered.
        response = await session.send(model="gpt-test", input="y")
        assert response.output[0].content[0].text == "still here"
    assert client_sockets(ws_api.port) == 0


async def test_keepalive_pings_while_waiting(ws: Runtime, ws_api: WsApiServer) -> None:
    ws_api.script(Stall())
    client = ws.client(ws_api)
    async with ws.responses_session(
        client, timeout=0.6, keepalive_interval=0.05, keepalive_timeout=5.0
    ) as session:
        with pytest.raises(APITimeoutError):
            await session.send(model="gpt-test", input="x")
        response = await session.send(model="gpt-test", input="y")
        assert response.status == "completed"


async def test_oversize_message_is_refused(ws: Runtime, ws_api: WsApiServer) -> None:
    ws_api.script(Oversize(2 * 1024 * 1024))
    client = ws.client(ws_api)
    async with ws.responses_session(client, max_message_size=1024 * 1024) as session:
        with pytest.raises(ResponseTooLargeError) as caught:
            await session.send(model="gpt-test", input="x")
        assert caught.value.limit == 1024 * 1024
        assert caught.value.limit_name == "max_message_size"
        assert isinstance(caught.value.__cause__, LimitExceededError)
        with pytest.raises(WebSocketConnectionClosedError) as closed:
            await session.send(model="gpt-test", input="y")
        assert closed.value.code == 1009
    assert client_sockets(ws_api.port) == 0


async def test_websocket_base_url_and_unknown_events(ws: Runtime, ws_api: WsApiServer) -> None:
    client = ws.client(ws_api, base_url="http://127.0.0.1:9/unused", **_ws_base(ws_api))
    async with ws.connect_responses(client, extra_query={"lane": "a"}) as conn:
        await conn.send({"type": "response.create", "model": "gpt-test", "input": "x"})
        first = await conn.recv()
        assert first.type == "response.created"
        event = conn.parse_event('{"type": "response.steer.accepted", "input_id": "in_1"}')
        assert isinstance(event, UnknownModel)
        assert event.raw["input_id"] == "in_1"
    assert ws_api.paths[0] == "/v1/responses?lane=a"


async def test_an_event_json_cannot_carry_is_refused_before_it_is_sent(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    client = ws.client(ws_api)
    async with ws.connect_responses(client) as conn:
        with pytest.raises(ValueError, match=r"body\.temperature is nan"):
            await conn.send({"type": "response.create", "temperature": float("nan")})
        await conn.send({"type": "response.create", "model": "gpt-test", "input": "x"})
        assert (await conn.recv()).type == "response.created"
    assert [e["type"] for e in ws_api.received] == ["response.create"]


async def test_refused_connection_is_a_typed_error(ws: Runtime, ws_api: WsApiServer) -> None:
    from tests.servers import free_port

    client = ws.client(ws_api, base_url=f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(OpenAIError):
        async with ws.connect_responses(client):
            pass


def _ws_base(server: WsApiServer) -> dict[str, str]:
    return {"websocket_base_url": server.websocket_base_url}
