"""Lanes of responses over one Responses WebSocket, sans-I/O: routing, budgets, outcomes.

A `response.create` may carry a `stream_id`; the server answers requests of one
`stream_id` in order and echoes it on every event of their responses. A lane is
the client's view of one `stream_id` (the default lane, of none): `LaneRouter`
puts each received event in the queue of its lane, within the budgets the
application chose (`ResponsesWebSocketLimits`: lanes, events and bytes held,
per lane and in all), and follows each lane's current response to its end
(`LaneTurn`): the final `Response`, also when it failed or is incomplete, or
the typed error of an `error` event. An event of a `stream_id` no lane claimed
is given to the default lane for inspection and changes none of its state.

`ResponsesWebSocketAccumulator` is the caller-fed projection of one response
(output items with their text, arguments and tool input) for code that reads
events itself.

Nothing here reads or writes a socket: the drivers receive messages, hand them to
`dispatch`, and take them back out with `pop`.
"""

from __future__ import annotations

import dataclasses
import re
from collections import deque
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from ..api._decode import decode
from ..base._errors import OpenAIError
from ..types.responses import Response

__all__ = [
    "LaneRouter",
    "ResponsesWebSocketAccumulator",
    "ResponsesWebSocketBufferError",
    "ResponsesWebSocketError",
    "ResponsesWebSocketLimits",
    "ResponsesWebSocketOutput",
    "ResponsesWebSocketSnapshot",
    "lane_command",
]

E = TypeVar("E")

_STREAM_ID = re.compile(r"[A-Za-z0-9_.-]{1,256}")
# The events that end a response, and those that carry it whole.
_TERMINAL = frozenset({"response.completed", "response.failed", "response.incomplete"})
_WITH_RESPONSE = frozenset({"response.created", "response.queued", "response.in_progress"})


@dataclasses.dataclass(frozen=True)
class ResponsesWebSocketLimits:
    """What a session may hold at once, chosen by the application (not the server's limits).

    Counts are of received events not yet read; bytes are those of the messages
    as received. `max_response_bytes` bounds what one response's outcome is built
    from (None: no bound). Every value is a positive integer; anything else is a
    `ValueError` when the limits are made.
    """

    max_lanes: int
    max_events_per_lane: int
    max_events: int
    max_bytes_per_lane: int
    max_bytes: int
    max_response_bytes: int | None = None

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None and field.name == "max_response_bytes":
                continue
            if type(value) is not int or value <= 0:
                raise ValueError(
                    f"ResponsesWebSocketLimits.{field.name} must be a positive integer,"
                    f" not {value!r}"
                )


class ResponsesWebSocketBufferError(OpenAIError, RuntimeError):
    """A session, lane or response went over a budget of `ResponsesWebSocketLimits`."""


class ResponsesWebSocketError(OpenAIError, RuntimeError):
    """The server answered a lane's request with an `error` event (kept as `event`)."""

    def __init__(self, event: object, payload: Mapping[str, Any] | None = None) -> None:
        payload = _as_dict(event) if payload is None else payload
        details = payload.get("error")
        message = details.get("message") if isinstance(details, Mapping) else None
        text = message if isinstance(message, str) and message else "no message given"
        super().__init__(f"the Responses WebSocket request failed: {text}")
        self.event = event


def _as_dict(event: object) -> Mapping[str, Any]:
    if isinstance(event, Mapping):
        return event
    to_dict = getattr(event, "to_dict", None)
    found = to_dict() if callable(to_dict) else None
    return found if isinstance(found, Mapping) else {}


def check_stream_id(stream_id: object) -> str | None:
    """`stream_id` itself when it is None or 1 to 256 of `A-Z a-z 0-9 _ . -`."""
    if stream_id is None or (isinstance(stream_id, str) and _STREAM_ID.fullmatch(stream_id)):
        return stream_id
    raise ValueError(
        f"stream_id {stream_id!r}: give None or 1 to 256 ASCII letters, digits, '_', '.' or '-'"
    )


