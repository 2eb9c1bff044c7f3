"""Realtime: the WebSocket session beside the generated HTTP methods (client secrets, calls)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._options import WebSocketConnectOptions
from .._dispatch import AsyncDispatchingConnectionManager
from .._event_socket import AsyncEventSocket
from .._realtime import AsyncBetaRealtimeConnection, AsyncRealtimeConnection
from .._resource import AsyncResource

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["AsyncBetaRealtimeExtras", "AsyncRealtimeExtras"]

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
