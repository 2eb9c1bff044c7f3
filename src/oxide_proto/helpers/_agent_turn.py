"""One turn of a hosted agent session, followed from its event stream, sans-I/O.

`sessions.stream(session_id, input=...)` subscribes to an idle session's events,
submits the input, and follows the turn the input starts until the session is
idle again (or failed, or out of budget). The decisions live here:

- `agent_input_event(input)`: the `agent.session.input.message` event for a string or
  a list of messages;
- `AgentTurnTracker`: which event is new (a stream may deliver one twice), which
  turn is ours (the first root turn created), and which event ends the stream;
- `agent_tool_call(event, handlers, handled)`: a function call a local handler answers
  (each call once); `agent_tool_arguments`, `agent_tool_result_event` and
  `agent_tool_failed_event` build what is sent back (a failure never carries the
  exception's text, which may hold secrets, to the model);
- `AgentTurnCollector`: the turn's final assistant messages and its outcome, for
  `get_final_result()`: an `AgentTurnResult`, or `AgentTurnResultError` saying
  why there is none (`failed`, `cancelled`, `requires_action`, `incomplete`,
  `observation_failed`).
"""

from __future__ import annotations

import copy
import json
import math
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, Generic, Literal, TypeVar

from ..base._errors import OpenAIError
from ..base._record import frozen
from ._schema import parse_into

__all__ = [
    "AgentOutputParseError",
    "AgentToolError",
    "AgentTurnResult",
    "AgentTurnResultError",
    "AgentTurnCollector",
    "AgentTurnTracker",
    "agent_input_event",
    "is_pending_tool_call_race",
    "agent_tool_arguments",
    "agent_tool_call",
    "agent_tool_failed_event",
    "agent_tool_result_event",
]

OutputT = TypeVar("OutputT")
ParseT = TypeVar("ParseT")

ResultErrorReason = Literal[
    "failed", "cancelled", "requires_action", "incomplete", "observation_failed"
]
ToolErrorStage = Literal["arguments", "execution", "output"]

_TURN_ENDS = frozenset(
    {"agent.session.turn.completed", "agent.session.turn.failed", "agent.session.turn.cancelled"}
)
_ENDED = frozenset({"completed", "failed", "cancelled"})
# Event ids remembered to drop a repeated delivery, without keeping every delta's.
_RECENT_EVENTS = 1024


