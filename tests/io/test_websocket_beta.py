"""`client.beta.responses.connect()` and `client.beta.realtime.connect()` against a real server.

Both are the GA connections' sessions under the beta spelling of the official SDK:
the beta Responses socket types its events as the beta classes and adds
`response.inject`; the beta Realtime socket sends `OpenAI-Beta: realtime=v1`,
requires `model` and adds `transcription_session.update`. Each runs in blocking
code, asyncio and trio against `tests/ws_api_server.py`.
"""

from __future__ import annotations

from typing import Any

import pytest

from oxide_proto import UnknownModel, WebSocketConnectionClosedError
from oxide_proto.types import (
    BetaResponsesServerEventBetaResponseTextWsDelta,
    BetaResponsesServerEventBetaResponseWsCompleted,
    RealtimeServerEventSessionCreated,
    RealtimeServerEventSessionUpdated,
)
from tests.io.blocking import unwrap, wrap
from tests.io.leaks import client_sockets
from tests.io.ws_fixtures import KEY, Runtime
from tests.io.ws_fixtures import _ws_api_plain as _ws_api_plain
from tests.io.ws_fixtures import _ws_api_tls as _ws_api_tls
from tests.io.ws_fixtures import ws as ws
from tests.io.ws_fixtures import ws_api as ws_api
from tests.ws_api_server import CloseMid, Text, WsApiServer

pytestmark = pytest.mark.anyio


def beta_responses(ws: Runtime, client: Any, **options: Any) -> Any:
    """`client.beta.responses.connect(...)`, seen through the async API in every runtime."""
    if ws.name == "sync":
        return wrap(unwrap(client).beta.responses.connect(**options))
    return client.beta.responses.connect(**options)


def beta_realtime(ws: Runtime, client: Any, **options: Any) -> Any:
    """`client.beta.realtime.connect(...)`, seen through the async API in every runtime."""
    if ws.name == "sync":
        return wrap(unwrap(client).beta.realtime.connect(**options))
    return client.beta.realtime.connect(**options)


async def test_beta_responses_events_are_the_beta_classes(ws: Runtime, ws_api: WsApiServer) -> None:
    ws_api.script(Text("Hello there", deltas=2))
    client = ws.client(ws_api)
    async with beta_responses(ws, client, extra_query={"lane": "b"}) as conn:
        await conn.response.create(model="gpt-test", input="hi")
        events = []
        async for event in conn:
            events.append(event)
            if event.type == "response.completed":
                break
        await conn.response.inject(input=[{"type": "message"}], response_id="resp_1")
        await conn.response.steer(input="shorter", previous_response_id="resp_1")
        # The server reads in order: once this response is answered, it has the others.
        await conn.response.create(model="gpt-test", input="again")
        async for event in conn:
            if event.type == "response.completed":
                break
    deltas = [e for e in events if isinstance(e, BetaResponsesServerEventBetaResponseTextWsDelta)]
    assert "".join(e.delta for e in deltas) == "Hello there"
    assert isinstance(events[-1], BetaResponsesServerEventBetaResponseWsCompleted)
    assert not any(isinstance(e, UnknownModel) for e in events)
    assert ws_api.paths == ["/v1/responses?lane=b"]
    assert ws_api.handshakes[0]["authorization"] == f"Bearer {KEY}"
    assert [e["type"] for e in ws_api.received] == [
        "response.create",
        "response.inject",
        "response.steer",
        "response.create",
    ]
    assert ws_api.received[1] == {
        "type": "response.inject",
        "input": [{"type": "message"}],
        "response_id": "resp_1",
    }
    assert client_sockets(ws_api.port) == 0


async def test_beta_responses_reopens_after_an_abnormal_close(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    ws_api.script(CloseMid(code=1012), Text("again"))
    seen: list[int] = []
    client = ws.client(ws_api)
    manager = beta_responses(
        ws, client, on_reconnecting=lambda event: seen.append(event.close_code), initial_delay=0.01
    )
    async with manager as conn:
        await conn.response.create(model="gpt-test", input="hi")
        with pytest.raises(WebSocketConnectionClosedError) as caught:
            async for _ in conn:
                pass
        assert caught.value.code == 1012
        await conn.response.create(model="gpt-test", input="again")
        async for event in conn:
            if event.type == "response.completed":
                break
        assert conn.reconnects == 1
    assert seen == [1012]
    assert ws_api.connections == 2
    assert client_sockets(ws_api.port) == 0


async def test_beta_realtime_sends_the_beta_header_and_model(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    client = ws.client(ws_api)
    manager = beta_realtime(
        ws, client, model="gpt-4o-realtime-preview", extra_headers={"X-Trace": "t1"}
    )
    async with manager as conn:
        assert isinstance(await conn.recv(), RealtimeServerEventSessionCreated)
        await conn.session.update(session={"instructions": "be brief"})
        assert isinstance(await conn.recv(), RealtimeServerEventSessionUpdated)
        await conn.transcription_session.update(
            session={"input_audio_transcription": {"model": "whisper-1"}}, event_id="ev_1"
        )
        error = await conn.recv()
        assert error.type == "error"  # this server knows no transcription sessions
    assert ws_api.paths == ["/v1/realtime?model=gpt-4o-realtime-preview"]
    handshake = ws_api.handshakes[0]
    assert handshake["openai-beta"] == "realtime=v1"
    assert handshake["x-trace"] == "t1"
    assert ws_api.received[-1] == {
        "type": "transcription_session.update",
        "event_id": "ev_1",
        "session": {"input_audio_transcription": {"model": "whisper-1"}},
    }
    assert client_sockets(ws_api.port) == 0


async def test_beta_realtime_lets_the_caller_override_the_beta_header(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    client = ws.client(ws_api)
    manager = beta_realtime(
        ws, client, model="gpt-rt", extra_headers={"OpenAI-Beta": "realtime=v2"}
    )
    async with manager as conn:
        await conn.recv()
    assert ws_api.handshakes[0]["openai-beta"] == "realtime=v2"
