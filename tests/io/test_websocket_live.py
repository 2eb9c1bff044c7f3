"""The Live sockets (`live.connect`, `live.forks.connect`, `live.sideband.connect`) and
`realtime.translations.connect` against a real server, in blocking code, asyncio and trio.

The server is `tests/ws_api_server.py` (its Live and translation endpoints are in
`tests/ws_live_server.py`). Each test checks what went over the wire (the
handshake's path and headers, the client events as JSON) and what came back
(typed server events), through `oxide_io` and through `oxide_io.compat`.
"""

from __future__ import annotations

import base64
import functools
from typing import Any

import pytest

from oxide_io import AsyncClient
from oxide_io.compat import AsyncOpenAI, OpenAI
from oxide_proto import UnknownModel, WebSocketConnectionClosedError
from oxide_proto.types import (
    ConnectServerEventTransportDtmfSent,
    DecisionItemCreatedEvent,
    DecisionItemDeletedEvent,
    InputAudioMutedEvent,
    InputAudioUnmutedEvent,
    InputTranscriptDeltaEvent,
    InstructionsAppendedEvent,
    LiveErrorEvent,
    LiveSessionUpdatedEvent,
    OutputAudioDeltaEvent,
    OutputAudioFixturePlayedEvent,
    OutputAudioFixturePlayingEvent,
    RealtimeTranslationServerEventSessionClosed,
    RealtimeTranslationServerEventSessionCreated,
    RealtimeTranslationServerEventSessionOutputAudioDelta,
    RealtimeTranslationServerEventSessionOutputTranscriptDelta,
    RealtimeTranslationServerEventSessionUpdated,
    ResponseEvent,
    SessionClosedEvent,
    SessionStartedEvent,
    ThinkingAppendedEvent,
)
from tests.io.blocking import Blocking, unwrap, wrap
from tests.io.leaks import client_sockets
from tests.io.ws_fixtures import KEY, Runtime
from tests.io.ws_fixtures import _ws_api_plain as _ws_api_plain
from tests.io.ws_fixtures import _ws_api_tls as _ws_api_tls
from tests.io.ws_fixtures import ws as ws
from tests.io.ws_fixtures import ws_api as ws_api
from tests.io.ws_fixtures import wss_api as wss_api
from tests.ws_api_server import WsApiServer

pytestmark = pytest.mark.anyio


def connect(ws: Runtime, client: Any, dotted: str, *args: Any, **options: Any) -> Any:
    """`client.<dotted>(*args, **options)`, seen through the async API in every runtime."""
    sync = ws.name == "sync"
    target = functools.reduce(getattr, dotted.split("."), unwrap(client) if sync else client)
    manager = target(*args, **options)
    return wrap(manager) if sync else manager


async def test_live_session_commands_and_events(
    ws: Runtime, ws_api: WsApiServer, wss_api: WsApiServer
) -> None:
    for server in (ws_api, wss_api):
        client = ws.client(server)
        async with connect(ws, client, "live.connect") as conn:
            await conn.session.start(session={"model": "gpt-live"}, event_id="c1")
            started = await conn.recv()
            assert isinstance(started, SessionStartedEvent)
            assert started.session.id == "lsess_1"
            assert started.client_event_id == "c1"
            await conn.session.update(session={"instructions": "be brief"})
            assert isinstance(await conn.recv(), LiveSessionUpdatedEvent)
            await conn.send_audio(b"\x01\x02" * 5000, chunk_size=4000)
            deltas = [await conn.recv() for _ in range(3)]
            assert all(isinstance(d, InputTranscriptDeltaEvent) for d in deltas)
            assert [d.delta for d in deltas] == ["4000 bytes", "4000 bytes", "2000 bytes"]
            await conn.session.input_audio.mute()
            assert isinstance(await conn.recv(), InputAudioMutedEvent)
            await conn.session.input_audio.unmute()
            assert isinstance(await conn.recv(), InputAudioUnmutedEvent)
            await conn.session.instructions.append(content="say hi", delegation_id=None)
            appended = await conn.recv()
            assert isinstance(appended, InstructionsAppendedEvent)
            assert (appended.start_ms, appended.end_ms) == (10_000, 10_006)
            await conn.session.thinking.append(content="hmm", delegation_id="del_1")
            assert isinstance(await conn.recv(), ThinkingAppendedEvent)
            clip = base64.b64encode(b"\x00" * 64).decode()
            await conn.session.output_audio.fixture.play(audio=clip)
            playing, delta, played = [await conn.recv() for _ in range(3)]
            assert isinstance(playing, OutputAudioFixturePlayingEvent)
            assert isinstance(delta, OutputAudioDeltaEvent) and delta.delta == clip
            assert isinstance(played, OutputAudioFixturePlayedEvent)
            item = {"type": "message", "role": "user", "content": "hello"}
            await conn.decision.item.create(item=item)
            created = await conn.recv()
            assert isinstance(created, DecisionItemCreatedEvent)
            await conn.decision.item.delete(item_id="ditem_1")
            assert isinstance(await conn.recv(), DecisionItemDeletedEvent)
            await conn.response.item.create(item={"type": "message", "role": "user"})
            response_event = await conn.recv()
            assert isinstance(response_event, ResponseEvent)
            assert response_event.event["type"] == "response.input_item.added"
            await conn.decision.create(event_id="d1")
            error = await conn.recv()
            # The test server evaluates no decisions: an error event, and the session goes on.
            assert isinstance(error, LiveErrorEvent)
            assert error.error.code == "unknown_event"
            assert error.client_event_id == "d1"
            await conn.session.close()
            closed = [event async for event in conn]
            assert len(closed) == 1 and isinstance(closed[0], SessionClosedEvent)
            assert closed[0].reason == "close_requested"
            assert closed[0].session.id == "lsess_1"
        assert client_sockets(server.port) == 0
        assert server.paths == ["/v1/live/sessions"]
        assert server.handshakes[0]["authorization"] == f"Bearer {KEY}"
        sent = server.received
        assert sent[0] == {
            "type": "session.start",
            "session": {"model": "gpt-live"},
            "event_id": "c1",
        }
        assert sent[7] == {
            "type": "session.instructions.append",
            "content": "say hi",
            "delegation_id": None,
        }
        assert [e["type"] for e in sent[8:]] == [
            "session.thinking.append",
            "session.output_audio.fixture.play",
            "decision.item.create",
            "decision.item.delete",
            "response.item.create",
            "decision.create",
            "session.close",
        ]


