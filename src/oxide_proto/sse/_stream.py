"""The OpenAI streaming protocol on top of SSE: parsed JSON payloads, errors, the end.

Every streaming endpoint sends `text/event-stream` whose `data` is one JSON value
per event. This layer turns those into `StreamEvent`s (the SSE event name and the
parsed JSON), ends the stream at `data: [DONE]`, and turns error events into
`APIError` the way the official SDK's `Stream` does:

- `data: [DONE]` (any data starting with it, as the SDK checks) ends the stream;
  whatever follows is ignored.
- Assistants events (`event: thread....`) carry the object in `data` and their
  name only in the SSE `event` field, so callers dispatch them on `event`; their
  data is never treated as an error (`thread.run.failed` reports `last_error`).
- Any other payload with a truthy top-level `error` raises `APIError` with that
  object as `body` and its `message` as the message.
- An `event: error` event, or a payload whose `type` is `"error"` (the Responses
  API's error event, which servers send with or without `event:` lines) raises
  too, with the payload (or its `error` object) as `body`. The SDK instead hands
  the Responses error event to the caller as a `ResponseErrorEvent`; pass
  `raise_errors=False` to get it (and every other payload) unchanged, as the SDK's
  `stream_mode="events"` does.

Servers disagree on Responses framing: some send `event:` lines and no `[DONE]`,
others data-only lines ending in `[DONE]`. Both decode to the same `StreamEvent`s
(dispatch on the JSON `type`); `StreamEnd.done` says whether `[DONE]` was seen,
so a caller can tell a cut-off Chat Completions stream (which always ends with
`[DONE]`) from a Responses stream that simply ended.
"""

from __future__ import annotations

import json
import json.scanner
from collections.abc import Callable
from typing import Any, cast

from ..base._errors import APIError, DecodingError, LocalProtocolError, MalformedEventError
from ..base._record import frozen
from ..base._types import Request, ResponseInfo
from ..http._events import NEED_DATA, NeedData
from ._sse import SSEDecoder

__all__ = ["StreamEvent", "StreamEnd", "OpenAIStreamDecoder"]

_MIB = 1024 * 1024
_DEFAULT_ERROR_MESSAGE = "An error occurred during streaming"
_PREVIEW = 200


@frozen
class StreamEvent:
    """One payload of an OpenAI stream.

    `data` is the parsed JSON (for every current endpoint an object whose `type`,
    or for Chat Completions `object`, names it); `event` is the SSE event name, or
    None when the server sent data-only lines.
    """

    event: str | None
    data: Any

    @property
    def type(self) -> str | None:
        """The payload's JSON `type`, else the SSE event name (Assistants events)."""
        data = self.data
        if isinstance(data, dict):
            kind = data.get("type")
            if isinstance(kind, str):
                return kind
        return self.event


@frozen
class StreamEnd:
    """The stream is over. `done` is True when the server sent `data: [DONE]`.

    False means the body ended without it: normal for Responses streams framed
    with `event:` lines, a truncation for Chat Completions and Completions.
    """

    done: bool


_new = object.__new__
_set_event = StreamEvent.__dict__["event"].__set__
_set_data = StreamEvent.__dict__["data"].__set__
# The C scanner behind `json.loads`, called directly: `loads` adds a type check, a
# BOM check and two whitespace regex matches per call, which is a fifth of the time
# on a typical stream chunk.
_scan: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(
    cast(Any, json.JSONDecoder())
)


