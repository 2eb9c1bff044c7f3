"""The decisions of the computer-use loop, without I/O: what to ask, what to run, what to send back.

The Responses computer tool answers with `computer_call` items, each a batch of
actions (click, type, scroll, ...) for the caller's own machine or browser. The
toolsets in `oxide_io` run those actions on a caller-owned driver and send the
resulting screenshot back as a `computer_call_output` item, until the model
answers with a final message. Everything here decides without touching a
driver, a socket or a clock, so both runtimes share one copy of it:

- `ComputerRun` keeps the request of a whole run: it checks the caller's
  parameters once (one computer tool, no stream, no server-side history),
  replays every response's items and the outputs as the next request's input
  (so the loop also works with `store=False`), relaxes a forced `tool_choice`
  after the first step and checks each response before any driver runs.
- `computer_actions(call)` validates a call and lists the actions to run, with
  the final screenshot the output needs.
- `computer_call_output(call, screenshot)` builds the output item from what the
  driver's `screenshot()` returned, acknowledging the call's safety checks.

A call or a response this helper cannot replay faithfully is refused with a
`ComputerUseError` (carrying the response) before any action runs.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias, TypedDict

from ..types.responses import (
    ClickParam,
    ComputerCallSafetyCheckParam,
    DoubleClickAction,
    DragParam,
    KeyPressAction,
    MoveParam,
    Response,
    ResponseComputerToolCall,
    ScreenshotParam,
    ScrollParam,
    TypeParam,
    WaitParam,
)

__all__ = [
    "COMPUTER_MEMBERS",
    "ComputerAction",
    "ComputerCallOutput",
    "ComputerRun",
    "ComputerUseError",
    "ComputerScreenshot",
    "computer_actions",
    "computer_call_output",
    "owned_computer_call",
]

ComputerAction: TypeAlias = (
    ClickParam
    | DoubleClickAction
    | DragParam
    | KeyPressAction
    | MoveParam
    | ScreenshotParam
    | ScrollParam
    | TypeParam
    | WaitParam
)


class ComputerScreenshot(TypedDict, total=False):
    """What a driver's `screenshot()` returns: an image by URL (a data URL is fine) or file id."""

    type: Literal["computer_screenshot"]
    image_url: str
    file_id: str


class _SafetyCheck(TypedDict):
    id: str
    code: str | None
    message: str | None


class ComputerCallOutput(TypedDict):
    """The input item that answers one `computer_call`."""

    type: Literal["computer_call_output"]
    call_id: str
    output: ComputerScreenshot
    acknowledged_safety_checks: list[_SafetyCheck]


# The driver methods, one per action type: the toolset calls `driver.<type>(action)`.
# A screenshot action is not run on its own: one screenshot, after the batch, is the output.
COMPUTER_MEMBERS: tuple[str, ...] = (
    "click",
    "double_click",
    "drag",
    "keypress",
    "move",
    "screenshot",
    "scroll",
    "type",
    "wait",
)
_COMPUTER_TOOLS = frozenset({"computer", "computer_use_preview"})
# Fields the run owns: a caller's extra_body must not change them behind its back.
_RUN_FIELDS = frozenset(
    {
        "stream",
        "background",
        "conversation",
        "previous_response_id",
        "tools",
        "input",
        "include",
        "tool_choice",
    }
)
_BUTTONS = frozenset({"left", "right", "wheel", "back", "forward"})
_ITEM_STATUSES = frozenset({"completed", "incomplete", "in_progress"})


class ComputerUseError(RuntimeError):
    """A computer run stopped before a final answer; `response` is the last response, if any."""

    def __init__(self, message: str, response: Response | None = None) -> None:
        super().__init__(message)
        self.response = response


def _positive_steps(max_steps: object) -> int:
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"max_steps must be a positive integer, not {max_steps!r}")
    return max_steps