async def test_live_fork_starts_from_the_stored_session(ws: Runtime, ws_api: WsApiServer) -> None:
    client = ws.client(ws_api)
    manager = connect(ws, client, "live.forks.connect", session_id="lsess 9/x")
    async with manager as conn:
        await conn.session.input_audio.append(audio="AAAA")
        refused = await conn.recv()
        assert isinstance(refused, LiveErrorEvent)
        assert refused.error.code == "session_not_started"
        await conn.session.start(session={})
        started = await conn.recv()
        assert isinstance(started, SessionStartedEvent)
        assert started.session.id == "lsess%209%2Fx"
        await conn.session.commentary.append(content="on it", delegation_id=None)
        assert (await conn.recv()).type == "session.commentary.appended"
    # The id is one path segment, escaped.
    assert ws_api.paths == ["/v1/live/sessions/lsess%209%2Fx/fork"]
    assert client_sockets(ws_api.port) == 0


async def test_live_sideband_attaches_sends_dtmf_and_passes_graceful_close(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    client = ws.client(ws_api)
    manager = connect(
        ws,
        client,
        "live.sideband.connect",
        session_id="lsess_7",
        graceful_close=True,
        extra_query={"lane": "b"},
        extra_headers={"X-Trace": "t1"},
    )
    async with manager as conn:
        assert not hasattr(conn.session, "start")
        assert not hasattr(conn.session.input_audio, "append")
        await conn.transport.dtmf.send(event="5", event_id="k1")
        sent = await conn.recv()
        assert isinstance(sent, ConnectServerEventTransportDtmfSent)
        assert (sent.event, sent.client_event_id) == ("5", "k1")
        await conn.session.update(session={"triggers": []})
        assert (await conn.recv()).type == "session.updated"
        await conn.send({"type": "session.brand_new"})
        assert isinstance(await conn.recv(), LiveErrorEvent)
    assert ws_api.paths == ["/v1/live/sessions/lsess_7/attach?graceful_close=true&lane=b"]
    assert ws_api.handshakes[0]["x-trace"] == "t1"
    assert client_sockets(ws_api.port) == 0


async def test_unknown_live_event_types_decode_to_unknown_model(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    client = ws.client(ws_api)
    async with connect(ws, client, "live.connect") as conn:
        event = conn.parse_event('{"type": "session.something_new", "x": 1}')
        assert isinstance(event, UnknownModel)
        assert event.type == "session.something_new"


async def test_translation_session_round_trip(ws: Runtime, ws_api: WsApiServer) -> None:
    client = ws.client(ws_api)
    pcm = bytes(range(200)) * 24
    async with connect(ws, client, "realtime.translations.connect", "gpt-translate") as conn:
        created = await conn.recv()
        assert isinstance(created, RealtimeTranslationServerEventSessionCreated)
        await conn.session.update(session={"audio": {"output": {"language": "fr"}}})
        updated = await conn.recv()
        assert isinstance(updated, RealtimeTranslationServerEventSessionUpdated)
        await conn.send_audio(pcm, chunk_size=2400)
        audio = b""
        for _ in range(2):
            transcript = await conn.recv()
            assert isinstance(
                transcript, RealtimeTranslationServerEventSessionOutputTranscriptDelta
            )
            assert transcript.delta == "2400 bytes"
            delta = await conn.recv()
            assert isinstance(delta, RealtimeTranslationServerEventSessionOutputAudioDelta)
            audio += base64.b64decode(delta.delta)
        assert audio == pcm
        await conn.session.close(event_id="bye")
        events = [event async for event in conn]
        assert len(events) == 1
        assert isinstance(events[0], RealtimeTranslationServerEventSessionClosed)
    assert ws_api.paths == ["/v1/realtime/translations?model=gpt-translate"]
    assert ws_api.received[0] == {
        "type": "session.update",
        "session": {"audio": {"output": {"language": "fr"}}},
    }
    assert ws_api.received[-1] == {"type": "session.close", "event_id": "bye"}
    assert client_sockets(ws_api.port) == 0


async def test_reconnecting_follows_the_sdk_arguments(ws: Runtime, ws_api: WsApiServer) -> None:
    client = ws.client(ws_api)
    seen: list[int] = []
    # Positionally, as the SDK's signature allows: extra_query, extra_headers,
    # websocket_connection_options, on_reconnecting, max_retries, initial_delay.
    manager = connect(
        ws,
        client,
        "realtime.translations.connect",
        "gpt-translate",
        {"lane": "r"},
        {"X-Trace": "t2"},
        {"max_size": 1 << 20, "ping_interval": None, "compression": None},
        lambda event: seen.append(event.close_code),
        3,
        0.01,
    )
    async with manager as conn:
        assert (await conn.recv()).type == "session.created"
        await conn.send({"type": "test.close", "code": 1012})
        with pytest.raises(WebSocketConnectionClosedError) as caught:
            async for _ in conn:
                pass
        assert caught.value.code == 1012
        await conn.session.update(session={})
        kinds = [(await conn.recv()).type for _ in range(2)]
        assert kinds == ["session.created", "session.updated"]
        assert conn.reconnects == 1
    assert seen == [1012]
    assert ws_api.paths == ["/v1/realtime/translations?model=gpt-translate&lane=r"] * 2
    assert [h["x-trace"] for h in ws_api.handshakes] == ["t2", "t2"]
    assert client_sockets(ws_api.port) == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"websocket_connection_options": {"ssl": None}}, "'ssl' is not supported"),
        ({"websocket_connection_options": {"compression": "deflate"}}, "does not compress"),
        (
            {"websocket_connection_options": {"max_size": 10}, "max_message_size": 10},
            "given twice",
        ),
        ({"max_queue_size": 0}, "max_queue_size must be positive"),
    ],
)
async def test_unsupported_websocket_options_are_refused(
    ws: Runtime, ws_api: WsApiServer, options: dict[str, Any], message: str
) -> None:
    client = ws.client(ws_api)
    with pytest.raises((TypeError, ValueError), match=message):
        connect(ws, client, "live.connect", **options)
    assert ws_api.connections == 0


