"""The Realtime API over a WebSocket, in blocking code, asyncio and trio, against a real server.

The server (`tests/ws_api_server.py`) sends `session.created`, echoes
configuration and conversation items, and answers `response.create` by streaming
the committed input audio back as `response.output_audio.delta` events.
"""

from __future__ import annotations

import base64

import pytest

from oxide_io import APITimeoutError
from oxide_proto import WebSocketConnectionClosedError
from oxide_proto.types import (
    RealtimeServerEventConversationItemAdded,
    RealtimeServerEventError,
    RealtimeServerEventInputAudioBufferCommitted,
    RealtimeServerEventSessionCreated,
    RealtimeServerEventSessionUpdated,
)
from tests.io.leaks import client_sockets
from tests.io.ws_fixtures import KEY, Runtime
from tests.io.ws_fixtures import _ws_api_plain as _ws_api_plain
from tests.io.ws_fixtures import _ws_api_tls as _ws_api_tls
from tests.io.ws_fixtures import ws as ws
from tests.io.ws_fixtures import ws_api as ws_api
from tests.io.ws_fixtures import wss_api as wss_api
from tests.ws_api_server import WsApiServer

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("tls", [False, True], ids=["ws", "wss"])
async def test_audio_round_trip(
    ws: Runtime, ws_api: WsApiServer, wss_api: WsApiServer, tls: bool
) -> None:
    server = wss_api if tls else ws_api
    pcm = bytes(range(256)) * 300  # 76,800 bytes: several append events and deltas
    client = ws.client(server)
    async with ws.connect_realtime(client, model="gpt-realtime") as conn:
        created = await conn.recv()
        assert isinstance(created, RealtimeServerEventSessionCreated)
        await conn.session.update(session={"type": "realtime", "instructions": "be brief"})
        updated = await conn.recv()
        assert isinstance(updated, RealtimeServerEventSessionUpdated)
        assert updated.session.instructions == "be brief"
        await conn.send_audio(pcm, chunk_size=10_000, commit=True)
        committed = await conn.recv()
        assert isinstance(committed, RealtimeServerEventInputAudioBufferCommitted)
        await conn.response.create()
        result = await conn.collect_audio()
        assert result.audio == pcm
        assert result.transcript == "you said something"
        assert result.done.type == "response.done"
    assert client_sockets(server.port) == 0
    appends = [e for e in server.received if e["type"] == "input_audio_buffer.append"]
    assert len(appends) == 8
    assert base64.b64decode(appends[0]["audio"]) == pcm[:10_000]
    assert server.paths[0] == "/v1/realtime?model=gpt-realtime"
    assert server.handshakes[0]["authorization"] == f"Bearer {KEY}"


async def test_call_id_joins_a_call_and_none_is_not_sent(ws: Runtime, ws_api: WsApiServer) -> None:
    client = ws.client(ws_api)
    async with ws.connect_realtime(client, call_id="call_1") as conn:
        assert isinstance(await conn.recv(), RealtimeServerEventSessionCreated)
    assert ws_api.paths == ["/v1/realtime?call_id=call_1"]


async def test_resource_methods_send_the_official_events(ws: Runtime, ws_api: WsApiServer) -> None:
    client = ws.client(ws_api)
    async with ws.connect_realtime(client, model="gpt-realtime") as conn:
        await conn.recv()
        item = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "hi"}],
        }
        await conn.conversation.item.create(item=item, event_id="ev_1")
        added = await conn.recv()
        assert isinstance(added, RealtimeServerEventConversationItemAdded)
        assert added.item.id == "item_1"
        await conn.input_audio_buffer.append(audio=base64.b64encode(b"\x00\x01").decode())
        await conn.input_audio_buffer.clear()
        assert (await conn.recv()).type == "input_audio_buffer.cleared"
        await conn.conversation.item.truncate(item_id="item_1", content_index=0, audio_end_ms=1500)
        error = await conn.recv()
        # The test server does not know truncation: an error event, and the session goes on.
        assert isinstance(error, RealtimeServerEventError)
        assert error.error.code == "unknown_event"
        await conn.conversation.item.delete(item_id="item_1")
        await conn.response.cancel(response_id="resp_1")
        await conn.output_audio_buffer.clear()
        kinds = [(await conn.recv()).type for _ in range(3)]
        assert kinds == ["error", "error", "error"]
    sent = ws_api.received
    assert sent[0] == {"type": "conversation.item.create", "event_id": "ev_1", "item": item}
    assert sent[3] == {
        "type": "conversation.item.truncate",
        "item_id": "item_1",
        "content_index": 0,
        "audio_end_ms": 1500,
    }
    assert [e["type"] for e in sent[4:]] == [
        "conversation.item.delete",
        "response.cancel",
        "output_audio_buffer.clear",
    ]


async def test_iteration_ends_at_a_normal_close(ws: Runtime, ws_api: WsApiServer) -> None:
    client = ws.client(ws_api)
    async with ws.connect_realtime(client, model="gpt-realtime") as conn:
        seen = []
        async for event in conn:
            seen.append(event.type)
            await conn.close()
        assert seen == ["session.created"]
        with pytest.raises(WebSocketConnectionClosedError):
            await conn.session.update(session={})
    assert client_sockets(ws_api.port) == 0


async def test_quiet_server_times_out(ws: Runtime, ws_api: WsApiServer) -> None:
    client = ws.client(ws_api)
    async with ws.connect_realtime(client, model="gpt-realtime", timeout=0.3) as conn:
        await conn.recv()
        with pytest.raises(APITimeoutError):
            await conn.recv()
    assert client_sockets(ws_api.port) == 0
