"""Stream helpers end to end: `chat.completions.stream()` events per second, oxide against the SDK.

One long streamed chat completion (10,000 chunks by default: the mock model
repeats the prompt, so a prompt of that many words gives a reply of that many
word-sized content deltas) from the local mock server, run in a child process
(`server.py`) so the client's CPU is counted apart from the server's.
Each client opens `client.chat.completions.stream(...)` and iterates every
helper event (`chunk`, `content.delta`, ..., `content.done`), then calls
`get_final_completion()`: the whole path, HTTP to typed helper events.

Pairs: oxide's `Client` against the SDK's `OpenAI`, oxide's `AsyncClient` on
asyncio against `AsyncOpenAI`, and `AsyncClient` on trio (against `AsyncOpenAI`
on asyncio, the SDK having no trio driver). Without the SDK (or trio) installed,
its runs are left out. HTTP/1.1 keep-alive on both sides.
Before timing, every client's final text is checked against the prompt and its
chunk count against the others'. Prints events per second (median of rounds,
wall clock) and client CPU per event, and the ratio of the SDK's time per stream
to oxide's (above 1: oxide is faster).

Run: `python bench/bench_stream_helpers_client.py [--chunks 10000] [--rounds 5]`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import oxide_io

from .client import installed
from .server import serve

MODEL = "gpt-4o-mini"
API_KEY = "sk-bench"
GOAL_RATIO = 2.0


@dataclass
class Result:
    name: str
    events: int = 0
    chunks: int = 0
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def events_per_s(self) -> float:
        return self.events / statistics.median(self.wall)

    @property
    def cpu_us_per_event(self) -> float:
        return statistics.median(self.cpu) / self.events * 1e6


def _count(events: list[str], final_text: str | None, expected: str) -> tuple[int, int]:
    if final_text != expected:
        raise RuntimeError(f"unexpected reply (first 80 chars: {str(final_text)[:80]!r})")
    return len(events), events.count("chunk")


def _sync_run(client: Any, messages: list[dict[str, str]], expected: str) -> tuple[int, int]:
    kinds: list[str] = []
    append = kinds.append
    with client.chat.completions.stream(model=MODEL, messages=messages) as stream:
        for event in stream:
            append(event.type)
        final = stream.get_final_completion()
    return _count(kinds, final.choices[0].message.content, expected)


async def _async_run(client: Any, messages: list[dict[str, str]], expected: str) -> tuple[int, int]:
    kinds: list[str] = []
    append = kinds.append
    async with client.chat.completions.stream(model=MODEL, messages=messages) as stream:
        async for event in stream:
            append(event.type)
        final = await stream.get_final_completion()
    return _count(kinds, final.choices[0].message.content, expected)


def _measure_sync(result: Result, run: Callable[[], tuple[int, int]], rounds: int) -> None:
    run()  # warm-up: connection open and kept alive
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        result.events, result.chunks = run()
        result.wall.append(time.perf_counter() - wall)
        result.cpu.append(time.process_time() - cpu)


async def _measure_async(
    result: Result, run: Callable[[], Awaitable[tuple[int, int]]], rounds: int
) -> None:
    await run()
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        result.events, result.chunks = await run()
        result.wall.append(time.perf_counter() - wall)
        result.cpu.append(time.process_time() - cpu)


def words_for(chunks: int) -> int:
    """The prompt's words for a stream of `chunks` chunks.

    The reply wraps the prompt in 14 pieces; the stream adds a role and a finish chunk.
    """
    return max(1, chunks - 16)


def bench(base_url: str, words: int, rounds: int) -> dict[str, Result]:
    """The installed clients' results, by name; all checked to see the same chunks."""
    sdk = installed("openai")
    openai: Any = importlib.import_module("openai") if sdk else None
    if sdk:
        importlib.import_module("openai.lib.streaming.chat")  # imported before timing
    prompt = " ".join(f"w{i}" for i in range(words))
    expected = f'You said: "{prompt}". This reply comes from the oxide mock server.'
    messages = [{"role": "user", "content": prompt}]
    names = ["oxide Client", "oxide asyncio"]
    names += ["oxide trio"] if installed("trio") else []
    names += ["SDK OpenAI", "SDK AsyncOpenAI"] if sdk else []
    results = {name: Result(name) for name in names}
    timeout = 120.0

    ours = oxide_io.Client(base_url=base_url, api_key=API_KEY, timeout=timeout)
    theirs = openai.OpenAI(base_url=base_url, api_key=API_KEY, timeout=timeout) if sdk else None
    try:
        # Interleaved rounds, so a change of machine load hits both sides alike.
        for _ in range(rounds):
            _measure_sync(results["oxide Client"], lambda: _sync_run(ours, messages, expected), 1)
            if theirs is not None:
                _measure_sync(
                    results["SDK OpenAI"], lambda: _sync_run(theirs, messages, expected), 1
                )
    finally:
        ours.close()
        if theirs is not None:
            theirs.close()

    async def on_asyncio() -> None:
        ours = oxide_io.AsyncClient(base_url=base_url, api_key=API_KEY, timeout=timeout)
        theirs = (
            openai.AsyncOpenAI(base_url=base_url, api_key=API_KEY, timeout=timeout) if sdk else None
        )
        try:
            for _ in range(rounds):
                await _measure_async(
                    results["oxide asyncio"], lambda: _async_run(ours, messages, expected), 1
                )
                if theirs is not None:
                    await _measure_async(
                        results["SDK AsyncOpenAI"],
                        lambda: _async_run(theirs, messages, expected),
                        1,
                    )
        finally:
            await ours.aclose()
            if theirs is not None:
                await theirs.close()

    async def on_trio() -> None:
        ours = oxide_io.AsyncClient(base_url=base_url, api_key=API_KEY, timeout=timeout)
        try:
            await _measure_async(
                results["oxide trio"], lambda: _async_run(ours, messages, expected), rounds
            )
        finally:
            await ours.aclose()

    asyncio.run(on_asyncio())
    if "oxide trio" in results:
        import trio

        trio.run(on_trio)
    chunks = {r.chunks for r in results.values()}
    if len(chunks) != 1:
        raise RuntimeError(f"clients saw different chunk counts: {chunks}")
    return results