def lane_command(event: object, stream_id: str | None) -> tuple[dict[str, Any], bool]:
    """The client event a lane sends, and whether it creates a response.

    A `response.create` gets the lane's `stream_id`; one naming another lane is a
    `ValueError`. Other events go as given.
    """
    payload = dict(_as_dict(event))
    if not payload and not isinstance(event, Mapping):
        raise TypeError(f"a client event is a dict or an event model, not {type(event).__name__}")
    creates = payload.get("type") == "response.create"
    if creates:
        if "stream_id" in payload and payload["stream_id"] != stream_id:
            raise ValueError(
                f"this response.create names stream_id {payload['stream_id']!r},"
                f" but it is sent on the lane of {stream_id!r}"
            )
        if stream_id is not None:
            payload["stream_id"] = stream_id
    return payload, creates


def _response(payload: Mapping[str, Any]) -> Response | None:
    found = payload.get("response")
    return decode(Response, found) if isinstance(found, Mapping) else None


class LaneTurn:
    """One lane's current response: its output items as they finish, then its outcome."""

    __slots__ = ("error", "final", "items", "limit", "size")

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.size = 0
        self.items: dict[int, Any] = {}
        self.final: Response | None = None
        self.error: Exception | None = None

    def feed(self, payload: Mapping[str, Any], size: int, event: object = None) -> None:
        """Takes one event of the lane's own responses, in order (`event`: its typed form)."""
        kind = payload.get("type")
        if kind == "error":
            self.items, self.final = {}, None
            self.error = ResponsesWebSocketError(payload if event is None else event, payload)
            return
        if kind == "response.created":
            self.size, self.items, self.final, self.error = 0, {}, None, None
        if self.error is not None:
            return
        done_item = kind == "response.output_item.done"
        if kind != "response.created" and kind not in _TERMINAL and not done_item:
            return  # deltas are the caller's to read; the outcome is built from the rest
        self.size += size
        if self.limit is not None and self.size > self.limit:
            self.items, self.final = {}, None
            self.error = ResponsesWebSocketBufferError(
                f"one response's events went over max_response_bytes ({self.limit})"
            )
            return
        if done_item:
            index = payload.get("output_index")
            if isinstance(index, int) and isinstance(payload.get("item"), Mapping):
                self.items[index] = payload["item"]
        elif kind in _TERMINAL:
            response = _response(payload)
            if response is None:
                self.error = ResponsesWebSocketError(
                    {"type": "error", "error": {"message": f"{kind} without a response"}}
                )
                return
            if not response.output and self.items:
                # The ending event may leave out what the finished items said.
                whole = {
                    **payload["response"],
                    "output": [self.items[i] for i in sorted(self.items)],
                }
                response = decode(Response, whole)
            self.final = response
            self.items = {}


@dataclasses.dataclass(eq=False)
class Lane(Generic[E]):
    """What the router holds for one `stream_id`."""

    stream_id: str | None
    turn: LaneTurn
    queue: deque[tuple[E, Mapping[str, Any], int]] = dataclasses.field(default_factory=deque)
    size: int = 0
    closed: bool = False
    failure: ResponsesWebSocketBufferError | None = None
    # A response.create was sent and its last event has not been read.
    in_flight: bool = False


