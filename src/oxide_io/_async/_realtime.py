"""The Realtime API over a WebSocket (`wss://…/v1/realtime?model=…`).

The spelling is the official SDK's `realtime.connect()`: client events are sent
through resource-style methods (`conn.session.update(...)`,
`conn.input_audio_buffer.append(audio=...)`, `conn.conversation.item.create(...)`,
`conn.response.create()`, ...), built by the core's `RealtimeClientEvents`, and
the server's events arrive typed as the OpenAPI spec's `RealtimeServerEvent`
union (`UnknownModel` for types this package does not know). An `error` event is
an ordinary event here, because the session stays usable after most errors;
`collect_audio` turns one into `APIEventError`.

Audio travels as base64 in JSON: `send_audio(pcm)` sends raw bytes as
`input_audio_buffer.append` events, and `collect_audio()` gathers one response's
deltas back into bytes (the core's `audio_chunks` and `RealtimeAudioCollector`).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from oxide_proto.sessions._realtime_socket import (
    DEFAULT_AUDIO_CHUNK,
    BetaRealtimeClientEvents,
    RealtimeAudio,
    RealtimeAudioCollector,
    RealtimeClientEvents,
    RealtimeServerEvent,
    audio_chunks,
    decode_realtime_event,
)

from .._options import NOT_GIVEN, NotGiven, WebSocketConnectOptions
from ._dispatch import AsyncDispatchingConnectionManager, AsyncEventConnection
from ._event_socket import AsyncEventSocket

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._api_client import AsyncAPIClient

__all__ = [
    "AsyncBetaRealtimeConnection",
    "AsyncRealtimeConnection",
    "RealtimeAudio",
    "RealtimeServerEvent",
    "connect_realtime",
]


def connect_realtime(
    client: AsyncAPIClient,
    *,
    model: str | None = None,
    call_id: str | None = None,
    **options: Unpack[WebSocketConnectOptions],
) -> AsyncDispatchingConnectionManager[AsyncRealtimeConnection]:
    """`async with connect_realtime(client, model=...) as conn`: a Realtime session.

    `model` starts a conversation, `call_id` joins an existing call. The URL and
    handshake headers are built as for `connect_responses`, under `/realtime`;
    the options are the same too. A reopened connection is a new Realtime
    session: the server's `session.created` says so.
    """
    query = {
        key: value for key, value in (("model", model), ("call_id", call_id)) if value is not None
    }
    return AsyncDispatchingConnectionManager(
        AsyncEventSocket(client, "/realtime", options, query), AsyncRealtimeConnection
    )


class AsyncRealtimeConnection(AsyncEventConnection[RealtimeServerEvent]):
    """A live Realtime session: client events out, typed server events in.

    Read them with `async for`, `recv()`, or handlers (`on`, `dispatch_events()`).
    """

    def __init__(self, socket: AsyncEventSocket) -> None:
        super().__init__(socket)
        events: RealtimeClientEvents[Awaitable[None]] = RealtimeClientEvents(self.send)
        self.session = events.session
        self.response = events.response
        self.input_audio_buffer = events.input_audio_buffer
        self.output_audio_buffer = events.output_audio_buffer
        self.conversation = events.conversation

    def _decode(self, payload: dict[str, Any]) -> RealtimeServerEvent:
        return decode_realtime_event(payload)

    async def send_audio(
        self, pcm: bytes, *, chunk_size: int = DEFAULT_AUDIO_CHUNK, commit: bool = False
    ) -> None:
        """Appends raw audio bytes to the input buffer, base64-encoded, in chunks.

        `commit=True` commits the buffer afterwards (needed without server VAD).
        """
        for chunk in audio_chunks(pcm, chunk_size):
            await self.input_audio_buffer.append(audio=chunk)
        if commit:
            await self.input_audio_buffer.commit()

    async def collect_audio(self, timeout: float | NotGiven | None = NOT_GIVEN) -> RealtimeAudio:
        """Reads events up to the next `response.done`, gathering its audio and text.

        Audio deltas are base64-decoded and joined; transcript and text deltas are
        joined. Raises `APIEventError` on an `error` event, and the usual errors
        when the connection closes or nothing arrives within `timeout`.
        """
        collector = RealtimeAudioCollector()
        while True:
            audio = collector.feed(await self._recv_payload(timeout))
            if audio is not None:
                return audio


class AsyncBetaRealtimeConnection(AsyncRealtimeConnection):
    """`client.beta.realtime.connect()`: `transcription_session.update` besides."""

    def __init__(self, socket: AsyncEventSocket) -> None:
        super().__init__(socket)
        events: BetaRealtimeClientEvents[Awaitable[None]] = BetaRealtimeClientEvents(self.send)
        self.transcription_session = events.transcription_session
