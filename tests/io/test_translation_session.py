"""`openai.lib.realtime_translation` on oxide: a translation session that ends cleanly,
against the real WebSocket test server, in blocking code, asyncio and trio.

The server (`tests/ws_api_server.py`, its translation endpoint in
`tests/ws_live_server.py`) answers `session.created` on connect, a transcript and
an audio delta per appended chunk, and `session.closed` plus a normal close for
`session.close`; `test.close` makes it close abnormally.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from oxide_io.compat.lib import realtime_translation as compat_translation

from oxide_io._async._translation_session import AsyncTranslationSession
from oxide_io._sync._translation_session import SyncTranslationSession
from oxide_io.compat import AsyncAzureOpenAI, AzureOpenAI
from oxide_proto import OpenAIError, WebSocketConnectionClosedError
from oxide_proto.types import (
    RealtimeTranslationServerEventSessionClosed,
    RealtimeTranslationServerEventSessionCreated,
    RealtimeTranslationServerEventSessionOutputAudioDelta,
    RealtimeTranslationServerEventSessionOutputTranscriptDelta,
    RealtimeTranslationServerEventSessionUpdated,
)
from tests.io.blocking import unwrap, wrap
from tests.io.leaks import client_sockets
from tests.io.ws_fixtures import KEY, Runtime
from tests.io.ws_fixtures import _ws_api_plain as _ws_api_plain
from tests.io.ws_fixtures import ws as ws
from tests.io.ws_fixtures import ws_api as ws_api
from tests.ws_api_server import WsApiServer

pytestmark = pytest.mark.anyio


def session(ws: Runtime, client: Any, **options: Any) -> Any:
    """The runtime's translation session on `client.realtime.translations`."""
    if ws.name == "sync":
        return wrap(SyncTranslationSession(unwrap(client).realtime.translations, **options))
    return AsyncTranslationSession(client.realtime.translations, **options)


