"""Decoding speed of typed models: oxide's decoders against the official SDK's pydantic models.

    python bench/bench_models.py

Prints microseconds per decode of a typical streamed chat chunk, a typical
Responses API stream event and a full `Response`, and the ratio to pydantic's
`model_validate` (validating) and `construct` (no validation).
"""

from __future__ import annotations

import copy
import timeit
from collections.abc import Callable
from typing import Any

from openai.types.chat import ChatCompletion as SDKChatCompletion
from openai.types.chat import ChatCompletionChunk as SDKChunk
from openai.types.responses import Response as SDKResponse
from openai.types.responses import ResponseTextDeltaEvent as SDKTextDelta

from oxide_proto import decode
from oxide_proto.types import ChatCompletion, ChatCompletionChunk, Response, ResponseStreamEvent

CHUNK: dict[str, Any] = {
    "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    "object": "chat.completion.chunk",
    "created": 1741569952,
    "model": "gpt-4o-2024-08-06",
    "service_tier": "default",
    "system_fingerprint": "fp_44709d6fcb",
    "obfuscation": "Zq3",
    "choices": [
        {
            "index": 0,
            "delta": {"content": " world"},
            "logprobs": None,
            "finish_reason": None,
        }
    ],
}

COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    "object": "chat.completion",
    "created": 1741569952,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Hello! How can I assist you today?",
                "refusal": None,
                "annotations": [],
            },
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 19,
        "completion_tokens": 10,
        "total_tokens": 29,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    },
    "service_tier": "default",
}

TEXT_DELTA: dict[str, Any] = {
    "type": "response.output_text.delta",
    "item_id": "msg_123",
    "output_index": 0,
    "content_index": 0,
    "delta": "In",
    "sequence_number": 1,
    "logprobs": [],
}

RESPONSE: dict[str, Any] = {
    "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
    "object": "response",
    "created_at": 1741476542,
    "status": "completed",
    "error": None,
    "incomplete_details": None,
    "instructions": None,
    "max_output_tokens": None,
    "model": "gpt-4.1-2025-04-14",
    "output": [
        {
            "type": "message",
            "id": "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b",
            "status": "completed",
            "role": "assistant",
            "content": [
                {
                    "type": "output_text",
                    "text": "In a peaceful grove beneath a silver moon, a unicorn named Lumina.",
                    "annotations": [],
                    "logprobs": [],
                }
            ],
        }
    ],
    "parallel_tool_calls": True,
    "previous_response_id": None,
    "reasoning": {"effort": None, "summary": None},
    "store": True,
    "temperature": 1.0,
    "text": {"format": {"type": "text"}},
    "tool_choice": "auto",
    "tools": [],
    "top_p": 1.0,
    "truncation": "disabled",
    "usage": {
        "input_tokens": 36,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": 87,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 123,
    },
    "user": None,
    "metadata": {},
}


def per_call_us(fn: Callable[[], object], number: int) -> float:
    best = min(timeit.repeat(fn, number=number, repeat=5))
    return best / number * 1e6


def main() -> None:
    rows = [
        ("ChatCompletionChunk", CHUNK, ChatCompletionChunk, SDKChunk, 20000),
        ("ChatCompletion", COMPLETION, ChatCompletion, SDKChatCompletion, 10000),
        ("ResponseTextDeltaEvent", TEXT_DELTA, ResponseStreamEvent, SDKTextDelta, 20000),
        ("Response", RESPONSE, Response, SDKResponse, 5000),
    ]
    print(f"{'payload':<24}{'oxide':>9}{'validate':>10}{'construct':>11}{'vs validate':>13}")
    for name, data, ours, theirs, number in rows:
        data = copy.deepcopy(data)
        decode(ours, data)  # build the decoder once
        theirs.model_validate(data)
        t_ours = per_call_us(lambda: decode(ours, data), number)  # noqa: B023
        t_validate = per_call_us(lambda: theirs.model_validate(data), number)  # noqa: B023
        t_construct = per_call_us(lambda: theirs.construct(**data), number)  # noqa: B023
        print(
            f"{name:<24}{t_ours:>8.2f}u{t_validate:>9.2f}u{t_construct:>10.2f}u"
            f"{t_validate / t_ours:>12.1f}x"
        )


if __name__ == "__main__":
    main()