async def test_the_compat_clients_connect_too(ws: Runtime, ws_api: WsApiServer) -> None:
    if ws.name == "sync":
        client: Any = Blocking(OpenAI(api_key=KEY, base_url=ws_api.base_url))
    else:
        client = AsyncOpenAI(api_key=KEY, base_url=ws_api.base_url)
        assert isinstance(client, AsyncClient)
    ws.made.append(client)
    async with connect(ws, client, "live.sideband.connect", session_id="lsess_2") as conn:
        await conn.session.input_audio.mute(event_id="m1")
        muted = await conn.recv()
        assert isinstance(muted, InputAudioMutedEvent)
    async with connect(ws, client, "live.forks.connect", session_id="lsess_2") as conn:
        await conn.session.start(session={})
        assert isinstance(await conn.recv(), SessionStartedEvent)
    async with connect(ws, client, "realtime.translations.connect", model="m") as conn:
        assert isinstance(await conn.recv(), RealtimeTranslationServerEventSessionCreated)
    assert ws_api.paths == [
        "/v1/live/sessions/lsess_2/attach",
        "/v1/live/sessions/lsess_2/fork",
        "/v1/realtime/translations?model=m",
    ]
    assert client_sockets(ws_api.port) == 0


@pytest.mark.parametrize("dotted", ["responses.connect", "beta.responses.connect"])
async def test_responses_connect_takes_the_sdk_arguments_positionally(
    ws: Runtime, ws_api: WsApiServer, dotted: str
) -> None:
    client = ws.client(ws_api)
    async with connect(ws, client, dotted, {"lane": "p"}, {"X-Trace": "t3"}, {}) as conn:
        await conn.response.create(model="gpt-test", input="hi")
        async for event in conn:
            if event.type == "response.completed":
                break
    assert ws_api.paths == ["/v1/responses?lane=p"]
    assert ws_api.handshakes[0]["x-trace"] == "t3"
    assert client_sockets(ws_api.port) == 0