def table(results: dict[str, Result]) -> str:
    pairs = [
        ("oxide Client", "SDK OpenAI"),
        ("oxide asyncio", "SDK AsyncOpenAI"),
        ("oxide trio", "SDK AsyncOpenAI"),
    ]
    lines = [
        f"{'client':<16} {'events':>7} {'events/s':>10} {'µs CPU/event':>13}"
        f"   {'vs':<16} {'events/s':>10} {'µs CPU/event':>13} {'ratio':>6}",
    ]
    for mine, other in pairs:
        a, b = results[mine], results[other]
        # Both read the same stream: the ratio of the times per stream (oxide yields one
        # event more per choice, `choice.done`, which the events/s columns include).
        ratio = statistics.median(b.wall) / statistics.median(a.wall)
        mark = "" if ratio >= GOAL_RATIO else "  (below the 2x goal)"
        lines.append(
            f"{a.name:<16} {a.events:>7} {a.events_per_s:>10,.0f} {a.cpu_us_per_event:>13.2f}"
            f"   {b.name:<16} {b.events_per_s:>10,.0f} {b.cpu_us_per_event:>13.2f}"
            f" {ratio:>5.2f}x{mark}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000, help="chunks per stream")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per client")
    args = parser.parse_args(argv)
    if not installed("openai"):
        sys.exit("the official SDK is not installed: pip install 'oxide-client[bench]'")
    with serve() as server:
        results = bench(server.base_url, words_for(args.chunks), args.rounds)
    chunks = next(iter(results.values())).chunks
    print(
        f"chat.completions.stream(): one stream of {chunks:,} chunks, HTTP/1.1, "
        f"median of {args.rounds} rounds (ratio: the SDK's time per stream over oxide's)"
    )
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
