"""`POST /v1/responses`: a `response` object, or its stream of typed events.

Streamed, every event has an `event:` line naming its type, a JSON `data:` line
with the same `type` and a growing `sequence_number`, and the stream ends with
`response.completed` — there is no `data: [DONE]`, as with the API:
`response.created`, `response.in_progress`, then per output item
`response.output_item.added`, its content (`response.content_part.added`,
`response.output_text.delta`…, `response.output_text.done`,
`response.content_part.done` for a message; `response.function_call_arguments.delta`…,
`response.function_call_arguments.done` for a function call; nothing between
for a `computer_call`, which a scripted `ComputerCall` asks for),
`response.output_item.done`, and finally `response.completed`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ._behaviours import ComputerCall
from ._generation import Generation
from ._wire import Answer, json_answer, new_id, pieces, sse, stream_answer

__all__ = ["responses_answer"]


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _tool(tool: Any) -> Any:
    # The API echoes a function tool with its defaults filled in (`strict` is on).
    if isinstance(tool, dict) and tool.get("type") == "function":
        return {"description": None, **tool, "strict": tool.get("strict") is not False}
    return tool


def _computer_call(call: ComputerCall) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "computer_call",
        "id": new_id("cu_"),
        "call_id": call.call_id,
        "pending_safety_checks": [dict(check) for check in call.pending_safety_checks],
        "status": "completed",
    }
    if call.batched:
        item["actions"] = [dict(action) for action in call.actions]
    else:
        item["action"] = dict(call.actions[0])
    return item


def _items(generation: Generation) -> list[dict[str, Any]]:
    if generation.computer_call is not None:
        return [_computer_call(generation.computer_call)]
    if generation.items is not None:
        return [{**item, "id": item.get("id") or new_id("item_")} for item in generation.items]
    if not generation.tool_calls:
        message = {
            "type": "message",
            "id": new_id("msg_"),
            "status": "completed",
            "role": "assistant",
            "content": [_text_part(generation.text or "")],
        }
        return [message]
    return [
        {
            "type": "function_call",
            "id": new_id("fc_"),
            "call_id": call.id,
            "name": call.name,
            "arguments": call.arguments,
            "status": "completed",
        }
        for call in generation.tool_calls
    ]


def _response(
    body: Mapping[str, Any],
    ident: str,
    created: int,
    generation: Generation,
    items: list[dict[str, Any]],
    done: bool,
) -> dict[str, Any]:
    usage = {
        "input_tokens": generation.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": generation.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": generation.prompt_tokens + generation.completion_tokens,
    }
    return {
        "id": ident,
        "object": "response",
        "background": body.get("background") is True,
        "created_at": created,
        "status": "completed" if done else "in_progress",
        "completed_at": int(time.time()) if done else None,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": str(body["model"]),
        "output": items if done else [],
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": body.get("service_tier") or "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": [_tool(tool) for tool in body.get("tools") or []],
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "usage": usage if done else None,
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }


def responses_answer(body: Mapping[str, Any], generation: Generation) -> Answer:
    ident, created = new_id("resp_"), int(time.time())
    items = _items(generation)
    if body.get("stream") is not True:
        return json_answer(_response(body, ident, created, generation, items, done=True))
    events = _Events()
    pending = _response(body, ident, created, generation, items, done=False)
    events.add("response.created", response=pending)
    events.add("response.in_progress", response=pending)
    for index, item in enumerate(items):
        where = {"item_id": item["id"], "output_index": index}
        if item["type"] == "message":
            text = item["content"][0]["text"]
            events.add(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "content": []},
            )
            events.add("response.content_part.added", **where, content_index=0, part=_text_part(""))
            for piece in pieces(text):
                events.add(
                    "response.output_text.delta", **where, content_index=0, delta=piece, logprobs=[]
                )
            events.add(
                "response.output_text.done", **where, content_index=0, text=text, logprobs=[]
            )
            events.add(
                "response.content_part.done", **where, content_index=0, part=_text_part(text)
            )
        elif item["type"] != "function_call":
            events.add(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress"},
            )
        else:
            events.add(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "arguments": ""},
            )
            for piece in pieces(item["arguments"]):
                events.add("response.function_call_arguments.delta", **where, delta=piece)
            events.add(
                "response.function_call_arguments.done",
                **where,
                name=item["name"],
                arguments=item["arguments"],
            )
        events.add("response.output_item.done", output_index=index, item=item)
    events.add(
        "response.completed", response=_response(body, ident, created, generation, items, done=True)
    )
    return stream_answer(events.encoded)


class _Events:
    """Numbers the events of one stream as the API does (`sequence_number` from 0)."""

    def __init__(self) -> None:
        self.encoded: list[bytes] = []

    def add(self, kind: str, **fields: Any) -> None:
        data = {"type": kind, "sequence_number": len(self.encoded), **fields}
        self.encoded.append(sse(data, event=kind))
