"""The Live and Realtime translation WebSockets, sans-I/O: client events out, typed events in.

Four connections speak JSON events over a WebSocket: a Live session's primary
socket (`/live/sessions`), a fork of a stored session (`/live/sessions/{id}/fork`),
a server sideband attached to a running session (`/live/sessions/{id}/attach`),
and a Realtime translation session (`/realtime/translations?model=…`). Their
client events are built here by resource-style classes, spelled as the official
SDK spells them (`conn.session.start(session=...)`,
`conn.session.input_audio.append(audio=...)`, `conn.decision.item.create(...)`),
each handing its event to a `send` callable and returning what it returns (an
awaitable for the async connection, None for the blocking one). The server's
events decode into the unions each socket receives, with `UnknownModel` for a
type this package does not know.

Which commands a socket takes differs: a sideband does not start the session
nor send audio into it, but may send DTMF to a SIP call; a translation session
only configures itself, takes audio and closes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from ..api._decode import decode
from ..api._model import UnknownModel
from ..types import LiveConnectServerEvent as _LiveConnectServerEvent
from ..types import LiveForkServerEvent as _LiveForkServerEvent
from ..types import LiveServerEvent as _LiveServerEvent
from ..types import RealtimeTranslationServerEvent as _TranslationServerEvent

__all__ = [
    "LiveClientEvents",
    "LiveForkClientEvents",
    "LiveSidebandClientEvents",
    "TranslationClientEvents",
    "decode_fork_event",
    "decode_live_event",
    "decode_sideband_event",
    "decode_translation_event",
]

LiveServerEvent = _LiveServerEvent | UnknownModel
LiveForkServerEvent = _LiveForkServerEvent | UnknownModel
LiveSidebandServerEvent = _LiveConnectServerEvent | UnknownModel
TranslationServerEvent = _TranslationServerEvent | UnknownModel

R = TypeVar("R")

LIVE_PATH = "/live/sessions"
TRANSLATIONS_PATH = "/realtime/translations"


def _session_path(session_id: str, leaf: str) -> str:
    if not session_id:
        raise ValueError(f"Expected a non-empty value for `session_id` but received {session_id!r}")
    # The id is one path segment: what would end or split it is escaped.
    return f"{LIVE_PATH}/{quote(session_id, safe='')}/{leaf}"


def live_fork_path(session_id: str) -> str:
    """The path of the WebSocket that forks stored session `session_id`."""
    return _session_path(session_id, "fork")


def live_sideband_path(session_id: str) -> str:
    """The path of the sideband WebSocket attached to running session `session_id`."""
    return _session_path(session_id, "attach")


def decode_live_event(payload: Mapping[str, Any]) -> LiveServerEvent:
    """One server event of a Live primary socket as its typed class."""
    event: LiveServerEvent = decode(_LiveServerEvent, payload)
    return event


def decode_fork_event(payload: Mapping[str, Any]) -> LiveForkServerEvent:
    """One server event of a Live fork socket as its typed class."""
    event: LiveForkServerEvent = decode(_LiveForkServerEvent, payload)
    return event


def decode_sideband_event(payload: Mapping[str, Any]) -> LiveSidebandServerEvent:
    """One server event of a Live sideband socket as its typed class."""
    event: LiveSidebandServerEvent = decode(_LiveConnectServerEvent, payload)
    return event


def decode_translation_event(payload: Mapping[str, Any]) -> TranslationServerEvent:
    """One server event of a Realtime translation socket as its typed class."""
    event: TranslationServerEvent = decode(_TranslationServerEvent, payload)
    return event


def _event(kind: str, event_id: str | None, **fields: Any) -> dict[str, Any]:
    """The event `kind` with `fields` as given (None included: a field the API takes
    as null stays null) and `event_id` when there is one."""
    event: dict[str, Any] = {"type": kind, **fields}
    if event_id is not None:
        event["event_id"] = event_id
    return event


class _Events(Generic[R]):
    def __init__(self, send: Callable[[dict[str, Any]], R]) -> None:
        self._send = send


class _ContextEvents(_Events[R]):
    """`append(content=..., delegation_id=...)` of one kind of session context."""

    _kind = ""

    def append(self, *, content: str, delegation_id: str | None, event_id: str | None = None) -> R:
        """Adds `content`, for client delegation `delegation_id` (or None)."""
        return self._send(
            _event(self._kind, event_id, content=content, delegation_id=delegation_id)
        )


class LiveCommentaryEvents(_ContextEvents[R]):
    """Context the model may say to the user (`session.commentary.append`)."""

    _kind = "session.commentary.append"


class LiveInstructionsEvents(_ContextEvents[R]):
    """Developer instructions added while the session runs (`session.instructions.append`)."""

    _kind = "session.instructions.append"


class LiveThinkingEvents(_ContextEvents[R]):
    """Silent reasoning or progress context (`session.thinking.append`)."""

    _kind = "session.thinking.append"


class LiveInputMuteEvents(_Events[R]):
    def mute(self, *, event_id: str | None = None) -> R:
        """Stops audio input to the model without closing the session."""
        return self._send(_event("session.input_audio.mute", event_id))

    def unmute(self, *, event_id: str | None = None) -> R:
        """Resumes audio input to the model."""
        return self._send(_event("session.input_audio.unmute", event_id))


class LiveInputAudioEvents(LiveInputMuteEvents[R]):
    def append(self, *, audio: str, event_id: str | None = None) -> R:
        """Sends base64-encoded audio (`session.input_audio.append`)."""
        return self._send(_event("session.input_audio.append", event_id, audio=audio))


class LiveOutputAudioFixtureEvents(_Events[R]):
    def play(self, *, audio: str, event_id: str | None = None) -> R:
        """Plays one complete base64 PCM16 clip through the session's output."""
        return self._send(_event("session.output_audio.fixture.play", event_id, audio=audio))


