"""`POST /v1/chat/completions`: a `chat.completion` object, or a stream of chunks.

The stream follows the API: data-only events of `chat.completion.chunk`, the
first delta carrying the role, content deltas of a word or so, a last chunk per
choice with its `finish_reason`, an extra chunk with empty `choices` and the
`usage` when `stream_options.include_usage` is set, then `data: [DONE]`.
Tool calls stream as the API sends them: a delta with the call's id, type and
name and empty arguments, then deltas with pieces of the arguments.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ._generation import Generation
from ._wire import Answer, json_answer, new_id, pieces, sse, stream_answer

__all__ = ["chat_answer"]

SYSTEM_FINGERPRINT = "fp_oxide_mock"


def _usage(generation: Generation, n: int) -> dict[str, Any]:
    completion = generation.completion_tokens * n
    return {
        "prompt_tokens": generation.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": generation.prompt_tokens + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _tool_calls(generation: Generation) -> list[dict[str, Any]]:
    return [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        for call in generation.tool_calls
    ]


def chat_answer(body: Mapping[str, Any], generation: Generation) -> Answer:
    model = str(body["model"])
    n = body.get("n", 1)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        n = 1
    head = {
        "created": int(time.time()),
        "model": model,
        "service_tier": body.get("service_tier") or "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
    ident = new_id("chatcmpl-")
    if body.get("stream") is True:
        options = body.get("stream_options")
        include_usage = isinstance(options, Mapping) and options.get("include_usage") is True
        return stream_answer(_chunks(ident, head, generation, n, include_usage))
    message: dict[str, Any] = {
        "role": "assistant",
        "content": generation.text,
        "refusal": None,
        "annotations": [],
    }
    if generation.tool_calls:
        message["tool_calls"] = _tool_calls(generation)
    choices = [
        {
            "index": index,
            "message": message,
            "logprobs": None,
            "finish_reason": generation.finish_reason,
        }
        for index in range(n)
    ]
    return json_answer(
        {
            "id": ident,
            "object": "chat.completion",
            **head,
            "choices": choices,
            "usage": _usage(generation, n),
        }
    )


def _deltas(generation: Generation) -> list[dict[str, Any]]:
    """The deltas of one choice after its first (role) delta."""
    if not generation.tool_calls:
        return [{"content": piece} for piece in pieces(generation.text or "")]
    deltas: list[dict[str, Any]] = []
    for index, call in enumerate(generation.tool_calls):
        start = {"index": index, "id": call.id, "type": "function"}
        deltas.append({"tool_calls": [{**start, "function": {"name": call.name, "arguments": ""}}]})
        deltas.extend(
            {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
            for piece in pieces(call.arguments)
        )
    return deltas


def _chunks(
    ident: str, head: dict[str, Any], generation: Generation, n: int, include_usage: bool
) -> list[bytes]:
    def chunk(index: int, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        payload: dict[str, Any] = {
            "id": ident,
            "object": "chat.completion.chunk",
            **head,
            "choices": [choice],
        }
        if include_usage:
            # With include_usage the API sends `"usage": null` on every chunk
            # but the extra last one.
            payload["usage"] = None
        return sse(payload)

    content = None if generation.tool_calls else ""
    first = {"role": "assistant", "content": content, "refusal": None}
    deltas = _deltas(generation)
    events = [chunk(index, first) for index in range(n)]
    for delta in deltas:
        events.extend(chunk(index, delta) for index in range(n))
    events.extend(chunk(index, {}, generation.finish_reason) for index in range(n))
    if include_usage:
        usage = {
            "id": ident,
            "object": "chat.completion.chunk",
            **head,
            "choices": [],
            "usage": _usage(generation, n),
        }
        events.append(sse(usage))
    events.append(sse("[DONE]"))
    return events