class LaneRouter(Generic[E]):
    """The lanes of one session: each received event to its lane's queue, within budgets.

    `dispatch` raises `ResponsesWebSocketBufferError` when an event would go over
    a budget, and the session is then over; with `isolate_lane_overflow` only the
    lane that holds the most is failed (its reader gets the error, its later
    events are dropped) and the others go on.
    """

    def __init__(self, limits: ResponsesWebSocketLimits, *, isolate_lane_overflow: bool = False):
        self.limits = limits
        self.isolate = isolate_lane_overflow
        self.lanes: dict[str | None, Lane[E]] = {}
        self.events = 0
        self.size = 0
        self.ended = False
        self.error: BaseException | None = None
        self.default = self.register(None)

    def register(self, stream_id: object) -> Lane[E]:
        """A new lane (`ValueError`: bad or taken `stream_id`; over `max_lanes`: budget error)."""
        checked = check_stream_id(stream_id)
        if self.ended:
            raise RuntimeError("the Responses WebSocket session is over: no new lanes")
        if checked in self.lanes:
            raise ValueError(f"a lane of stream_id {checked!r} is already open on this session")
        if len(self.lanes) >= self.limits.max_lanes:
            raise ResponsesWebSocketBufferError(
                f"a session holds at most max_lanes={self.limits.max_lanes} lanes"
                " (the default one and closed ones included)"
            )
        lane: Lane[E] = Lane(checked, LaneTurn(self.limits.max_response_bytes))
        self.lanes[checked] = lane
        if checked is None:
            self.default = lane
        return lane

    def detach(self, lane: Lane[E]) -> None:
        """Closes a lane: its queued events are dropped, later ones go to the default lane.

        It keeps its `stream_id` and its place in `max_lanes`: the server may still
        answer requests sent on it.
        """
        if lane.closed:
            return
        lane.closed = True
        self.events -= len(lane.queue)
        self.size -= lane.size
        lane.queue.clear()
        lane.size = 0
        lane.in_flight = False

    def _fail(self, lane: Lane[E]) -> None:
        if not lane.closed:
            lane.failure = ResponsesWebSocketBufferError(
                f"lane {lane.stream_id!r} held more events than its budgets allow"
            )
            self.detach(lane)

    def dispatch(self, event: E, payload: Mapping[str, Any], size: int) -> Lane[E] | None:
        """Queues a received event (`payload` its JSON, `size` its bytes); the lane it went to."""
        if self.ended:
            return None
        lane = self.lanes.get(payload.get("stream_id"), self.default)
        if lane.failure is not None:
            return None
        if lane.closed:
            lane = self.default
            if lane.closed:
                return None
        limits = self.limits
        lane_full = (
            len(lane.queue) >= limits.max_events_per_lane
            or lane.size + size > limits.max_bytes_per_lane
        )
        if self.isolate:
            if lane_full or size > limits.max_bytes:
                self._fail(lane)
                return None
        elif lane_full or self.events >= limits.max_events or self.size + size > limits.max_bytes:
            raise ResponsesWebSocketBufferError(
                f"the session held more received events than its budgets allow ({limits})"
            )
        lane.queue.append((event, payload, size))
        lane.size += size
        self.size += size
        self.events += 1
        while self.isolate and (self.events > limits.max_events or self.size > limits.max_bytes):
            self._fail(self._largest(lane, size, by_bytes=self.size > limits.max_bytes))
        return lane

    def _largest(self, arriving: Lane[E], size: int, *, by_bytes: bool) -> Lane[E]:
        # The lane holding the most, not counting the event that just arrived;
        # the first registered wins a tie, and the arriving lane when none holds any.
        best, most = arriving, 0
        for lane in self.lanes.values():
            held = lane.size if by_bytes else len(lane.queue)
            if lane is arriving:
                held -= size if by_bytes else 1
            if held > most:
                best, most = lane, held
        return best

    def pop(self, lane: Lane[E]) -> E | None:
        """The lane's next event, or None when none is queued and more may come.

        Raises the lane's budget failure, `EOFError` for a closed lane or a session
        that ended normally, or what ended the session.
        """
        if lane.failure is not None:
            raise lane.failure
        if lane.closed:
            raise EOFError(f"lane {lane.stream_id!r} is closed")
        if lane.queue:
            event, payload, size = lane.queue.popleft()
            lane.size -= size
            self.size -= size
            self.events -= 1
            if payload.get("stream_id") == lane.stream_id:
                lane.turn.feed(payload, size, event)
                kind = payload.get("type")
                if kind == "response.created":
                    lane.in_flight = True
                elif kind in _TERMINAL or kind == "error":
                    lane.in_flight = False
            return event
        if self.ended:
            if self.error is not None:
                raise self.error
            raise EOFError("the Responses WebSocket connection closed")
        return None

    def prepare(self, lane: Lane[E], creates: bool) -> None:
        """Before a lane sends: refuses a send on an ended session or closed lane, and a
        second `response.create` before the lane's current response was read to its end."""
        if self.ended or lane.closed:
            raise RuntimeError("the Responses WebSocket session or this lane is closed")
        if lane.failure is not None:
            raise lane.failure
        if creates:
            if lane.in_flight:
                raise RuntimeError(
                    "this lane's response is still running: read it to its end"
                    " (get_final_response()) before sending another response.create"
                )
            lane.turn = LaneTurn(self.limits.max_response_bytes)
            lane.in_flight = True

    def finish(self, error: BaseException | None = None) -> None:
        """The session is over (the first `error` given is what readers get)."""
        self.ended = True
        if self.error is None:
            self.error = error