class LiveOutputAudioEvents(_Events[R]):
    def __init__(self, send: Callable[[dict[str, Any]], R]) -> None:
        super().__init__(send)
        self.fixture = LiveOutputAudioFixtureEvents(send)


class LiveSessionUpdateEvents(_Events[R]):
    """What every Live socket sends about the session: context, output audio, update, close."""

    def __init__(self, send: Callable[[dict[str, Any]], R]) -> None:
        super().__init__(send)
        self.commentary = LiveCommentaryEvents(send)
        self.instructions = LiveInstructionsEvents(send)
        self.thinking = LiveThinkingEvents(send)
        self.output_audio = LiveOutputAudioEvents(send)
        self.input_audio: LiveInputMuteEvents[R] = LiveInputMuteEvents(send)

    def update(self, *, session: Mapping[str, Any], event_id: str | None = None) -> R:
        """Changes the delegation settings or transcript triggers (`session.update`)."""
        return self._send(_event("session.update", event_id, session=session))

    def close(self, *, event_id: str | None = None) -> R:
        """Asks the server to end the session (`session.closed` follows)."""
        return self._send(_event("session.close", event_id))


class LiveSessionEvents(LiveSessionUpdateEvents[R]):
    """A primary or fork socket's session commands: `start` and audio input besides."""

    def __init__(self, send: Callable[[dict[str, Any]], R]) -> None:
        super().__init__(send)
        self.input_audio: LiveInputAudioEvents[R] = LiveInputAudioEvents(send)

    def start(self, *, session: Mapping[str, Any], event_id: str | None = None) -> R:
        """Starts the session (`session.start`); wait for `session.started` before more."""
        return self._send(_event("session.start", event_id, session=session))


