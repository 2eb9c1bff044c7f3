"""Assistants run streams: the snapshots the deltas build, and what each event means.

A streamed run sends whole objects when they are created or finished
(`thread.run.*`, `thread.run.step.created`, `thread.message.completed`, ...) and
deltas in between: `thread.message.delta` carries content parts by `index`
(text arrives in pieces, annotations one by one), `thread.run.step.delta` carries
tool calls by `index` (function arguments and code interpreter input arrive in
pieces, outputs one by one). `AssistantAccumulator.handle(event)` merges each
delta into the snapshot of its message or run step and returns the callbacks an
event handler gets for the event, in order, as `(name, arguments)` pairs:

- `("run", (run,))` for every run event (the current run);
- `("message_created" | "message_done", (message,))`, `("message_delta", (delta, snapshot))`;
- `("text_created" | "text_done", (text,))`, `("text_delta", (delta, snapshot))`,
  `("image_file_done", (image_file,))`;
- `("run_step_created" | "run_step_done", (step,))`, `("run_step_delta", (delta, snapshot))`;
- `("tool_call_created" | "tool_call_done", (call,))`, `("tool_call_delta", (delta, snapshot))`.

A content part or tool call is done when the next one starts or its message or
run step completes. Snapshots are kept as JSON and decoded into the generated
models (`MessageObject`, `RunStepObject`, ...) when handed out; nothing here
waits or reads a clock.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["AssistantAccumulator"]

# Keys whose value a later delta repeats rather than continues.
_REPLACED = frozenset({"id", "type", "object", "index", "status", "role"})
_FINISHED = (".completed", ".failed", ".cancelled", ".expired", ".incomplete")


def merge(snapshot: dict[str, Any], delta: dict[str, Any]) -> None:
    """Merges `delta` into `snapshot`: strings continue, lists of `index`ed items merge by
    index (other lists grow), objects merge key by key, everything else is replaced."""
    for key, value in delta.items():
        have = snapshot.get(key)
        if isinstance(value, str) and isinstance(have, str) and key not in _REPLACED:
            snapshot[key] = have + value
        elif isinstance(value, dict) and isinstance(have, dict):
            merge(have, value)
        elif isinstance(value, list) and isinstance(have, list):
            _merge_list(have, value)
        else:
            snapshot[key] = copy.deepcopy(value)


def _merge_list(have: list[Any], items: list[Any]) -> None:
    for item in items:
        index = item.get("index") if isinstance(item, dict) else None
        if not isinstance(index, int):
            have.append(copy.deepcopy(item))
            continue
        for existing in have:
            if isinstance(existing, dict) and existing.get("index") == index:
                merge(existing, item)
                break
        else:
            have.append(copy.deepcopy(item))


def _json(value: Any) -> dict[str, Any]:
    found: dict[str, Any] = value.to_dict() if hasattr(value, "to_dict") else dict(value)
    return found


def _model(name: str, data: dict[str, Any]) -> Any:
    from .. import types  # the lazy index: finds the model whichever module holds it

    return getattr(types, name).from_dict(data)


class AssistantAccumulator:
    """The snapshots of one run stream; `handle(event)` for each event, in order."""

    def __init__(self) -> None:
        self.run: Any = None
        self.messages: dict[str, dict[str, Any]] = {}  # message id -> JSON snapshot
        self.steps: dict[str, dict[str, Any]] = {}  # run step id -> JSON snapshot
        self.finished_messages: list[Any] = []
        self.finished_steps: list[Any] = []
        self.current_message: str | None = None
        self.current_step: str | None = None
        # The content part and the tool call in progress: (owner id, index).
        self._part: tuple[str, int] | None = None
        self._call: tuple[str, int] | None = None

    def message_snapshot(self, message_id: str) -> Any:
        return _model("MessageObject", self.messages[message_id])

    def step_snapshot(self, step_id: str) -> Any:
        return _model("RunStepObject", self.steps[step_id])

    def handle(self, event: Any) -> list[tuple[str, tuple[Any, ...]]]:
        kind: str = getattr(event, "event", "") or ""
        data = getattr(event, "data", None)
        if kind.startswith("thread.run.step."):
            return self._step(kind, data)
        if kind.startswith("thread.run."):
            self.run = data
            return [("run", (data,))]
        if kind.startswith("thread.message."):
            return self._message(kind, data)
        return []

    # -- messages ---------------------------------------------------------------------

    def _message(self, kind: str, data: Any) -> list[tuple[str, tuple[Any, ...]]]:
        out: list[tuple[str, tuple[Any, ...]]] = []
        if kind == "thread.message.created":
            self.messages[data.id] = _json(data)
            self.current_message = data.id
            out.append(("message_created", (data,)))
        elif kind == "thread.message.delta":
            snapshot = self.messages.setdefault(data.id, {"id": data.id, "content": []})
            self.current_message = data.id
            delta = _json(data.delta)
            parts = delta.get("content") or []
            known = {p.get("index") for p in snapshot.setdefault("content", [])}
            merge(snapshot, delta)
            message = self.message_snapshot(data.id)
            out.append(("message_delta", (data.delta, message)))
            for position, part in enumerate(parts):
                index = part.get("index")
                if index not in known:
                    out += self._part_done(message)
                    self._part = (data.id, index)
                    if part.get("type") == "text":
                        out.append(("text_created", (self._text(message, index),)))
                if part.get("type") == "text" and "text" in part:
                    text_delta = data.delta.content[position].text
                    out.append(("text_delta", (text_delta, self._text(message, index))))
        elif kind.endswith(_FINISHED):
            self.messages[data.id] = _json(data)
            out += self._part_done(data)
            self.finished_messages.append(data)
            out.append(("message_done", (data,)))
        return out

    def _text(self, message: Any, index: int) -> Any:
        for position, part in enumerate(self.messages[message.id]["content"]):
            if part.get("index", position) == index:
                return message.content[position].text
        return None

    def _part_done(self, message: Any) -> list[tuple[str, tuple[Any, ...]]]:
        """The callbacks of the content part in progress, when it belongs to `message`."""
        if self._part is None or self._part[0] != message.id:
            return []
        _, index = self._part
        self._part = None
        parts = self.messages[message.id]["content"]
        for position, part in enumerate(parts):
            if part.get("index", position) == index:
                content = message.content[position]
                if part.get("type") == "text":
                    return [("text_done", (content.text,))]
                if part.get("type") == "image_file":
                    return [("image_file_done", (content.image_file,))]
        return []

    # -- run steps --------------------------------------------------------------------

    def _step(self, kind: str, data: Any) -> list[tuple[str, tuple[Any, ...]]]:
        out: list[tuple[str, tuple[Any, ...]]] = []
        if kind == "thread.run.step.created":
            self.steps[data.id] = _json(data)
            self.current_step = data.id
            out.append(("run_step_created", (data,)))
        elif kind == "thread.run.step.delta":
            snapshot = self.steps.setdefault(data.id, {"id": data.id})
            self.current_step = data.id
            delta = _json(data.delta)
            calls = (delta.get("step_details") or {}).get("tool_calls") or []
            details = snapshot.get("step_details") or {}
            known = {c.get("index") for c in details.get("tool_calls") or []}
            merge(snapshot, delta)
            step = self.step_snapshot(data.id)
            out.append(("run_step_delta", (data.delta, step)))
            for call in calls:
                index = call.get("index")
                if index not in known:
                    out += self._call_done(step)
                    self._call = (data.id, index)
                    out.append(("tool_call_created", (self._tool_call(step, index),)))
                call_delta = data.delta.step_details.tool_calls[calls.index(call)]
                out.append(("tool_call_delta", (call_delta, self._tool_call(step, index))))
        elif kind.endswith(_FINISHED):
            self.steps[data.id] = _json(data)
            out += self._call_done(data)
            self.finished_steps.append(data)
            out.append(("run_step_done", (data,)))
        return out

    def _tool_call(self, step: Any, index: int) -> Any:
        calls = self.steps[step.id]["step_details"]["tool_calls"]
        for position, call in enumerate(calls):
            if call.get("index", position) == index:
                return step.step_details.tool_calls[position]
        return None

    def _call_done(self, step: Any) -> list[tuple[str, tuple[Any, ...]]]:
        if self._call is None or self._call[0] != step.id:
            return []
        _, index = self._call
        self._call = None
        details = self.steps[step.id].get("step_details") or {}
        for position, call in enumerate(details.get("tool_calls") or []):
            if call.get("index", position) == index:
                return [("tool_call_done", (step.step_details.tool_calls[position],))]
        return []