def agent_input_event(input: str | Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The `agent.session.input.message` event for `input` (text, or messages)."""
    if isinstance(input, str):
        if not input:
            raise ValueError("input must not be empty")
        messages: list[Any] = [{"role": "user", "content": [{"type": "input_text", "text": input}]}]
    else:
        messages = list(input)
        if not messages:
            raise ValueError("input must not be empty")
    return {"type": "agent.session.input.message", "input": messages}


def _session_id_of(event: Any) -> str | None:
    session = getattr(event, "session", None)
    found = session.get("id") if isinstance(session, Mapping) else getattr(session, "id", None)
    return found if isinstance(found, str) and found else None


class AgentTurnTracker:
    """Which events are new, which turn is ours, and when the stream is over."""

    def __init__(self) -> None:
        self.turn_id: str | None = None
        self.turn_ended = False
        self._seen: set[str] = set()
        self._recent: deque[str] = deque()

    def accept(self, event: Any) -> bool:
        """False for an event already delivered; else notes what it says."""
        event_id = getattr(event, "event_id", None)
        if isinstance(event_id, str):
            if event_id in self._seen:
                return False
            if len(self._recent) == _RECENT_EVENTS:
                self._seen.discard(self._recent.popleft())
            self._recent.append(event_id)
            self._seen.add(event_id)
        kind = getattr(event, "type", None)
        if kind == "agent.session.turn.created" and self.turn_id is None:
            if getattr(event.turn, "subagent_id", None) is None:
                self.turn_id = event.turn_id
        elif kind in _TURN_ENDS and self.turn_id is not None and event.turn_id == self.turn_id:
            self.turn_ended = True
        return True

    def terminal(self, event: Any, session_id: str) -> bool:
        """Whether `event` ends the stream: the session failed, went idle after our
        turn ended (an idle event before it does not count), or ran out of budget."""
        kind = getattr(event, "type", None)
        if kind == "agent.session.budget_reached":
            ours = _session_id_of(event) == session_id
            return ours and (self.turn_id is None or self.turn_ended)
        if kind == "agent.session.failed":
            return True
        return kind == "agent.session.idle" and self.turn_ended


def agent_tool_call(
    event: Any, handlers: Collection[str], handled: set[tuple[str, str]]
) -> Any | None:
    """The function call `event` adds that a handler in `handlers` answers and nothing
    answered yet (recorded in `handled`), else None. The call is a copy: what the
    caller does to the event cannot change it."""
    if getattr(event, "type", None) != "agent.session.turn.item.added":
        return None
    call = event.item
    if getattr(call, "type", None) != "function_call" or call.name not in handlers:
        return None
    key = (call.turn_id, call.call_id)
    if key in handled:
        return None
    handled.add(key)
    return copy.deepcopy(call)


def _check_finite(value: object) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers in function arguments must be finite")
    if isinstance(value, Mapping):
        for item in value.values():
            _check_finite(item)
    elif isinstance(value, list):
        for item in value:
            _check_finite(item)


def agent_tool_arguments(call: Any) -> dict[str, Any]:
    """The call's arguments as a dict (they arrive as JSON text or as an object)."""
    arguments = call.arguments
    value = json.loads(arguments) if isinstance(arguments, str) else copy.deepcopy(arguments)
    if not isinstance(value, dict):
        raise ValueError("function arguments must be a JSON object")
    _check_finite(value)
    return value


def agent_tool_result_event(call: Any, output: Any) -> dict[str, Any]:
    """The `tool_result` event for a handler's `output`: a string, a mapping (sent as
    JSON text), content parts, or None. Raises when it cannot be sent as JSON."""
    if isinstance(output, Mapping):
        output = json.dumps(dict(output), separators=(",", ":"))
    elif output is not None and not isinstance(output, str):
        output = list(output)
    json.dumps(output, allow_nan=False)
    return {
        "type": "agent.session.input.tool_result",
        "turn_id": call.turn_id,
        "call_id": call.call_id,
        "success": True,
        "output": output,
    }


def agent_tool_failed_event(call: Any) -> dict[str, Any]:
    """The `tool_result` event for a handler that failed."""
    return {
        "type": "agent.session.input.tool_result",
        "turn_id": call.turn_id,
        "call_id": call.call_id,
        "success": False,
        "error": "Tool handler failed.",
    }


def is_pending_tool_call_race(body: object, call_id: str) -> bool:
    """Whether a 400's `body` says the server has not registered the call yet (the
    item event can arrive first): the result is worth sending again."""
    return (
        isinstance(body, Mapping)
        and body.get("code") == "invalid_request_error"
        and body.get("message") == f"Unknown pending tool call: {call_id}"
    )


@frozen
class AgentToolError:
    """What `on_tool_error` is told when a local tool handler failed (the model is
    told only that it failed)."""

    error: Exception
    tool_name: str
    session_id: str
    turn_id: str
    call_id: str
    stage: ToolErrorStage


@frozen
class AgentTurnResult(Generic[OutputT]):
    """The completed final assistant messages of one root turn; `output_parsed` is
    the output text parsed into the stream's `output_type`."""

    turn: Any
    messages: list[Any]
    output_parsed: OutputT | None = None

    @property
    def session_id(self) -> str:
        return str(self.turn.session_id)

    @property
    def turn_id(self) -> str:
        return str(self.turn.id)

    @property
    def output_text(self) -> str:
        """The final messages' output text, joined without separators."""
        return "".join(
            part.text
            for message in self.messages
            for part in (getattr(message, "content", None) or [])
            if getattr(part, "type", None) == "output_text"
        )

    def parse(self, output_type: type[ParseT]) -> AgentTurnResult[ParseT]:
        """This result with the first output text parsed into `output_type`."""
        texts = [
            part.text
            for message in self.messages
            for part in (getattr(message, "content", None) or [])
            if getattr(part, "type", None) == "output_text"
        ]
        try:
            if not texts:
                raise ValueError("no final output text to parse")
            parsed = parse_into(output_type, texts[0])
        except Exception:
            # The validation message may quote the output: kept out of the error.
            raise AgentOutputParseError(self) from None
        return AgentTurnResult(self.turn, self.messages, parsed)


class AgentOutputParseError(OpenAIError):
    """The turn completed, but its output does not parse into the type asked for."""

    def __init__(self, result: AgentTurnResult[Any]) -> None:
        super().__init__("could not parse the completed agent output")
        self.result = result


class AgentTurnResultError(OpenAIError):
    """No successful, complete turn result: `reason` says why; `turn`, `messages`
    and `required_actions` keep what was seen."""

    def __init__(
        self,
        reason: ResultErrorReason,
        *,
        turn: Any,
        session_id: str | None,
        messages: list[Any],
        required_actions: list[Any],
    ) -> None:
        super().__init__(f"could not collect the agent turn result: {reason}")
        self.reason = reason
        self.turn = turn
        self.session_id = session_id
        self.turn_id: str | None = turn.id if turn is not None else None
        self.messages = messages
        self.required_actions = required_actions


class AgentTurnCollector:
    """Gathers one root turn's final assistant messages and outcome from its events."""

    def __init__(
        self, session_id: str | None, parse: Callable[[AgentTurnResult[Any]], Any]
    ) -> None:
        self.session_id = session_id
        self.turn: Any = None
        self.done = False
        self.session_failed = False
        self.cause: Exception | None = None
        self.required_actions: list[Any] = []
        self._messages: dict[str, tuple[int, Any]] = {}
        self._error: AgentTurnResultError | None = None
        self._result: AgentTurnResult[Any] | None = None
        self._parse = parse

    def accept(self, event: Any) -> None:
        if self.done:
            return
        kind = getattr(event, "type", None)
        turn = self.turn
        if kind == "agent.session.turn.created":
            if turn is None and getattr(event.turn, "subagent_id", None) is None:
                self.turn = copy.deepcopy(event.turn)
                self.session_id = event.session_id
        elif kind in _TURN_ENDS:
            if turn is not None and event.turn_id == turn.id:
                self.turn = copy.deepcopy(event.turn)
                self.required_actions = []
        elif kind == "agent.session.turn.item.done":
            item = event.item
            if (
                turn is not None
                and getattr(item, "turn_id", None) == turn.id
                and getattr(item, "type", None) == "message"
                and getattr(item, "phase", None) != "commentary"
                and getattr(item, "status", None) == "completed"
            ):
                self._messages[item.id] = (event.output_index, copy.deepcopy(item))
        elif kind == "agent.session.in_progress":
            self.required_actions = []
        elif kind == "agent.session.requires_action":
            self.session_id = event.session.id
            self.required_actions = list(copy.deepcopy(event.session.required_actions or []))
        elif kind == "agent.session.failed":
            self.session_id = event.session.id
            self.session_failed = self.done = True
        elif kind == "agent.session.budget_reached":
            snapshot = _session_id_of(event)
            if snapshot is not None:
                if turn is None and self.session_id in (None, snapshot):
                    self.session_id = snapshot
                    self.done = True
                elif turn is not None and snapshot == self.session_id and turn.status in _ENDED:
                    self.required_actions = []
                    self.done = True
        elif kind == "agent.session.idle" and turn is not None and turn.status in _ENDED:
            self.required_actions = []
            self.done = True

    def messages(self) -> list[Any]:
        return [m for _, m in sorted(self._messages.values(), key=lambda pair: pair[0])]

    def error(self, reason: ResultErrorReason) -> AgentTurnResultError:
        if self._error is None:
            self._error = AgentTurnResultError(
                reason,
                turn=self.turn,
                session_id=self.session_id,
                messages=self.messages(),
                required_actions=self.required_actions,
            )
            self.done = True
        return self._error

    def check_outcome(self, handled_tools: Collection[str] = ()) -> None:
        """Raises `AgentTurnResultError` as soon as the turn cannot succeed."""
        if self._error is not None:
            raise self._error
        status = getattr(self.turn, "status", None)
        if self.session_failed or status == "failed":
            raise self.error("failed")
        if status == "cancelled":
            raise self.error("cancelled")
        if any(
            getattr(action, "type", None) != "function_call"
            or getattr(action, "name", None) not in handled_tools
            for action in self.required_actions
        ):
            raise self.error("requires_action")
        if self.cause is not None:
            raise self.error("observation_failed") from self.cause

    def result(self) -> AgentTurnResult[Any]:
        """The completed turn's result, parsed as the stream asks; raises otherwise."""
        if self._result is not None:
            return self._result
        self.check_outcome()
        if not self.done or self.turn is None or self.turn.status != "completed":
            raise self.error("incomplete")
        self._result = self._parse(AgentTurnResult(copy.deepcopy(self.turn), self.messages()))
        return self._result