class LiveDecisionItemEvents(_Events[R]):
    def create(self, *, item: Mapping[str, Any], event_id: str | None = None) -> R:
        """Adds an input item for future decisions (`decision.item.create`)."""
        return self._send(_event("decision.item.create", event_id, item=item))

    def delete(self, *, item_id: str, event_id: str | None = None) -> R:
        """Removes an input item from future decisions (`decision.item.delete`)."""
        return self._send(_event("decision.item.delete", event_id, item_id=item_id))


class LiveDecisionEvents(_Events[R]):
    def __init__(self, send: Callable[[dict[str, Any]], R]) -> None:
        super().__init__(send)
        self.item = LiveDecisionItemEvents(send)

    def create(self, *, event_id: str) -> R:
        """Evaluates the configured questions now; `event_id` may not be reused."""
        return self._send(_event("decision.create", event_id))


class LiveResponseItemEvents(_Events[R]):
    def create(self, *, item: Mapping[str, Any], event_id: str | None = None) -> R:
        """Adds an input item to the Responses backend (`response.item.create`)."""
        return self._send(_event("response.item.create", event_id, item=item))


class LiveResponseEvents(_Events[R]):
    def __init__(self, send: Callable[[dict[str, Any]], R]) -> None:
        super().__init__(send)
        self.item = LiveResponseItemEvents(send)

    def create(self, *, event_id: str | None = None) -> R:
        """Asks the Responses backend for a response (`response.create`)."""
        return self._send(_event("response.create", event_id))


class LiveClientEvents(Generic[R]):
    """The client events of a Live primary socket, by resource, each handed to `send`."""

    def __init__(self, send: Callable[[dict[str, Any]], R]) -> None:
        self.session = LiveSessionEvents(send)
        self.decision = LiveDecisionEvents(send)
        self.response = LiveResponseEvents(send)


class LiveForkClientEvents(LiveClientEvents[R]):
    """A fork's client events: the primary socket's (its `session.start` takes a fork
    configuration; an empty one keeps the stored session's)."""


class LiveTransportDtmfEvents(_Events[R]):
    def send(self, *, event: str, event_id: str | None = None) -> R:
        """Sends one DTMF keypress to the SIP call (`transport.dtmf.send`)."""
        return self._send(_event("transport.dtmf.send", event_id, event=event))


class LiveTransportEvents(_Events[R]):
    def __init__(self, send: Callable[[dict[str, Any]], R]) -> None:
        super().__init__(send)
        self.dtmf = LiveTransportDtmfEvents(send)


class LiveSidebandClientEvents(Generic[R]):
    """A sideband's client events: no `session.start` nor audio input, DTMF besides."""

    def __init__(self, send: Callable[[dict[str, Any]], R]) -> None:
        self.session = LiveSessionUpdateEvents(send)
        self.decision = LiveDecisionEvents(send)
        self.response = LiveResponseEvents(send)
        self.transport = LiveTransportEvents(send)


class TranslationInputAudioBufferEvents(_Events[R]):
    def append(self, *, audio: str, event_id: str | None = None) -> R:
        """Appends base64 24 kHz PCM16 audio (`session.input_audio_buffer.append`)."""
        return self._send(_event("session.input_audio_buffer.append", event_id, audio=audio))


class TranslationSessionEvents(_Events[R]):
    def __init__(self, send: Callable[[dict[str, Any]], R]) -> None:
        super().__init__(send)
        self.input_audio_buffer = TranslationInputAudioBufferEvents(send)

    def update(self, *, session: Mapping[str, Any], event_id: str | None = None) -> R:
        """Changes the output language, transcription or noise reduction (`session.update`)."""
        return self._send(_event("session.update", event_id, session=session))

    def close(self, *, event_id: str | None = None) -> R:
        """Ends the session once the pending audio is translated (`session.close`)."""
        return self._send(_event("session.close", event_id))


class TranslationClientEvents(Generic[R]):
    """The client events of a Realtime translation session, each handed to `send`."""

    def __init__(self, send: Callable[[dict[str, Any]], R]) -> None:
        self.session = TranslationSessionEvents(send)
