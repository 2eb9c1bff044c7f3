"""The Live API's WebSockets and the Realtime translation session, as connections.

`client.live.connect()` opens a Live session's primary socket
(`wss://…/v1/live/sessions`; send `conn.session.start(session=...)` first and
wait for `session.started`), `client.live.forks.connect(session_id=...)` a fork
of a stored session, `client.live.sideband.connect(session_id=...)` a server
sideband on a running one, and `client.realtime.translations.connect(model)` a
translation session. The client events are the core's (`oxide_proto.sessions.
_live_socket`), the server events arrive typed, and sending, receiving,
handlers and reconnecting are those of every event socket (`_dispatch`,
`_event_socket`).
"""

from __future__ import annotations

from collections.abc import Awaitable

from oxide_proto.sessions._live_socket import (
    LiveClientEvents,
    LiveForkClientEvents,
    LiveForkServerEvent,
    LiveServerEvent,
    LiveSidebandClientEvents,
    LiveSidebandServerEvent,
    TranslationClientEvents,
    TranslationServerEvent,
    decode_fork_event,
    decode_live_event,
    decode_sideband_event,
    decode_translation_event,
)
from oxide_proto.sessions._realtime_socket import DEFAULT_AUDIO_CHUNK, audio_chunks

from ._dispatch import AsyncEventConnection
from ._event_socket import AsyncEventSocket

__all__ = [
    "AsyncLiveConnection",
    "AsyncLiveForkConnection",
    "AsyncLiveSidebandConnection",
    "AsyncTranslationConnection",
]


class AsyncLiveConnection(AsyncEventConnection[LiveServerEvent]):
    """A Live session's primary socket: `conn.session.start(...)`, audio, context, decisions."""

    def __init__(self, socket: AsyncEventSocket) -> None:
        super().__init__(socket, decode_live_event)
        events: LiveClientEvents[Awaitable[None]] = LiveClientEvents(self.send)
        self.session = events.session
        self.decision = events.decision
        self.response = events.response

    async def send_audio(self, pcm: bytes, *, chunk_size: int = DEFAULT_AUDIO_CHUNK) -> None:
        """Sends raw 24 kHz PCM16 audio as `session.input_audio.append` events, in chunks."""
        for chunk in audio_chunks(pcm, chunk_size):
            await self.session.input_audio.append(audio=chunk)


class AsyncLiveForkConnection(AsyncEventConnection[LiveForkServerEvent]):
    """A fork of a stored Live session: as the primary socket, `session.start` first."""

    def __init__(self, socket: AsyncEventSocket) -> None:
        super().__init__(socket, decode_fork_event)
        events: LiveForkClientEvents[Awaitable[None]] = LiveForkClientEvents(self.send)
        self.session = events.session
        self.decision = events.decision
        self.response = events.response


class AsyncLiveSidebandConnection(AsyncEventConnection[LiveSidebandServerEvent]):
    """A server sideband on a running Live session: context, decisions, DTMF."""

    def __init__(self, socket: AsyncEventSocket) -> None:
        super().__init__(socket, decode_sideband_event)
        events: LiveSidebandClientEvents[Awaitable[None]] = LiveSidebandClientEvents(self.send)
        self.session = events.session
        self.decision = events.decision
        self.response = events.response
        self.transport = events.transport


class AsyncTranslationConnection(AsyncEventConnection[TranslationServerEvent]):
    """A Realtime translation session: audio in, translated audio and transcripts out."""

    def __init__(self, socket: AsyncEventSocket) -> None:
        super().__init__(socket, decode_translation_event)
        events: TranslationClientEvents[Awaitable[None]] = TranslationClientEvents(self.send)
        self.session = events.session

    async def send_audio(self, pcm: bytes, *, chunk_size: int = DEFAULT_AUDIO_CHUNK) -> None:
        """Sends raw 24 kHz PCM16 audio as `session.input_audio_buffer.append` events."""
        for chunk in audio_chunks(pcm, chunk_size):
            await self.session.input_audio_buffer.append(audio=chunk)
