"""The translation session's rules (`oxide_proto.sessions._translation_session`), sans-I/O."""

from __future__ import annotations

from typing import Any

import pytest

from oxide_proto import OpenAIError
from oxide_proto.sessions._translation_session import (
    TranslationInput,
    check_translation_target,
    ends_translation,
    translation_event_payload,
)
from oxide_proto.types import RealtimeTranslationServerEventSessionClosed


def test_input_is_open_until_session_close_then_finishing_then_closed() -> None:
    state = TranslationInput()
    assert state.admit({"type": "session.update"})
    assert state.admit({"type": "session.input_audio_buffer.append", "audio": "AA=="})
    assert state.state == "open"
    assert state.admit({"type": "session.close"})
    assert state.state == "finishing"
    assert not state.admit({"type": "session.close"})  # dropped, not refused
    with pytest.raises(OpenAIError, match=r"session\.close was sent"):
        state.admit({"type": "session.input_audio_buffer.append", "audio": "AA=="})
    state.close()
    with pytest.raises(OpenAIError, match="it is closed"):
        state.admit({"type": "session.close"})
    with pytest.raises(OpenAIError, match="it is closed"):
        state.admit({"type": "session.update"})


def test_closing_before_any_close_event_refuses_everything() -> None:
    state = TranslationInput()
    state.close()
    with pytest.raises(OpenAIError):
        state.admit({"type": "session.close"})


class _Model:
    def __init__(self, payload: Any) -> None:
        self.payload = payload

    def to_dict(self) -> Any:
        return self.payload


def test_event_payloads() -> None:
    event = {"type": "session.close", "event_id": "e1"}
    assert translation_event_payload(event) == event
    assert translation_event_payload(event) is not event
    assert translation_event_payload(_Model({"type": "session.update"})) == {
        "type": "session.update"
    }
    with pytest.raises(TypeError, match="dict or an event model"):
        translation_event_payload(["session.close"])
    with pytest.raises(TypeError, match="did not give a dict"):
        translation_event_payload(_Model(["x"]))
    with pytest.raises(ValueError, match="string `type`"):
        translation_event_payload({"event_id": "e"})


def test_only_session_closed_ends_the_session() -> None:
    assert ends_translation({"type": "session.closed"})
    assert ends_translation(
        RealtimeTranslationServerEventSessionClosed.from_dict(
            {"type": "session.closed", "event_id": "e"}
        )
    )
    assert not ends_translation({"type": "session.updated"})
    assert not ends_translation(object())


def _check(model: str = "m", **overrides: Any) -> None:
    options: dict[str, Any] = {
        "base_url": "https://api.openai.com/v1",
        "websocket_base_url": None,
        "queries": ({}, {}),
        "azure": False,
        "provider": False,
        **overrides,
    }
    check_translation_target(model, **options)


@pytest.mark.parametrize(
    ("model", "overrides", "error", "message"),
    [
        ("", {}, ValueError, "model is required"),
        ("m", {"azure": True}, OpenAIError, "Azure or a cloud provider"),
        ("m", {"provider": True}, OpenAIError, "Azure or a cloud provider"),
        ("m", {"base_url": "https://h/v1?intent=t"}, ValueError, "found in the base URL"),
        ("m", {"websocket_base_url": "wss://h/v1?a=1&intent="}, ValueError, "WebSocket base URL"),
        ("m", {"queries": ({"intent": "x"}, {})}, ValueError, "found in the query"),
        ("m", {"queries": ({}, {"intent": None})}, ValueError, "found in the query"),
        (
            "m",
            {"base_url": "https://h/v1?intent=t", "queries": ({}, {"intent": 1})},
            ValueError,
            "found in the base URL, the query",
        ),
    ],
)
def test_targets_refused(
    model: str, overrides: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        _check(model, **overrides)


def test_targets_taken() -> None:
    _check()
    _check(base_url="https://h/v1?api-version=1", websocket_base_url="wss://h/v1?x=intent")
    _check(queries=({"lane": "a"}, {"intents": "x"}))
