"""The rules of a Realtime translation session that is never replayed, sans-I/O.

The official SDK's `openai.lib.realtime_translation` wraps a translation socket so
that a session ends cleanly: the caller sends `session.close` once, keeps
receiving the translation still in flight, and the session is over at the
server's `session.closed`. Nothing is sent again after a drop, because an audio
chunk whose write failed may or may not have reached the server. The decisions
live here, for both drivers:

- `check_translation_target`: what the session may connect to (a model is
  required; Azure and cloud-provider clients have no translation endpoint; an
  `intent` query parameter, which selects another Realtime endpoint, is refused
  wherever it would come from);
- `TranslationInput`: whether a client event may still go out (`open`, then
  `finishing` after `session.close`, then `closed`);
- `translation_event_payload`: a client event as the JSON object to send (a dict,
  or a model of the event);
- `ends_translation`: whether a server event is the session's last.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from ..base._errors import OpenAIError

__all__ = [
    "TranslationInput",
    "TranslationInputState",
    "check_translation_target",
    "ends_translation",
    "translation_event_payload",
]

TranslationInputState = Literal["open", "finishing", "closed"]

_FINISH = "session.close"
_INTENT = "intent"


def _query_names(url: str | None) -> set[str]:
    if not url:
        return set()
    return {name for name, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)}


def check_translation_target(
    model: str,
    *,
    base_url: str,
    websocket_base_url: str | None,
    queries: Iterable[Mapping[str, object]],
    azure: bool,
    provider: bool,
) -> None:
    """Raises when a translation session must not connect as asked.

    `queries` are the client's default query and the session's extra query;
    `azure` and `provider` say whether the client talks to Azure or to a cloud
    provider (neither serves translation sessions).
    """
    if not isinstance(model, str) or not model:
        raise ValueError(f"a translation model is required, not {model!r}")
    if azure or provider:
        raise OpenAIError(
            "Realtime translation sessions are not available through Azure or a cloud provider"
        )
    where = [
        name
        for name, found in (
            ("the base URL", _INTENT in _query_names(base_url)),
            ("the WebSocket base URL", _INTENT in _query_names(websocket_base_url)),
            ("the query", any(_INTENT in query for query in queries)),
        )
        if found
    ]
    if where:
        raise ValueError(
            f"Realtime translation takes no `intent` query parameter (found in {', '.join(where)})"
        )


def translation_event_payload(event: object) -> dict[str, Any]:
    """The client event as the JSON object to send: a mapping as it is, or a model
    of the event (anything with `to_dict()`, or pydantic's `model_dump()`)."""
    if isinstance(event, Mapping):
        payload = dict(event)
    else:
        to_dict = getattr(event, "to_dict", None) or getattr(event, "model_dump", None)
        if not callable(to_dict):
            raise TypeError(
                "a translation client event is a dict or an event model,"
                f" not {type(event).__name__}"
            )
        payload = to_dict()
        if not isinstance(payload, dict):
            raise TypeError(f"{type(event).__name__}.to_dict() did not give a dict")
    if not isinstance(payload.get("type"), str):
        raise ValueError(f"a translation client event needs a string `type`: {payload!r}")
    return payload


def ends_translation(event: object) -> bool:
    """Whether the server event is `session.closed`: nothing follows it."""
    kind = event.get("type") if isinstance(event, Mapping) else getattr(event, "type", None)
    return kind == "session.closed"


class TranslationInput:
    """Which client events a translation session still sends.

    `open` until `session.close` goes out, then `finishing`: the translation of the
    audio already sent is still coming, a second `session.close` is dropped
    silently and any other event is refused. `closed` once the connection is
    (or is being) closed: every event is refused.
    """

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state: TranslationInputState = "open"

    def admit(self, payload: Mapping[str, Any]) -> bool:
        """True to send `payload`, False to drop it; raises `OpenAIError` once input
        is closed. Call right before sending: `session.close` moves to `finishing`."""
        finish = payload.get("type") == _FINISH
        if self.state == "finishing" and finish:
            return False
        if self.state != "open":
            raise OpenAIError(
                "the Realtime translation session takes no more input"
                f" ({'session.close was sent' if self.state == 'finishing' else 'it is closed'})"
            )
        if finish:
            self.state = "finishing"
        return True

    def close(self) -> None:
        self.state = "closed"
