"""The Realtime API over a WebSocket, sans-I/O: client events out, one response's audio in.

The client events (`session.update`, `input_audio_buffer.append`,
`conversation.item.create`, `response.create`, ...) are built by resource-style
classes, as the official SDK spells them (`conn.session.update(...)`), each handing
its event to a `send` callable and returning what it returns: an awaitable for the
async connection, None for the blocking one, so one set of classes serves both.

Audio travels as base64 in JSON: `audio_chunks` cuts raw PCM into the base64
pieces of `input_audio_buffer.append` events, and `RealtimeAudioCollector`
gathers the deltas of one response (audio decoded back to bytes, transcript and
text joined) up to its `response.done`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from ..api._decode import decode
from ..api._model import UnknownModel
from ..base._record import frozen
from ..types import RealtimeServerEvent as _RealtimeServerEvent
from ._event_socket import event_error, parse_event_payload

__all__ = [
    "DEFAULT_AUDIO_CHUNK",
    "BetaRealtimeClientEvents",
    "RealtimeAudio",
    "RealtimeAudioCollector",
    "RealtimeClientEvents",
    "audio_chunks",
    "parse_realtime_event",
]

RealtimeServerEvent = _RealtimeServerEvent | UnknownModel

R = TypeVar("R")

# 24 kHz 16-bit mono PCM is 48,000 bytes a second: a chunk of half a second keeps
# each append event well under the API's per-event size limit.
DEFAULT_AUDIO_CHUNK = 24_000
# The GA and the beta names of the events that carry one response's output.
_AUDIO_DELTAS = frozenset({"response.output_audio.delta", "response.audio.delta"})
_TRANSCRIPT_DELTAS = frozenset(
    {"response.output_audio_transcript.delta", "response.audio_transcript.delta"}
)
_TEXT_DELTAS = frozenset({"response.output_text.delta", "response.text.delta"})


def decode_realtime_event(payload: Mapping[str, Any]) -> RealtimeServerEvent:
    """One server event's JSON object as its typed class."""
    # The spec's union, not the alias: its `type` tags pick the class, and a tag it
    # does not list decodes to UnknownModel.
    event: RealtimeServerEvent = decode(_RealtimeServerEvent, payload)
    return event


def parse_realtime_event(data: str | bytes) -> RealtimeServerEvent:
    """One server message as a typed event; `MalformedEventError` when it is not JSON."""
    return decode_realtime_event(parse_event_payload(data))


def audio_chunks(pcm: bytes, chunk_size: int = DEFAULT_AUDIO_CHUNK) -> Iterator[str]:
    """`pcm` cut into pieces of `chunk_size` bytes, each base64-encoded."""
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be positive, not {chunk_size}")
    view = memoryview(pcm)
    for start in range(0, len(view), chunk_size):
        yield base64.b64encode(view[start : start + chunk_size]).decode("ascii")


@frozen
class RealtimeAudio:
    """One response's output, gathered by `collect_audio`: PCM bytes, transcript, text.

    `done` is the `response.done` event (with the response's status and usage).
    """

    audio: bytes
    transcript: str
    text: str
    done: Any


class RealtimeAudioCollector:
    """Gathers one response's audio, transcript and text from its server events."""

    __slots__ = ("_audio", "_text", "_transcript")

    def __init__(self) -> None:
        self._audio: list[bytes] = []
        self._transcript: list[str] = []
        self._text: list[str] = []

    def feed(self, payload: Mapping[str, Any]) -> RealtimeAudio | None:
        """Takes one server event: the gathered output at `response.done`, else None.

        Raises `APIEventError` for an `error` event.
        """
        kind = payload.get("type")
        if kind in _AUDIO_DELTAS:
            self._audio.append(base64.b64decode(payload.get("delta") or ""))
        elif kind in _TRANSCRIPT_DELTAS:
            self._transcript.append(str(payload.get("delta") or ""))
        elif kind in _TEXT_DELTAS:
            self._text.append(str(payload.get("delta") or ""))
        elif kind == "error":
            raise event_error(payload)
        elif kind == "response.done":
            return RealtimeAudio(
                b"".join(self._audio),
                "".join(self._transcript),
                "".join(self._text),
                decode_realtime_event(payload),
            )
        return None


