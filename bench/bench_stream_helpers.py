"""Stream helper cost per chunk: oxide's accumulators against the official SDK's state machines.

Both sides get the same stream, already decoded into each package's own chunk
models (decoding is measured elsewhere: `bench_models.py`), and the timer covers
only the helper: oxide's `ChatCompletionAccumulator.handle_chunk()` against the
SDK's `ChatCompletionStreamState.handle_chunk()` (what `chat.completions.stream()`
runs per chunk), then `get_final_completion()` on both. Scenarios:

- text: one choice, a content delta of a word per chunk;
- structured: the same with a `response_format` type (partial JSON per delta);
- tools: strict tool calls whose arguments arrive a few characters per chunk.

Before timing, both sides' final completions are checked to carry the same text
and arguments. Prints microseconds per chunk (median of rounds, CPU time) and the
ratio SDK / oxide (above 1: oxide is faster).

Run: `python bench/bench_stream_helpers.py [--chunks 10000] [--rounds 5]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import gc
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import pydantic
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletionChunk as SDKChunk

from oxide_proto import ChatCompletionAccumulator, decode
from oxide_proto.types.chat import ChatCompletionChunk


@dataclasses.dataclass
class Story:
    title: str
    words: list[str]


class SDKStory(pydantic.BaseModel):
    title: str
    words: list[str]


TOOL = {
    "type": "function",
    "function": {
        "name": "search",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}},
            "required": ["query"],
            "additionalProperties": False,
        },
    },
}


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "system_fingerprint": "fp_bench",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def text_stream(count: int) -> list[dict[str, Any]]:
    first = _chunk({"role": "assistant", "content": "", "refusal": None})
    body = [_chunk({"content": f" word{i % 100}"}) for i in range(count - 2)]
    return [first, *body, _chunk({}, "stop")]


def structured_stream(count: int) -> list[dict[str, Any]]:
    words = [f"w{i % 100}" for i in range(count)]
    text = json.dumps({"title": "A story", "words": words})
    size = max(1, len(text) // (count - 2))
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    first = _chunk({"role": "assistant", "content": "", "refusal": None})
    return [first, *(_chunk({"content": p}) for p in pieces), _chunk({}, "stop")]


def tools_stream(count: int) -> list[dict[str, Any]]:
    calls = 10
    per_call = (count - 2) // calls
    out = [_chunk({"role": "assistant", "content": None, "refusal": None})]
    for index in range(calls):
        text = json.dumps({"query": "x" * (per_call * 4)})
        pieces = [text[i : i + 4] for i in range(0, len(text), 4)][: per_call - 1]
        pieces[-1] += text[4 * (per_call - 1) :]
        start = {"index": index, "id": f"call_{index}", "type": "function"}
        out.append(
            _chunk({"tool_calls": [{**start, "function": {"name": "search", "arguments": ""}}]})
        )
        out += [
            _chunk({"tool_calls": [{"index": index, "function": {"arguments": p}}]}) for p in pieces
        ]
    out.append(_chunk({}, "tool_calls"))
    return out


def run_ours(chunks: list[ChatCompletionChunk], options: dict[str, Any]) -> Any:
    accumulator: ChatCompletionAccumulator[Any] = ChatCompletionAccumulator(**options)
    for chunk in chunks:
        accumulator.handle_chunk(chunk)
    return accumulator.get_final_completion()


def run_sdk(chunks: list[SDKChunk], options: dict[str, Any]) -> Any:
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState(**options)
    for chunk in chunks:
        state.handle_chunk(chunk)
    return state.get_final_completion()


def timed(run: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(rounds):
        gc.collect()
        start = time.process_time()
        result = run()
        times.append(time.process_time() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    scenarios: list[tuple[str, list[dict[str, Any]], dict[str, Any], dict[str, Any]]] = [
        ("text", text_stream(args.chunks), {}, {}),
        (
            "structured",
            structured_stream(args.chunks),
            {"response_format": Story},
            {"response_format": SDKStory},
        ),
        ("tools", tools_stream(args.chunks), {"tools": [TOOL]}, {"input_tools": [TOOL]}),
    ]
    print(
        f"{'scenario':<12}{'chunks':>8}{'oxide µs/chunk':>16}{'SDK µs/chunk':>14}{'SDK/oxide':>11}"
    )
    for name, raw, ours_options, sdk_options in scenarios:
        ours_chunks = [decode(ChatCompletionChunk, chunk) for chunk in raw]
        sdk_chunks = [SDKChunk.model_validate(chunk) for chunk in raw]

        ours = functools.partial(run_ours, ours_chunks, ours_options)
        sdk = functools.partial(run_sdk, sdk_chunks, sdk_options)
        ours_time, ours_final = timed(ours, args.rounds)
        sdk_time, sdk_final = timed(sdk, max(1, args.rounds // 2))
        ours_message, sdk_message = ours_final.choices[0].message, sdk_final.choices[0].message
        assert ours_message.content == sdk_message.content
        assert [c.function.arguments for c in ours_message.tool_calls or ()] == [
            c.function.arguments for c in sdk_message.tool_calls or ()
        ]
        if ours_message.parsed is not None:
            assert dataclasses.asdict(ours_message.parsed) == sdk_message.parsed.model_dump()
        count = len(raw)
        ours_us, sdk_us = ours_time / count * 1e6, sdk_time / count * 1e6
        print(f"{name:<12}{count:>8}{ours_us:>16.2f}{sdk_us:>14.2f}{sdk_us / ours_us:>11.1f}")


if __name__ == "__main__":
    main()