@dataclasses.dataclass(frozen=True)
class ResponsesWebSocketOutput:
    """One output item as far as received: `text` is (content_index, text) pairs."""

    output_index: int
    item_id: str | None
    type: str | None
    name: str | None
    call_id: str | None
    arguments: str
    input: str
    text: tuple[tuple[int, str], ...]


@dataclasses.dataclass(frozen=True)
class ResponsesWebSocketSnapshot:
    """A response as far as received; `terminal_type` is None until it ended."""

    stream_id: str | None
    response_id: str | None
    terminal_type: str | None
    output: tuple[ResponsesWebSocketOutput, ...]

    @property
    def output_text(self) -> str:
        return "".join(text for item in self.output for _, text in item.text)


@dataclasses.dataclass
class _Item:
    item_id: str | None = None
    type: str | None = None
    name: str | None = None
    call_id: str | None = None
    arguments: list[str] = dataclasses.field(default_factory=list)
    input: list[str] = dataclasses.field(default_factory=list)
    text: dict[int, list[str]] = dataclasses.field(default_factory=dict)

    def take(self, item: Mapping[str, Any]) -> None:
        """The fields a whole item (`output_item.added` / `.done`, a response's output) gives."""
        for name in ("type", "name", "call_id"):
            if isinstance(item.get(name), str):
                setattr(self, name, item[name])
        if isinstance(item.get("id"), str):
            self.item_id = item["id"]
        if isinstance(item.get("arguments"), str):
            self.arguments = [item["arguments"]]
        if isinstance(item.get("input"), str):
            self.input = [item["input"]]
        content = item.get("content")
        if isinstance(content, list):
            for position, part in enumerate(content):
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    self.text[position] = [part["text"]]


# Event type -> (the field carrying the text, which of the item's texts it goes to,
# whether it replaces what came before).
_TEXT_EVENTS: dict[str, tuple[str, str, bool]] = {
    "response.output_text.delta": ("delta", "text", False),
    "response.output_text.done": ("text", "text", True),
    "response.function_call_arguments.delta": ("delta", "arguments", False),
    "response.function_call_arguments.done": ("arguments", "arguments", True),
    "response.mcp_call_arguments.delta": ("delta", "arguments", False),
    "response.mcp_call_arguments.done": ("arguments", "arguments", True),
    "response.custom_tool_call_input.delta": ("delta", "input", False),
    "response.custom_tool_call_input.done": ("input", "input", True),
}


