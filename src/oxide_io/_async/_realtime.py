"""The Realtime API over a WebSocket (`wss://…/v1/realtime?model=…`).

As in the official SDK, client events go out through the core's
`RealtimeClientEvents` (`conn.session.update(...)`, `conn.response.create()`, ...)
and server events arrive typed (`RealtimeServerEvent`; `UnknownModel` for unknown
types). An `error` event is an ordinary event: the session stays usable after most
errors. `send_audio(pcm)` and `collect_audio()` do the base64 (the core's
`audio_chunks` and `RealtimeAudioCollector`).
"""

from __future__ import annotations

from collections.abc import Awaitable

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

from .._options import NOT_GIVEN, NotGiven
from ._dispatch import AsyncEventConnection
from ._event_socket import AsyncEventSocket

__all__ = [
    "AsyncBetaRealtimeConnection",
    "AsyncRealtimeConnection",
    "RealtimeAudio",
    "RealtimeServerEvent",
]


class AsyncRealtimeConnection(AsyncEventConnection[RealtimeServerEvent]):
    """A live Realtime session: client events out, typed server events in."""

    def __init__(self, socket: AsyncEventSocket) -> None:
        super().__init__(socket, decode_realtime_event)
        events = RealtimeClientEvents[Awaitable[None]](self.send)
        self.session = events.session
        self.response = events.response
        self.input_audio_buffer = events.input_audio_buffer
        self.output_audio_buffer = events.output_audio_buffer
        self.conversation = events.conversation

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
        beta = BetaRealtimeClientEvents[Awaitable[None]](self.send)
        self.transcription_session = beta.transcription_session