def _plain(value: object) -> Any:
    """A deep copy of a request value as plain JSON data (models become their dicts)."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return _plain(to_dict())
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return copy.deepcopy(value)


def _header_named(headers: Mapping[str, object] | None, name: str) -> bool:
    return headers is not None and any(key.lower() == name for key in headers)


class ComputerRun:
    """The request of one computer run, from the caller's parameters to the final response.

    `request()` is what to send next (keyword arguments of `responses.create`);
    `calls(response)` checks a response and returns its computer calls (none: the
    run is over, the response is final); `answer(outputs)` adds the calls'
    outputs to the history. The caller's `params` are copied, never changed.
    """

    def __init__(self, params: Mapping[str, Any], max_steps: int) -> None:
        self.max_steps = _positive_steps(max_steps)
        self.step = 0
        request: dict[str, Any] = {key: _plain(value) for key, value in params.items()}
        extra_body = request.get("extra_body")
        if isinstance(extra_body, Mapping) and _RUN_FIELDS.intersection(extra_body):
            raise ValueError(
                "ComputerToolset owns these fields, so extra_body cannot set them: "
                + ", ".join(sorted(_RUN_FIELDS.intersection(extra_body)))
            )
        if request.get("stream") or request.get("background"):
            raise ValueError("ComputerToolset runs non-streaming, foreground responses")
        if request.get("previous_response_id") or request.get("conversation"):
            raise ValueError(
                "ComputerToolset replays the whole history itself: pass it as input, not"
                " previous_response_id or conversation"
            )
        tools = request.get("tools", [{"type": "computer"}])
        if (
            not isinstance(tools, list)
            or len(tools) != 1
            or not isinstance(tools[0], Mapping)
            or tools[0].get("type") not in _COMPUTER_TOOLS
        ):
            raise ValueError(
                "ComputerToolset takes exactly one tool, a computer tool ({'type': 'computer'})"
            )
        request["tools"] = tools
        request["stream"] = False
        given = request.get("input", [])
        if isinstance(given, str):
            history: list[Any] = [{"role": "user", "content": given}]
        elif isinstance(given, list):
            history = given
        else:
            raise ValueError(f"input must be a string or a list of items, not {given!r}")
        request["input"] = history
        # The whole history is replayed, so reasoning must come back in a replayable form.
        include = request.get("include") or []
        if not isinstance(include, list):
            raise ValueError(f"include must be a list, not {include!r}")
        request["include"] = list(dict.fromkeys([*include, "reasoning.encrypted_content"]))
        self._request = request
        self._item_ids: set[str] = set()
        self._call_ids: set[str] = set()
        for item in history:
            if isinstance(item, Mapping):
                if isinstance(item.get("id"), str) and item["id"]:
                    self._item_ids.add(item["id"])
                if isinstance(item.get("call_id"), str):
                    self._call_ids.add(item["call_id"])

    @property
    def history(self) -> list[Any]:
        """The input items so far (a copy)."""
        return _plain(self._request["input"])  # type: ignore[no-any-return]

    def request(
        self, default_headers: Mapping[str, str] | None = None, new_key: str | None = None
    ) -> dict[str, Any]:
        """The keyword arguments of the next `responses.create` call (a fresh copy).

        When the caller sends an `Idempotency-Key` header (in `extra_headers` or the
        client's `default_headers`), each step after the first carries `new_key`
        instead: a new step is a new request, not a retry of the previous one.
        """
        if self.step >= self.max_steps:
            raise ComputerUseError("Computer run reached max_steps before completion")
        request: dict[str, Any] = _plain(self._request)
        extra = request.get("extra_headers")
        if (
            self.step
            and new_key is not None
            and (
                _header_named(extra, "idempotency-key")
                or _header_named(default_headers, "idempotency-key")
            )
        ):
            headers = {
                key: value
                for key, value in (extra or {}).items()
                if key.lower() != "idempotency-key"
            }
            headers["Idempotency-Key"] = new_key
            request["extra_headers"] = headers
        return request

    def calls(self, response: Response) -> list[ResponseComputerToolCall]:
        """The response's computer calls, checked; an empty list when it is the final answer.

        Refuses (with `ComputerUseError`) a response that did not complete, that holds
        an item this helper cannot replay (another tool's call), repeats an item or
        call id, has neither a call nor a final message, or still asks for actions
        at the last allowed step.
        """
        self.step += 1
        try:
            return self._calls(response)
        except ComputerUseError as exc:
            exc.response = response
            raise

    def _calls(self, response: Response) -> list[ResponseComputerToolCall]:
        if response.status != "completed":
            raise ComputerUseError(f"Response did not complete (status {response.status!r})")
        calls: list[ResponseComputerToolCall] = []
        item_ids: set[str] = set()
        call_ids: set[str] = set()
        final = False
        for item in response.output:
            kind = getattr(item, "type", None)
            if isinstance(item, ResponseComputerToolCall) and kind == "computer_call":
                computer_actions(item)
                if item.call_id in call_ids or item.call_id in self._call_ids:
                    raise ComputerUseError(
                        f"Response repeats the computer call id {item.call_id!r}"
                    )
                call_ids.add(item.call_id)
                calls.append(item)
            elif kind == "message":
                _check_message(item)
                final = final or (
                    getattr(item, "status", None) == "completed"
                    and getattr(item, "phase", None) != "commentary"
                )
            elif kind == "reasoning":
                _check_reasoning(item)
            elif kind == "compaction":
                if not isinstance(getattr(item, "encrypted_content", None), str):
                    raise ComputerUseError("Compaction item has no encrypted_content to replay")
            else:
                raise ComputerUseError(
                    f"Response holds a {kind!r} item, which ComputerToolset does not handle"
                )
            ident = getattr(item, "id", None)
            if not isinstance(ident, str):
                raise ComputerUseError(f"Response holds a {kind!r} item without a string id")
            if ident in item_ids or (ident and ident in self._item_ids):
                raise ComputerUseError(f"Response repeats the output item id {ident!r}")
            item_ids.add(ident)
        self._item_ids.update(ident for ident in item_ids if ident)
        self._call_ids.update(call_ids)
        if calls and self.step >= self.max_steps:
            raise ComputerUseError("Computer run reached max_steps before completion")
        if not calls and not final:
            raise ComputerUseError("Response has neither a final message nor a computer call")
        if calls:
            self._continue(response)
        return calls

    def _continue(self, response: Response) -> None:
        history: list[Any] = self._request["input"]
        history.extend(replay_item(item) for item in response.output)
        choice = self._request.get("tool_choice")
        # A forced tool call would never let the model answer: the next steps choose freely.
        if choice == "required" or (
            isinstance(choice, Mapping)
            and choice.get("type") in {"computer", "computer_use_preview", "computer_use"}
        ):
            self._request["tool_choice"] = "auto"
        elif (
            isinstance(choice, Mapping)
            and choice.get("type") == "allowed_tools"
            and choice.get("mode") == "required"
        ):
            self._request["tool_choice"] = {**choice, "mode": "auto"}

    def answer(self, outputs: Sequence[ComputerCallOutput]) -> None:
        """Adds the outputs of the last response's calls to the history."""
        self._request["input"].extend(_plain(list(outputs)))


def replay_item(item: object) -> dict[str, Any]:
    """An output item as the input item that replays it (what the API sent, as sent)."""
    to_dict = getattr(item, "to_dict", None)
    if not callable(to_dict):
        raise ComputerUseError(f"Cannot replay the output item {item!r}")
    data: dict[str, Any] = _plain(to_dict())
    # Output-only fields the API refuses as input.
    data.pop("created_by", None)
    data.pop("parsed_arguments", None)
    # Validate that it serialises, and own it as JSON text would.
    try:
        result: dict[str, Any] = json.loads(json.dumps(data, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ComputerUseError(f"Cannot replay the output item: {exc}") from None
    return result


def _check_message(item: object) -> None:
    content = getattr(item, "content", None)
    if (
        not isinstance(getattr(item, "id", None), str)
        or getattr(item, "role", None) != "assistant"
        or getattr(item, "status", None) not in _ITEM_STATUSES
        or not isinstance(content, list)
    ):
        raise ComputerUseError("Response holds an assistant message that cannot be replayed")
    for part in content:
        kind = getattr(part, "type", None)
        field = {"output_text": "text", "refusal": "refusal"}.get(kind or "")
        if field is None or not isinstance(getattr(part, field, None), str):
            raise ComputerUseError(
                f"Response holds a message part of type {kind!r}, which cannot be replayed"
            )


def _check_reasoning(item: object) -> None:
    summary = getattr(item, "summary", None)
    if not isinstance(getattr(item, "id", None), str) or not isinstance(summary, list):
        raise ComputerUseError("Response holds a reasoning item that cannot be replayed")
    for part in summary:
        if getattr(part, "type", None) != "summary_text" or not isinstance(
            getattr(part, "text", None), str
        ):
            raise ComputerUseError("Response holds a reasoning summary that cannot be replayed")
    encrypted = getattr(item, "encrypted_content", None)
    if encrypted is not None and not isinstance(encrypted, str):
        raise ComputerUseError("Response holds reasoning whose encrypted_content is not a string")


def _integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _point(value: object) -> bool:
    return _integer(getattr(value, "x", None)) and _integer(getattr(value, "y", None))


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _valid_action(action: object) -> bool:
    keys = getattr(action, "keys", None)
    if keys is not None and not _strings(keys):
        return False
    if isinstance(action, ClickParam):
        return action.type == "click" and _point(action) and action.button in _BUTTONS
    if isinstance(action, DoubleClickAction | MoveParam):
        return action.type in ("double_click", "move") and _point(action)
    if isinstance(action, ScrollParam):
        return (
            action.type == "scroll"
            and _point(action)
            and _integer(action.scroll_x)
            and _integer(action.scroll_y)
        )
    if isinstance(action, DragParam):
        return (
            action.type == "drag"
            and isinstance(action.path, list)
            and all(_point(point) for point in action.path)
        )
    if isinstance(action, KeyPressAction):
        return action.type == "keypress" and _strings(action.keys)
    if isinstance(action, TypeParam):
        return action.type == "type" and isinstance(action.text, str)
    if isinstance(action, ScreenshotParam | WaitParam):
        return action.type in ("screenshot", "wait")
    return False


def computer_actions(call: ResponseComputerToolCall) -> list[ComputerAction]:
    """The call's actions, checked, then a screenshot if the batch does not end with one.

    A call carries either `actions` (a batch) or the older single `action`; one
    carrying both, neither, an empty batch, an unknown action or malformed safety
    checks is refused before anything runs.
    """
    if not isinstance(call.id, str) or not isinstance(call.call_id, str):
        raise ComputerUseError("Computer call needs a string id and call_id")
    if call.type != "computer_call" or call.status != "completed":
        raise ComputerUseError(f"Computer call {call.call_id!r} did not complete")
    if (call.actions is None) == (call.action is None):
        raise ComputerUseError(
            f"Computer call {call.call_id!r} needs exactly one of action or actions"
        )
    actions: list[Any] = list(call.actions) if call.actions is not None else [call.action]
    if not actions:
        raise ComputerUseError(f"Computer call {call.call_id!r} has no actions")
    checks: object = call.pending_safety_checks
    if checks is None and call.action is not None:
        raise ComputerUseError(f"Computer call {call.call_id!r} is missing its safety checks")
    if checks is not None and (
        not isinstance(checks, list)
        or not all(
            isinstance(check, ComputerCallSafetyCheckParam)
            and isinstance(check.id, str)
            and (check.code is None or isinstance(check.code, str))
            and (check.message is None or isinstance(check.message, str))
            for check in checks
        )
    ):
        raise ComputerUseError(f"Computer call {call.call_id!r} has malformed safety checks")
    for action in actions:
        if not _valid_action(action):
            raise ComputerUseError(
                f"Computer call {call.call_id!r} has an invalid action: {action!r}"
            )
    if actions[-1].type != "screenshot":
        actions.append(ScreenshotParam(type="screenshot"))
    return actions


def owned_computer_call(call: ResponseComputerToolCall) -> ResponseComputerToolCall:
    """A detached copy of a call, so a callback or driver cannot change what is run or replayed."""
    if not isinstance(call, ResponseComputerToolCall):
        raise ComputerUseError(f"Not a computer call: {call!r}")
    return ResponseComputerToolCall.from_dict(replay_item(call))


def computer_call_output(call: ResponseComputerToolCall, screenshot: object) -> ComputerCallOutput:
    """The `computer_call_output` answering `call` with the driver's screenshot.

    The screenshot must be `{"type": "computer_screenshot", "image_url": ...}` (or
    with a `file_id`); anything else is refused rather than sent.
    """
    refused = ComputerUseError(
        "The driver's screenshot() must return {'type': 'computer_screenshot'} with a"
        f" non-empty image_url or file_id, not {_short(screenshot)}"
    )
    if not isinstance(screenshot, Mapping) or screenshot.get("type") != "computer_screenshot":
        raise refused
    image: ComputerScreenshot = {"type": "computer_screenshot"}
    for field in ("image_url", "file_id"):
        value = screenshot.get(field)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise refused
        image[field] = str(value)
    if len(image) == 1:
        raise refused
    return {
        "type": "computer_call_output",
        "call_id": call.call_id,
        "output": image,
        "acknowledged_safety_checks": [
            {"id": check.id, "code": check.code, "message": check.message}
            for check in call.pending_safety_checks or []
        ],
    }


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