async def test_a_session_translates_then_ends_at_session_closed(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    client = ws.client(ws_api)
    pcm = bytes(range(256)) * 15
    async with session(ws, client, model="gpt-translate", extra_query={"lane": "t"}) as conn:
        assert isinstance(await conn.recv(), RealtimeTranslationServerEventSessionCreated)
        await conn.send(
            {"type": "session.update", "session": {"audio": {"output": {"language": "de"}}}}
        )
        assert isinstance(await conn.recv(), RealtimeTranslationServerEventSessionUpdated)
        await conn.send(
            {"type": "session.input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()}
        )
        await conn.send({"type": "session.close"})
        # A second close while the translation finishes is dropped, not sent.
        await conn.send({"type": "session.close"})
        with pytest.raises(OpenAIError, match=r"session\.close was sent"):
            await conn.send({"type": "session.update", "session": {}})
        # What was in flight still arrives, up to session.closed.
        transcript = await conn.recv(timeout=10)
        assert isinstance(transcript, RealtimeTranslationServerEventSessionOutputTranscriptDelta)
        assert transcript.delta == f"{len(pcm)} bytes"
        audio = await conn.recv(timeout=10)
        assert isinstance(audio, RealtimeTranslationServerEventSessionOutputAudioDelta)
        assert base64.b64decode(audio.delta) == pcm
        closed = await conn.recv(timeout=10)
        assert isinstance(closed, RealtimeTranslationServerEventSessionClosed)
        # session.closed closed the connection: input is refused, nothing more comes.
        with pytest.raises(OpenAIError, match="it is closed"):
            await conn.send({"type": "session.close"})
        with pytest.raises(WebSocketConnectionClosedError):
            await conn.recv(timeout=10)
    assert ws_api.paths == ["/v1/realtime/translations?model=gpt-translate&lane=t"]
    assert [event["type"] for event in ws_api.received] == [
        "session.update",
        "session.input_audio_buffer.append",
        "session.close",
    ]
    assert client_sockets(ws_api.port) == 0


async def test_a_dropped_session_is_not_reopened(ws: Runtime, ws_api: WsApiServer) -> None:
    client = ws.client(ws_api)
    async with session(ws, client, model="gpt-translate") as conn:
        assert (await conn.recv()).type == "session.created"
        await conn.send({"type": "test.close", "code": 1012})
        with pytest.raises(WebSocketConnectionClosedError) as caught:
            await conn.recv(timeout=10)
        assert caught.value.code == 1012
        # 1012 is a close worth reopening after; the session never does, because a
        # replayed chunk could be translated twice.
        with pytest.raises(WebSocketConnectionClosedError):
            await conn.send({"type": "session.input_audio_buffer.append", "audio": "AAAA"})
        with pytest.raises(OpenAIError, match="it is closed"):
            await conn.send({"type": "session.close"})
    assert ws_api.connections == 1
    assert client_sockets(ws_api.port) == 0


async def test_leaving_the_block_closes_and_a_session_is_entered_once(
    ws: Runtime, ws_api: WsApiServer
) -> None:
    client = ws.client(ws_api)
    translation = session(ws, client, model="gpt-translate")
    async with translation as conn:
        assert (await conn.recv()).type == "session.created"
        model = conn if ws.name != "sync" else unwrap(conn)
        assert model.connection.url.endswith("/v1/realtime/translations?model=gpt-translate")
    with pytest.raises(OpenAIError, match="it is closed"):
        await conn.send({"type": "session.update", "session": {}})
    with pytest.raises(RuntimeError, match="entered once"):
        async with translation:
            pass
    assert ws_api.connections == 1
    assert client_sockets(ws_api.port) == 0


async def test_an_error_in_the_block_is_the_one_raised(ws: Runtime, ws_api: WsApiServer) -> None:
    client = ws.client(ws_api)
    with pytest.raises(KeyError, match="from the block"):
        async with session(ws, client, model="gpt-translate") as conn:
            assert (await conn.recv()).type == "session.created"
            raise KeyError("from the block")
    assert client_sockets(ws_api.port) == 0


@pytest.mark.parametrize(
    ("client_options", "session_options", "error", "message"),
    [
        ({}, {"model": ""}, ValueError, "model is required"),
        ({}, {"model": "m", "extra_query": {"intent": "x"}}, ValueError, "in the query"),
        ({"default_query": {"intent": "x"}}, {"model": "m"}, ValueError, "in the query"),
        ({"base_url": "?intent=x"}, {"model": "m"}, ValueError, "in the base URL"),
        (
            {"websocket_base_url": "?intent=x"},
            {"model": "m"},
            ValueError,
            "in the WebSocket base URL",
        ),
    ],
)
async def test_what_cannot_be_a_translation_session_is_refused_before_connecting(
    ws: Runtime,
    ws_api: WsApiServer,
    client_options: dict[str, Any],
    session_options: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    for key in ("base_url", "websocket_base_url"):
        if key in client_options:
            client_options[key] = ws_api.base_url + client_options[key]
    client = ws.client(ws_api, **client_options)
    with pytest.raises(error, match=message):
        async with session(ws, client, **session_options):
            pass
    assert ws_api.connections == 0


async def test_azure_has_no_translation_sessions(ws: Runtime, ws_api: WsApiServer) -> None:
    options = {"api_key": KEY, "api_version": "2025-04-01", "azure_endpoint": ws_api.base_url}
    if ws.name == "sync":
        client: Any = wrap(AzureOpenAI(**options))
    else:
        client = AsyncAzureOpenAI(**options)
    ws.made.append(client)
    with pytest.raises(OpenAIError, match="not available through Azure"):
        async with session(ws, client, model="gpt-translate"):
            pass
    assert ws_api.connections == 0


async def test_the_official_names_are_these_sessions(ws: Runtime, ws_api: WsApiServer) -> None:
    assert compat_translation.TranslationSession is SyncTranslationSession
    assert compat_translation.AsyncTranslationSession is AsyncTranslationSession
    client = ws.client(ws_api)
    cls = (
        compat_translation.TranslationSession
        if ws.name == "sync"
        else compat_translation.AsyncTranslationSession
    )
    connection_cls = (
        compat_translation.TranslationConnection
        if ws.name == "sync"
        else compat_translation.AsyncTranslationConnection
    )
    translation = cls(unwrap(client).realtime.translations, model="gpt-translate")
    opened = translation.enter()
    conn = opened if ws.name == "sync" else await opened
    try:
        assert isinstance(conn, connection_cls)
        event = conn.recv(timeout=10) if ws.name == "sync" else await conn.recv(timeout=10)
        assert event.type == "session.created"
    finally:
        closing = conn.close()
        if ws.name != "sync":
            await closing
    assert client_sockets(ws_api.port) == 0