class ResponsesWebSocketAccumulator:
    """The events of one response, fed by the caller, as a snapshot and a final `Response`.

    Feed it each event a lane (or connection) gives (`add_event`); `snapshot()`
    says what arrived so far, `get_final_response()` the response its ending event
    carried. One accumulator follows one response: `reset()` before the next. An
    `error` event is raised as `ResponsesWebSocketError` (and again by
    `get_final_response()`); an event of another lane or response is a `ValueError`.
    Event types it does not project are ignored.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forgets the response; snapshots already taken stay as they are."""
        self._bound = False
        self._stream_id: str | None = None
        self._response_id: str | None = None
        self._terminal: str | None = None
        self._items: dict[int, _Item] = {}
        self._final: Response | None = None
        self._error: Exception | None = None

    def add_event(self, event: object) -> None:
        payload = _as_dict(event)
        kind = payload.get("type")
        if not isinstance(kind, str):
            return
        stream_id = payload.get("stream_id")
        if self._bound and stream_id != self._stream_id:
            raise ValueError(
                f"an event of stream_id {stream_id!r} fed to the accumulator of {self._stream_id!r}"
            )
        projected = (
            kind == "error"
            or kind in _WITH_RESPONSE
            or kind in _TERMINAL
            or kind in _TEXT_EVENTS
            or kind.startswith(("response.output_item.", "response.content_part."))
        )
        if not projected:
            return
        if self._terminal is not None or self._error is not None:
            raise RuntimeError("this response has ended: reset() the accumulator before the next")
        self._bound, self._stream_id = True, stream_id
        if kind == "error":
            self._error = ResponsesWebSocketError(event)
            raise self._error
        if kind in _WITH_RESPONSE or kind in _TERMINAL:
            self._take_response(payload, kind)
            return
        index = payload.get("output_index")
        if type(index) is not int or index < 0:
            raise ValueError(f"{kind} without a valid output_index: {index!r}")
        item = self._items.setdefault(index, _Item())
        if isinstance(payload.get("item_id"), str):
            item.item_id = payload["item_id"]
        if kind in ("response.output_item.added", "response.output_item.done"):
            whole = payload.get("item")
            if isinstance(whole, Mapping):
                item.take(whole)
        elif kind.startswith("response.content_part."):
            part, position = payload.get("part"), payload.get("content_index")
            if isinstance(part, Mapping) and type(position) is int:
                text = part.get("text")
                if isinstance(text, str):
                    item.text[position] = [text]
        else:
            field, where, replaces = _TEXT_EVENTS[kind]
            value = payload.get(field)
            if not isinstance(value, str):
                raise ValueError(f"{kind} without a text {field!r}")
            if where == "text":
                position = payload.get("content_index")
                if type(position) is not int or position < 0:
                    raise ValueError(f"{kind} without a valid content_index: {position!r}")
                parts = item.text.setdefault(position, [])
            else:
                parts = getattr(item, where)
            if replaces:
                parts[:] = [value]
            else:
                parts.append(value)

    def _take_response(self, payload: Mapping[str, Any], kind: str) -> None:
        response = _response(payload)
        if response is None:
            error = ValueError(f"{kind} without a response")
            if kind in _TERMINAL:
                self._error = error
            raise error
        if self._response_id is not None and response.id and response.id != self._response_id:
            raise ValueError(
                f"an event of response {response.id!r} fed to the accumulator of"
                f" {self._response_id!r}"
            )
        self._response_id = response.id or self._response_id
        output = payload["response"].get("output")
        if isinstance(output, list):
            # A response's own output list (even an empty one) is what it holds.
            self._items = {}
            for index, whole in enumerate(output):
                if isinstance(whole, Mapping):
                    self._items.setdefault(index, _Item()).take(whole)
        if kind in _TERMINAL:
            self._terminal = kind
            self._final = response

    def snapshot(self) -> ResponsesWebSocketSnapshot:
        return ResponsesWebSocketSnapshot(
            stream_id=self._stream_id,
            response_id=self._response_id,
            terminal_type=self._terminal,
            output=tuple(
                ResponsesWebSocketOutput(
                    output_index=index,
                    item_id=item.item_id,
                    type=item.type,
                    name=item.name,
                    call_id=item.call_id,
                    arguments="".join(item.arguments),
                    input="".join(item.input),
                    text=tuple((pos, "".join(item.text[pos])) for pos in sorted(item.text)),
                )
                for index, item in sorted(self._items.items())
            ),
        )

    def get_final_response(self) -> Response:
        """The response its ending event carried (failed and incomplete ones too)."""
        if self._error is not None:
            raise self._error
        if self._final is None:
            raise RuntimeError("the response has not ended: no final response yet")
        return decode(Response, self._final.to_dict())
