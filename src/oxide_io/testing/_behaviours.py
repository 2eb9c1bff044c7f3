"""Scripted behaviours: how the mock server misbehaves on the next request(s).

A test queues behaviours with `MockServer.enqueue(...)`; each request that
arrives takes, per *slot*, the oldest queued behaviour that accepts it. Slots are
independent, so one request can get a tool-call reply, gzip and a cut stream at
once, while a `Fail` ends the request before the others are looked at (they stay
queued for the next request that is actually answered).

Every behaviour is a small frozen attrs class with two keyword-only fields:
`times` (how many requests it applies to; `None` for every request until
`MockServer.clear()`) and `path` (a shell-style pattern such as
``"/v1/chat/completions"`` or ``"*/responses"``; `None` matches every path).

    >>> Fail(429, retry_after=1)
    Fail(status=429, retry_after=1, ...)
    >>> CutStream(after_events=3, times=2, path="/v1/chat/completions")
    CutStream(after_events=3, times=2, path='/v1/chat/completions')
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = [
    "Behaviour",
    "ComputerCall",
    "CutStream",
    "Delay",
    "Fail",
    "Gzip",
    "Malformed",
    "OutputItems",
    "Plan",
    "Reply",
    "Script",
    "SlowFirstToken",
    "Stall",
    "ToolCall",
    "ToolCalls",
    "Truncate",
]


def _times_valid(instance: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and value < 1:
        raise ValueError(f"{attribute.name} must be >= 1, or None for every request; got {value}")


def _not_negative(instance: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and value < 0:
        raise ValueError(f"{attribute.name} must be >= 0; got {value}")


def _times() -> Any:
    return attrs.field(default=1, kw_only=True, validator=_times_valid)


def _path() -> Any:
    return attrs.field(default=None, kw_only=True)


@attrs.frozen
class Fail:
    """Answer with an HTTP error instead of the normal response.

    `retry_after` (seconds) and `retry_after_ms` become the `retry-after` and
    `retry-after-ms` headers; `should_retry` becomes `x-should-retry: true|false`.
    The body has the API's shape, ``{"error": {"message", "type", "param", "code"}}``,
    unless `body` replaces it (bytes are sent as they are, anything else as JSON).

        >>> Fail(429, retry_after=1)                   # rate limited, retry in 1 s
        >>> Fail(500, should_retry=False, times=3)     # three failures, "do not retry"
        >>> Fail(400, body=b"<html>bad gateway</html>")  # a body that is not JSON
    """

    status: int = attrs.field()
    retry_after: float | None = attrs.field(default=None, validator=_not_negative)
    retry_after_ms: float | None = attrs.field(default=None, validator=_not_negative)
    should_retry: bool | None = None
    message: str | None = None
    type: str | None = None
    code: str | None = None
    param: str | None = None
    body: object = None
    headers: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=tuple)
    times: int | None = _times()
    path: str | None = _path()

    @status.validator
    def _status_is_error(self, attribute: attrs.Attribute[int], value: int) -> None:
        if not 400 <= value <= 599:
            raise ValueError(f"Fail.status must be an HTTP error status (400-599); got {value}")


@attrs.frozen
class Delay:
    """Wait `seconds` before sending the response head."""

    seconds: float = attrs.field(validator=_not_negative)
    times: int | None = _times()
    path: str | None = _path()


@attrs.frozen
class SlowFirstToken:
    """On a streamed response, wait `seconds` after the head, before the first event."""

    seconds: float = attrs.field(validator=_not_negative)
    times: int | None = _times()
    path: str | None = _path()


@attrs.frozen
class CutStream:
    """On a streamed response, send `after_events` events, then break the transport.

    Over HTTP/1.1 the connection is closed mid-body (the chunked body never ends);
    over HTTP/2 the stream is reset with INTERNAL_ERROR, other streams carry on.
    """

    after_events: int = attrs.field(default=1, validator=_not_negative)
    times: int | None = _times()
    path: str | None = _path()


@attrs.frozen
class Truncate:
    """On a streamed response, end the body cleanly but early.

    With `after_events=None` every event is sent except the terminator: chat
    streams lose `data: [DONE]`, Responses streams lose `response.completed`.
    With a number, only that many events are sent. The transport ends normally,
    so only a client that checks for the terminator notices.
    """

    after_events: int | None = attrs.field(default=None, validator=_not_negative)
    times: int | None = _times()
    path: str | None = _path()


@attrs.frozen
class Malformed:
    """On a streamed response, send a `data:` line that is not JSON after `after_events`
    events, then carry on with the rest of the stream."""

    after_events: int = attrs.field(default=1, validator=_not_negative)
    data: str = '{"choices": [{"delta": {"content": "oops"'
    times: int | None = _times()
    path: str | None = _path()


@attrs.frozen
class Stall:
    """On a streamed response, send `after_events` events, then nothing.

    The connection stays open: with `seconds=None` until the client goes away
    or the server stops (exercising read timeouts), otherwise for `seconds`,
    after which the stream carries on.
    """

    after_events: int = attrs.field(default=1, validator=_not_negative)
    seconds: float | None = attrs.field(default=None, validator=_not_negative)
    times: int | None = _times()
    path: str | None = _path()


@attrs.frozen
class Gzip:
    """Compress the body with `Content-Encoding: gzip` when the request's
    `Accept-Encoding` allows it (streams are flushed event by event)."""

    times: int | None = _times()
    path: str | None = _path()


def _arguments(value: str | Mapping[str, Any]) -> str:
    if isinstance(value, str):
        return value
    import json

    return json.dumps(dict(value), separators=(",", ":"))


@attrs.frozen
class ToolCall:
    """One function call the mock model makes.

    `arguments` is the JSON text the API sends; a mapping is serialised for you.
    A string that is not JSON is sent as it is, to test how a client copes.
    `id` defaults to a fresh ``call_...`` id.
    """

    name: str
    arguments: str = attrs.field(default="{}", converter=_arguments)
    id: str | None = None


def _tool_calls(calls: Iterable[ToolCall]) -> tuple[ToolCall, ...]:
    return tuple(calls)


@attrs.frozen
class ToolCalls:
    """Reply with tool calls instead of text (chat completions and Responses).

        >>> ToolCalls([ToolCall("get_weather", {"city": "Paris"})])

    Chat replies finish with `finish_reason: "tool_calls"`; streamed, each call
    starts with a delta carrying its id and name, then its arguments in pieces.
    """

    calls: tuple[ToolCall, ...] = attrs.field(converter=_tool_calls)
    times: int | None = _times()
    path: str | None = _path()


def _output_items(items: Iterable[Mapping[str, Any]]) -> tuple[Mapping[str, Any], ...]:
    return tuple(dict(item) for item in items)


@attrs.frozen
class OutputItems:
    """Reply to a Responses request with these output items, as they are.

        >>> OutputItems([{"type": "web_search_call", "status": "completed",
        ...               "action": {"type": "search", "query": "oxide"}}])

    For what the mock model has no rule of its own for: server tool results
    (`web_search_call`, `mcp_approval_request`, `mcp_call`, ...), reasoning,
    several messages. An item without an `id` gets a fresh one. Streamed, each
    item is added (`in_progress`) and done. A chat completion gets an empty reply.
    """

    items: tuple[Mapping[str, Any], ...] = attrs.field(converter=_output_items)
    times: int | None = _times()
    path: str | None = _path()


@attrs.frozen
class Reply:
    """Reply with this text (chat completions and Responses), instead of
    `MockServer.reply_text`."""

    text: str
    finish_reason: str = "stop"
    times: int | None = _times()
    path: str | None = _path()


def _dicts(items: Iterable[Mapping[str, Any]]) -> tuple[dict[str, Any], ...]:
    return tuple(dict(item) for item in items)


@attrs.frozen
class ComputerCall:
    """Reply (Responses only) with a `computer_call` asking for these actions.

        >>> ComputerCall([{"type": "click", "button": "left", "x": 10, "y": 20}])

    `actions` are the API's action objects (click, double_click, drag, keypress,
    move, screenshot, scroll, type, wait), sent as the call's `actions` batch, or as
    the older single `action` with `batched=False` (one action only).
    `pending_safety_checks` are sent as given; `call_id` defaults to a fresh id.
    """

    actions: tuple[dict[str, Any], ...] = attrs.field(converter=_dicts)
    pending_safety_checks: tuple[dict[str, Any], ...] = attrs.field(default=(), converter=_dicts)
    call_id: str | None = None
    batched: bool = True
    times: int | None = _times()
    path: str | None = attrs.field(default="*/responses", kw_only=True)

    def __attrs_post_init__(self) -> None:
        if not self.batched and len(self.actions) != 1:
            raise ValueError("a ComputerCall with batched=False carries exactly one action")


Behaviour = (
    Fail
    | Delay
    | SlowFirstToken
    | CutStream
    | Truncate
    | Malformed
    | Stall
    | Gzip
    | ToolCalls
    | OutputItems
    | Reply
    | ComputerCall
)

# The slot a behaviour fills, in the order a request's plan is resolved.
_SLOTS: dict[type[Any], str] = {
    Fail: "fail",
    Delay: "delay",
    SlowFirstToken: "first_token",
    CutStream: "stream_fault",
    Truncate: "stream_fault",
    Malformed: "stream_fault",
    Stall: "stream_fault",
    Gzip: "encoding",
    ToolCalls: "reply",
    OutputItems: "reply",
    Reply: "reply",
    ComputerCall: "reply",
}
_STREAM_ONLY = ("first_token", "stream_fault")
_GENERATION_ONLY = ("reply",)


@attrs.frozen
class Plan:
    """What was decided for one request: at most one behaviour per slot."""

    fail: Fail | None = None
    delay: Delay | None = None
    first_token: SlowFirstToken | None = None
    stream_fault: CutStream | Truncate | Malformed | Stall | None = None
    encoding: Gzip | None = None
    reply: ToolCalls | OutputItems | Reply | ComputerCall | None = None


class Script:
    """The thread-safe queue of behaviours that requests consume."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # [behaviour, remaining uses or None for unlimited]
        self._entries: list[list[Any]] = []

    def add(self, behaviours: Iterable[Behaviour]) -> None:
        items = list(behaviours)
        for item in items:
            if type(item) not in _SLOTS:
                raise TypeError(f"not a mock server behaviour: {item!r}")
        with self._lock:
            self._entries.extend([item, item.times] for item in items)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def pending(self) -> list[Behaviour]:
        with self._lock:
            return [entry[0] for entry in self._entries]

    def take(self, path: str, *, stream: bool, generates: bool) -> Plan:
        """Consume, per slot, the oldest behaviour that applies to this request.

        `stream` says the response will be an event stream (stream faults only
        apply then); `generates` says the endpoint produces model output (replies
        only apply then).
        """
        with self._lock:
            matching = [
                entry
                for entry in self._entries
                if self._applies(entry[0], path, stream=stream, generates=generates)
            ]
            failure = [entry for entry in matching if isinstance(entry[0], Fail)]
            # A failure pre-empts the request: whatever else is queued stays
            # queued for the next request that is actually answered.
            picked: dict[str, list[Any]] = {}
            for entry in failure[:1] or matching:
                picked.setdefault(_SLOTS[type(entry[0])], entry)
            for entry in picked.values():
                if entry[1] is not None:
                    entry[1] -= 1
            self._entries = [e for e in self._entries if e[1] is None or e[1] > 0]
        return Plan(**{slot: entry[0] for slot, entry in picked.items()})

    @staticmethod
    def _applies(behaviour: Behaviour, path: str, *, stream: bool, generates: bool) -> bool:
        slot = _SLOTS[type(behaviour)]
        if slot in _STREAM_ONLY and not stream:
            return False
        if slot in _GENERATION_ONLY and not generates:
            return False
        return behaviour.path is None or fnmatch.fnmatchcase(path, behaviour.path)
