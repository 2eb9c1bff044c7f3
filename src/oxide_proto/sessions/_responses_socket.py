"""The Responses API over a WebSocket, sans-I/O: client events out, one response's outcome in.

`ResponsesClientEvents` builds the client events (`response.create` with the
parameters of `POST /v1/responses`, `response.steer`) and hands each to a `send`
callable, returning what it returns: the async connection's `send` gives an
awaitable, the blocking one's None, so one class serves both.

`ResponsesTurn` follows one `response.create` at a time on a connection: it reads
the server's events up to the one that ends the response (`response.completed`,
`response.failed`, `response.incomplete` or `error`) and says what that response
came to: the `Response`, or the typed error for a failure. A response the caller
stopped reading is read to its end before the next request goes out, so requests
never see each other's events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

from ..api._decode import decode
from ..api._model import UnknownModel
from ..base._errors import ResponseFailedError, ResponseIncompleteError
from ..helpers._responses_accumulator import decode_response_stream_event
from ..helpers._schema import as_responses_tools, text_with_format
from ..types import BetaResponsesServerEvent as _BetaResponsesServerEvent
from ..types.responses import Response, ResponseStreamEvent
from ._event_socket import event_error, parse_event_payload

__all__ = [
    "BetaResponsesClientEvents",
    "ResponsesClientEvents",
    "ResponsesTurn",
    "decode_beta_responses_event",
    "parse_responses_event",
    "stream_request",
]

ResponsesServerEvent = ResponseStreamEvent | UnknownModel
BetaResponsesServerEvent = _BetaResponsesServerEvent | UnknownModel

R = TypeVar("R")

# The events that end one response on the connection.
_TERMINAL = frozenset({"response.completed", "response.failed", "response.incomplete", "error"})


def parse_responses_event(data: str | bytes) -> ResponsesServerEvent:
    """One server message as a typed event; `MalformedEventError` when it is not JSON."""
    return decode_response_stream_event(parse_event_payload(data))


class ResponsesClientEvents(Generic[R]):
    """`conn.response`: the client events about responses, each handed to `send`."""

    def __init__(self, send: Callable[[dict[str, Any]], R]) -> None:
        self._send = send

    def create(self, **params: Any) -> R:
        """Sends `response.create` with the parameters of `POST /v1/responses`.

        `model`, `input`, `instructions`, `tools`, `previous_response_id`, `store`,
        ... are sent as given; `stream` is implicit over a WebSocket. `stream_id`
        names a lane: requests on one lane are answered in order.
        """
        return self._send({"type": "response.create", **params})

    def steer(self, *, input: Any, previous_response_id: str) -> R:
        """Queues input for a running response (`response.steer`).

        The server answers `response.steer.accepted`, `.pending` or `.failed`.
        """
        return self._send(
            {"type": "response.steer", "input": input, "previous_response_id": previous_response_id}
        )


class BetaResponsesClientEvents(ResponsesClientEvents[R]):
    """`conn.response` of the beta Responses socket: `response.inject` besides."""

    def inject(self, *, input: Iterable[Mapping[str, Any]], response_id: str) -> R:
        """Injects input items (client-owned tool outputs) into an active response."""
        return self._send(
            {"type": "response.inject", "input": list(input), "response_id": response_id}
        )


def decode_beta_responses_event(payload: Mapping[str, Any]) -> BetaResponsesServerEvent:
    """One beta Responses server event's JSON object as its typed class."""
    # The spec's union: its `type` tags pick the class, an unknown one is UnknownModel.
    event: BetaResponsesServerEvent = decode(_BetaResponsesServerEvent, payload)
    return event


def stream_request(
    request: Mapping[str, Any] | None,
    params: Mapping[str, Any],
    *,
    text_format: type | None = None,
    tools: Iterable[Mapping[str, Any]] | None = None,
) -> tuple[dict[str, Any], list[Mapping[str, Any]] | None]:
    """The parameters of a streamed `response.create` (`params` win), and its tools.

    As `client.responses.stream()` takes them: `text_format` becomes `text.format`
    (its strict JSON schema), and `tools` go in the Responses shape, Chat
    Completions function tools converted; the tools come back for parsing the
    calls' arguments. Raises `TypeError` as `text_with_format` and
    `as_responses_tools` do.
    """
    body = {**(request or {}), **params}
    if text_format is not None:
        body["text"] = text_with_format(body.get("text"), text_format)
    tool_list = None if tools is None else as_responses_tools(tools)
    if tool_list is not None:
        body["tools"] = tool_list
    return body, tool_list


class ResponsesTurn:
    """One response at a time on a connection: `start`, `feed` its events, then `result`."""

    __slots__ = ("last", "unfinished")

    def __init__(self) -> None:
        # A response was requested and its last event has not been read.
        self.unfinished = False
        self.last: Mapping[str, Any] | None = None

    def start(self, request: Mapping[str, Any] | None, params: Mapping[str, Any]) -> dict[str, Any]:
        """The `response.create` event for `request` and `params` (params win).

        Call `feed` up to the end of an unfinished response first (`unfinished`).
        The response counts as started from here: if the send fails midway, the
        server may still answer.
        """
        self.unfinished = True
        self.last = None
        return {"type": "response.create", **(request or {}), **params}

    def feed(self, payload: Mapping[str, Any]) -> bool:
        """Takes one server event; True when it ends the response."""
        if payload.get("type") not in _TERMINAL:
            return False
        self.unfinished = False
        self.last = payload
        return True

    def stopped(self) -> None:
        """The connection closed, timed out or broke: nothing of the response follows."""
        self.unfinished = False

    def check(self) -> None:
        """Raises `APIEventError` when the event that ended the response is `error`."""
        if self.last is not None and self.last.get("type") == "error":
            raise event_error(self.last)

    def result(self) -> Response:
        """The completed `Response`; raises what a failed, incomplete or errored one is.

        `ResponseFailedError` for `response.failed`, `ResponseIncompleteError` for
        `response.incomplete`, `APIEventError` for an `error` event or an ending
        event without a response.
        """
        payload = self.last
        if payload is None:
            raise RuntimeError("result() before the response ended")
        self.check()
        kind = payload.get("type")
        event = decode_response_stream_event(payload)
        response = getattr(event, "response", None)
        if not isinstance(response, Response):
            raise event_error({"type": "error", "error": {"message": f"{kind} without a response"}})
        if kind == "response.completed":
            return response
        if kind == "response.failed":
            detail = getattr(response.error, "message", None) or "no details given"
            raise ResponseFailedError(
                f"response {response.id} failed: {detail}",
                response=response,
                body=payload.get("response", {}).get("error"),
            )
        reason = getattr(response.incomplete_details, "reason", None)
        raise ResponseIncompleteError(
            f"response {response.id} is incomplete: {reason or 'no reason given'}",
            response=response,
            reason=reason,
        )
