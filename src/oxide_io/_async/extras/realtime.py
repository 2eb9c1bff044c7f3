"""Realtime: the WebSocket session beside the generated HTTP methods (client secrets, calls)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from oxide_proto.sessions._live_socket import TRANSLATIONS_PATH

from ..._connect_args import (
    DEFAULT_QUEUE_SIZE,
    OwnWebSocketOptions,
    WebSocketConnectOptions,
    connect_options,
)
from .._dispatch import AsyncDispatchingConnectionManager
from .._event_socket import AsyncEventSocket
from .._live import AsyncTranslationConnection
from .._realtime import AsyncBetaRealtimeConnection, AsyncRealtimeConnection
from .._resource import AsyncResource

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from oxide_proto.websocket._reconnect import OnReconnecting

__all__ = ["AsyncBetaRealtimeExtras", "AsyncRealtimeExtras", "AsyncRealtimeTranslationsExtras"]

# The beta Realtime API is asked for by this header on the handshake.
_BETA_HEADERS = {"OpenAI-Beta": "realtime=v1"}


class AsyncRealtimeExtras(AsyncResource):
    def connect(
        self,
        *,
        model: str | None = None,
        call_id: str | None = None,
        **options: Unpack[WebSocketConnectOptions],
    ) -> AsyncDispatchingConnectionManager[AsyncRealtimeConnection]:
        """`async with client.realtime.connect(model=...) as conn`: a Realtime session.

        `model` starts a conversation, `call_id` joins an existing call. Client
        events as methods (`conn.session.update(...)`,
        `conn.input_audio_buffer.append(audio=...)`, `conn.response.create()`, ...),
        typed server events by iteration or `await conn.recv()`;
        `conn.send_audio(pcm)` and `conn.collect_audio()` handle base64 for you.
        The handshake and options are `client.responses.connect()`'s. A reopened
        connection is a new Realtime session: the server's `session.created` says so.
        """
        query = {"model": model, "call_id": call_id}
        socket = AsyncEventSocket(self._client, "/realtime", options, query)
        return AsyncDispatchingConnectionManager(socket, AsyncRealtimeConnection)


class AsyncBetaRealtimeExtras(AsyncResource):
    def connect(
        self, *, model: str, **options: Unpack[WebSocketConnectOptions]
    ) -> AsyncDispatchingConnectionManager[AsyncBetaRealtimeConnection]:
        """`async with client.beta.realtime.connect(model=...) as conn`: the beta Realtime API.

        As `client.realtime.connect()`, with `OpenAI-Beta: realtime=v1` on the
        handshake (an `extra_headers` entry replaces it) and
        `conn.transcription_session.update(...)`; the same options.
        """
        socket = AsyncEventSocket(
            self._client, "/realtime", options, {"model": model}, _BETA_HEADERS
        )
        return AsyncDispatchingConnectionManager(socket, AsyncBetaRealtimeConnection)


class AsyncRealtimeTranslationsExtras(AsyncResource):
    def connect(
        self,
        model: str,
        extra_query: Mapping[str, object] | None = None,
        extra_headers: Mapping[str, str | None] | None = None,
        websocket_connection_options: Mapping[str, Any] | None = None,
        on_reconnecting: OnReconnecting | None = None,
        max_retries: int = 5,
        initial_delay: float = 0.5,
        max_delay: float = 8.0,
        max_queue_size: int = DEFAULT_QUEUE_SIZE,
        **options: Unpack[OwnWebSocketOptions],
    ) -> AsyncDispatchingConnectionManager[AsyncTranslationConnection]:
        """`async with client.realtime.translations.connect(model) as conn`: live translation.

        `wss://…/v1/realtime/translations?model=…`. Set the output language with
        `conn.session.update(session=...)`, send audio with
        `conn.session.input_audio_buffer.append(audio=...)` (or `conn.send_audio(pcm)`),
        read translated audio and transcripts as typed events; `conn.session.close()`
        ends the session once the audio sent is translated. The SDK's arguments,
        positionally too (see `oxide_io._connect_args`), and oxide's WebSocket options.
        """
        settings = connect_options(
            extra_query,
            extra_headers,
            websocket_connection_options,
            on_reconnecting,
            max_retries,
            initial_delay,
            max_delay,
            max_queue_size,
            options,
        )
        socket = AsyncEventSocket(self._client, TRANSLATIONS_PATH, settings, {"model": model})
        return AsyncDispatchingConnectionManager(socket, AsyncTranslationConnection)
