"""The embedded server's Responses WebSocket, through `responses.session()` and `connect()`.

Blocking code, asyncio and trio: each `response.create` gets the events of a
streamed `POST /v1/responses` (the same reply, forced tool calls included), a
refused key an `error` event that raises a typed error, and every message is in
the request log as a `POST /v1/responses` over ``"websocket"``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from oxide_io import APITimeoutError
from oxide_io.testing import Delay, MockServer, default_reply
from oxide_proto import APIEventError, responses_function_tool
from tests.io.blocking import unwrap, wrap
from tests.io.conftest import MakeClient, Setup

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MODEL = "gpt-4o-mini"


@dataclasses.dataclass
class Weather:
    city: str


def _session(client: Any, runtime: str) -> Any:
    return (
        wrap(unwrap(client).responses.session())
        if runtime == "sync"
        else client.responses.session()
    )


async def test_session_sends_and_continues(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    client = make_client(mock)
    async with _session(client, runtime) as session:
        first = await session.send(model=MODEL, input="Plan the trip")
        assert first.output_text == default_reply({"input": "Plan the trip"})
        tools = [responses_function_tool(Weather)]
        second = await session.send(
            model=MODEL,
            input="Weather?",
            tools=tools,
            tool_choice="required",
            previous_response_id=first.id,
        )
    (call,) = second.output
    assert call.type == "function_call" and json.loads(call.arguments) == {"city": "text"}
    logged = mock.server.requests
    assert [(r.method, r.path, r.http_version) for r in logged] == [
        ("POST", "/v1/responses", "websocket")
    ] * 2
    assert logged[1].json["previous_response_id"] == first.id


async def test_connect_iterates_the_events(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    client = make_client(mock)
    manager = (
        wrap(unwrap(client).responses.connect())
        if runtime == "sync"
        else client.responses.connect()
    )
    kinds: list[str] = []
    async with manager as connection:
        await connection.response.create(model=MODEL, input="Hi")
        async for event in connection:
            kinds.append(event.type)
            if event.type == "response.completed":
                break
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert "response.output_text.delta" in kinds


async def test_a_refused_key_is_an_error_event(make_client: MakeClient, runtime: str) -> None:
    with MockServer(api_key="sk-right-0123456789") as server:
        client = make_client(base_url=server.base_url, api_key="sk-wrong-0123456789")
        with pytest.raises(APIEventError, match="Incorrect API key"):
            async with _session(client, runtime) as session:
                await session.send(model=MODEL, input="x")
        await client.aclose()


async def test_a_delay_holds_the_reply(mock: Setup, make_client: MakeClient, runtime: str) -> None:
    # The reply is held 2 s: a read that gives up after 0.05 s sees nothing yet, the
    # next one (the default timeout) gets the whole reply.
    mock.server.enqueue(Delay(2.0, times=1))
    client = make_client(mock)
    manager = (
        wrap(unwrap(client).responses.connect())
        if runtime == "sync"
        else client.responses.connect()
    )
    async with manager as connection:
        await connection.response.create(model=MODEL, input="Hi")
        with pytest.raises(APITimeoutError):
            await connection.recv(timeout=0.05)
        event = await connection.recv()
        assert event.type == "response.created"
