"""The Live and translation sockets' client events and event decoding, without a socket."""

from __future__ import annotations

from typing import Any

import pytest

from oxide_proto import (
    LiveClientEvents,
    LiveSidebandClientEvents,
    TranslationClientEvents,
    UnknownModel,
    decode_fork_event,
    decode_live_event,
    decode_sideband_event,
    decode_translation_event,
)
from oxide_proto.sessions._live_socket import live_fork_path, live_sideband_path
from oxide_proto.types import (
    ConnectServerEventTransportDtmfReceived,
    LiveErrorEvent,
    RealtimeTranslationServerEventSessionOutputTranscriptDelta,
    SessionStartedEvent,
)


def test_live_commands_are_the_official_events() -> None:
    sent: list[dict[str, Any]] = []
    events = LiveClientEvents(sent.append)
    events.session.start(session={"model": "gpt-live"})
    events.session.instructions.append(content="hi", delegation_id=None, event_id="e1")
    events.session.commentary.append(content="c", delegation_id="d1")
    events.session.thinking.append(content="t", delegation_id=None)
    events.session.input_audio.append(audio="AAAA")
    events.session.input_audio.mute()
    events.session.output_audio.fixture.play(audio="BBBB")
    events.decision.create(event_id="d9")
    events.decision.item.delete(item_id="i1")
    events.response.item.create(item={"type": "message"})
    events.response.create()
    events.session.close(event_id="bye")
    assert sent == [
        {"type": "session.start", "session": {"model": "gpt-live"}},
        # A required field the API takes as null is sent as null; event_id only when given.
        {
            "type": "session.instructions.append",
            "content": "hi",
            "delegation_id": None,
            "event_id": "e1",
        },
        {"type": "session.commentary.append", "content": "c", "delegation_id": "d1"},
        {"type": "session.thinking.append", "content": "t", "delegation_id": None},
        {"type": "session.input_audio.append", "audio": "AAAA"},
        {"type": "session.input_audio.mute"},
        {"type": "session.output_audio.fixture.play", "audio": "BBBB"},
        {"type": "decision.create", "event_id": "d9"},
        {"type": "decision.item.delete", "item_id": "i1"},
        {"type": "response.item.create", "item": {"type": "message"}},
        {"type": "response.create"},
        {"type": "session.close", "event_id": "bye"},
    ]


def test_a_sideband_neither_starts_nor_sends_audio_but_sends_dtmf() -> None:
    sent: list[dict[str, Any]] = []
    events = LiveSidebandClientEvents(sent.append)
    assert not hasattr(events.session, "start")
    assert not hasattr(events.session.input_audio, "append")
    events.transport.dtmf.send(event="#")
    events.session.input_audio.unmute()
    assert sent == [
        {"type": "transport.dtmf.send", "event": "#"},
        {"type": "session.input_audio.unmute"},
    ]


def test_translation_commands() -> None:
    sent: list[dict[str, Any]] = []
    events = TranslationClientEvents(sent.append)
    events.session.update(session={"audio": {}})
    events.session.input_audio_buffer.append(audio="CCCC", event_id="a1")
    events.session.close()
    assert sent == [
        {"type": "session.update", "session": {"audio": {}}},
        {"type": "session.input_audio_buffer.append", "audio": "CCCC", "event_id": "a1"},
        {"type": "session.close"},
    ]


def test_session_paths_escape_the_id_and_refuse_an_empty_one() -> None:
    assert live_fork_path("ls_1") == "/live/sessions/ls_1/fork"
    assert live_sideband_path("a/b c?") == "/live/sessions/a%2Fb%20c%3F/attach"
    with pytest.raises(ValueError, match="session_id"):
        live_fork_path("")


def test_events_decode_to_each_sockets_classes() -> None:
    started = decode_live_event({"type": "session.started", "event_id": "s1", "session": {}})
    assert isinstance(started, SessionStartedEvent)
    assert isinstance(
        decode_fork_event({"type": "session.started", "session": {}}), SessionStartedEvent
    )
    error = decode_live_event({"type": "error", "error": {"code": "x", "message": "m"}})
    assert isinstance(error, LiveErrorEvent) and error.error.code == "x"
    dtmf = decode_sideband_event({"type": "transport.dtmf.received", "event": "5"})
    assert isinstance(dtmf, ConnectServerEventTransportDtmfReceived) and dtmf.event == "5"
    delta = decode_translation_event({"type": "session.output_transcript.delta", "delta": "ja"})
    assert isinstance(delta, RealtimeTranslationServerEventSessionOutputTranscriptDelta)
    # A type this package does not know keeps its fields.
    unknown = decode_live_event({"type": "session.new_thing", "n": 1})
    assert isinstance(unknown, UnknownModel) and unknown.type == "session.new_thing"