class OpenAIStreamDecoder:
    """Decodes an OpenAI streaming body into `StreamEvent`s, then one `StreamEnd`.

    Same pull interface as `SSEDecoder`: `receive_data()` what the transport reads,
    `receive_eof()` at the end of the body, and call `next_event()` until it returns
    `NEED_DATA`. Once it has returned a `StreamEnd` it returns that same end again
    on every call; after `[DONE]` the caller may stop reading (HTTP/1.1 callers
    still drain the body to reuse the connection) and further data is ignored.

    `next_event()` raises `APIError` for an error event (see the module notes),
    `MalformedEventError` for data that is not JSON or not UTF-8 (never altered
    text), and `LimitExceededError` for a line or event beyond the limits.
    `request` (or `response`, the streamed response's head) is attached to those
    errors. Once it has raised, it raises the same error again on every call.
    """

    __slots__ = ("_end", "_error", "_raise_errors", "_request", "_response", "_sse")

    def __init__(
        self,
        *,
        max_line_size: int = 16 * _MIB,
        max_event_size: int = 16 * _MIB,
        raise_errors: bool = True,
        request: Request | None = None,
        response: ResponseInfo | None = None,
    ) -> None:
        self._sse = SSEDecoder(
            max_line_size=max_line_size, max_event_size=max_event_size, strict_utf8=True
        )
        self._raise_errors = raise_errors
        if request is None and response is not None:
            request = response.request
        self._request = request
        self._response = response
        self._end: StreamEnd | None = None
        self._error: Exception | None = None

    @property
    def done(self) -> bool:
        """True once `data: [DONE]` has been decoded."""
        return self._end is not None and self._end.done

    @property
    def last_event_id(self) -> str | None:
        """The SSE last event ID (for resuming a stream that supports it)."""
        return self._sse.last_event_id

    def receive_data(self, data: bytes) -> None:
        """Adds bytes read from the body; then call `next_event()` until `NEED_DATA`."""
        if self._end is not None:
            if self._end.done:
                return  # after [DONE] nothing more is meaningful
            raise LocalProtocolError("receive_data() called after the stream ended")
        self._sse.receive_data(data)

    def receive_eof(self) -> None:
        """Marks the end of the body; then drain `next_event()` for the `StreamEnd`."""
        if self._end is None:
            self._sse.receive_eof()

    def next_event(self) -> StreamEvent | StreamEnd | NeedData:
        """The next payload, the `StreamEnd`, or `NEED_DATA`."""
        if self._end is not None:
            return self._end
        if self._error is not None:
            raise self._error
        try:
            raw = self._sse._next_raw()
        except DecodingError as exc:
            self._error = self._not_text(exc)
            raise self._error from exc
        if raw is None:
            if self._sse.finished:
                self._end = StreamEnd(done=False)
                return self._end
            return NEED_DATA
        event, text = raw[0], raw[1]
        if text.startswith("[DONE]"):
            self._end = StreamEnd(done=True)
            return self._end
        try:
            data, end = _scan(text, 0)
            if end != len(text):
                data = json.loads(text)  # trailing whitespace, or an error to report
        except (StopIteration, ValueError, RecursionError):
            # `_scan` takes no leading whitespace and reports errors without a message:
            # `json.loads` decides, and explains.
            try:
                data = json.loads(text)
            except (ValueError, RecursionError) as exc:
                self._error = self._malformed(event, text, exc)
                raise self._error from exc
        if self._raise_errors and (
            event == "error"
            or (type(data) is dict and (data.get("error") or data.get("type") == "error"))
        ):
            body = self._error_body(event, data)
            if body is not None:
                message = body.get("message") if isinstance(body, dict) else None
                if not isinstance(message, str) or not message:
                    message = _DEFAULT_ERROR_MESSAGE
                self._error = APIError(message, self._request, body=body)
                raise self._error
        # Built through the slot descriptors: the frozen __init__ goes through
        # object.__setattr__ and costs twice as much.
        item = _new(StreamEvent)
        _set_event(item, event)
        _set_data(item, data)
        return item

    def _malformed(self, event: str | None, text: str, exc: Exception) -> MalformedEventError:
        reason = (
            f"{exc.msg} at position {exc.pos}"
            if isinstance(exc, json.JSONDecodeError)
            else "nested too deeply"
            if isinstance(exc, RecursionError)
            else str(exc)
        )
        preview = text[:_PREVIEW] + ("..." if len(text) > _PREVIEW else "")
        return MalformedEventError(
            f"stream event {event or 'message'!r} has data that is not JSON ({reason}): "
            f"{preview!r}",
            event=event,
            data=text,
            request=self._request,
            response=self._response,
        )

    def _not_text(self, exc: DecodingError) -> MalformedEventError:
        cause = exc.__cause__
        raw = cause.object if isinstance(cause, UnicodeDecodeError) else b""
        return MalformedEventError(
            f"stream data is not UTF-8 text: {exc}",
            event=None,
            data=bytes(raw).decode("utf-8", "replace"),
            request=self._request,
            response=self._response,
        )

    @staticmethod
    def _error_body(event: str | None, data: Any) -> object | None:
        """The error object a payload carries, or None when it is not an error."""
        if type(data) is not dict:
            return data if event == "error" else None
        if event is not None and event.startswith("thread."):
            return None
        error: object = data.get("error")
        if error:
            return error
        if event == "error" or data.get("type") == "error":
            return data
        return None