def _event(kind: str, event_id: str | None, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"type": kind}
    if event_id is not None:
        event["event_id"] = event_id
    event.update((key, value) for key, value in fields.items() if value is not None)
    return event


class _Events(Generic[R]):
    def __init__(self, send: Callable[[dict[str, Any]], R]) -> None:
        self._send = send


class RealtimeSessionEvents(_Events[R]):
    def update(self, *, session: Mapping[str, Any], event_id: str | None = None) -> R:
        """Changes the session's configuration (`session.update`)."""
        return self._send(_event("session.update", event_id, session=session))


class RealtimeResponseEvents(_Events[R]):
    def create(
        self, *, response: Mapping[str, Any] | None = None, event_id: str | None = None
    ) -> R:
        """Asks the model for a response (`response.create`), optionally configured."""
        return self._send(_event("response.create", event_id, response=response))

    def cancel(self, *, response_id: str | None = None, event_id: str | None = None) -> R:
        """Cancels the response in progress, or the one named (`response.cancel`)."""
        return self._send(_event("response.cancel", event_id, response_id=response_id))


class RealtimeInputAudioBufferEvents(_Events[R]):
    def append(self, *, audio: str, event_id: str | None = None) -> R:
        """Appends base64-encoded audio to the input buffer (`input_audio_buffer.append`)."""
        return self._send(_event("input_audio_buffer.append", event_id, audio=audio))

    def commit(self, *, event_id: str | None = None) -> R:
        return self._send(_event("input_audio_buffer.commit", event_id))

    def clear(self, *, event_id: str | None = None) -> R:
        return self._send(_event("input_audio_buffer.clear", event_id))


class RealtimeOutputAudioBufferEvents(_Events[R]):
    def clear(self, *, event_id: str | None = None) -> R:
        return self._send(_event("output_audio_buffer.clear", event_id))


class RealtimeConversationItemEvents(_Events[R]):
    def create(
        self,
        *,
        item: Mapping[str, Any],
        previous_item_id: str | None = None,
        event_id: str | None = None,
    ) -> R:
        """Adds an item (message, function call output, ...) to the conversation."""
        return self._send(
            _event(
                "conversation.item.create", event_id, item=item, previous_item_id=previous_item_id
            )
        )

    def delete(self, *, item_id: str, event_id: str | None = None) -> R:
        return self._send(_event("conversation.item.delete", event_id, item_id=item_id))

    def retrieve(self, *, item_id: str, event_id: str | None = None) -> R:
        return self._send(_event("conversation.item.retrieve", event_id, item_id=item_id))

    def truncate(
        self, *, item_id: str, content_index: int, audio_end_ms: int, event_id: str | None = None
    ) -> R:
        """Cuts an assistant item's audio at `audio_end_ms` (what the user actually heard)."""
        return self._send(
            _event(
                "conversation.item.truncate",
                event_id,
                item_id=item_id,
                content_index=content_index,
                audio_end_ms=audio_end_ms,
            )
        )


class RealtimeConversationEvents(_Events[R]):
    def __init__(self, send: Callable[[dict[str, Any]], R]) -> None:
        super().__init__(send)
        self.item = RealtimeConversationItemEvents(send)


class RealtimeTranscriptionSessionEvents(_Events[R]):
    def update(self, *, session: Mapping[str, Any], event_id: str | None = None) -> R:
        """Changes a transcription session's configuration (`transcription_session.update`)."""
        return self._send(_event("transcription_session.update", event_id, session=session))


class RealtimeClientEvents(Generic[R]):
    """The client events of a Realtime session, by resource, each handed to `send`."""

    def __init__(self, send: Callable[[dict[str, Any]], R]) -> None:
        self.session = RealtimeSessionEvents(send)
        self.response = RealtimeResponseEvents(send)
        self.input_audio_buffer = RealtimeInputAudioBufferEvents(send)
        self.output_audio_buffer = RealtimeOutputAudioBufferEvents(send)
        self.conversation = RealtimeConversationEvents(send)


class BetaRealtimeClientEvents(RealtimeClientEvents[R]):
    """The beta Realtime session's client events: `transcription_session` besides."""

    def __init__(self, send: Callable[[dict[str, Any]], R]) -> None:
        super().__init__(send)
        self.transcription_session = RealtimeTranscriptionSessionEvents(send)
