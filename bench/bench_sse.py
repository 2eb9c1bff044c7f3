"""SSE decoding throughput: oxide's decoders against the official SDK's, side by side.

Two realistic streams are built in memory and cut into network-sized reads:

- chat: a Chat Completions stream of `chat.completion.chunk` payloads carrying a
  few tokens each, data-only lines, ending in `data: [DONE]`;
- responses: a Responses API stream with `event:` lines (`response.created`, ...,
  many `response.output_text.delta` with sequence numbers, `response.completed`).

Table 1 times SSE decoding alone (bytes -> event objects): `oxide_proto.SSEDecoder`
against `openai._streaming.SSEDecoder.iter_bytes`. Table 2 times the full path
bytes -> parsed JSON dicts: `oxide_proto.OpenAIStreamDecoder` against the SDK's
decoder followed by what `openai.Stream.__stream__` does per event (the `[DONE]`
check, `json.loads`, the `error` check). Before timing, the script checks that both
sides produce the same events and payloads, so neither can win by skipping work.

Run: `python bench/bench_sse.py [--rounds 7] [--events 10000]`. Needs `openai`
installed (the `bench` extra); reports the median CPU time of the rounds and the
ratio (SDK time / oxide time: above 1 means oxide is faster). Reads are cut four
ways: 4-16 KiB (a fast server or a replay), one read per event (a client keeping up
with a live stream), 64 bytes, and 1 byte (the worst case, on a shorter stream).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from oxide_proto import (
    NEED_DATA,
    OpenAIStreamDecoder,
    SSEDecoder,
    StreamEnd,
    StreamEvent,
)

WORDS = (  # noqa: SIM905 - a sentence reads better than a list of 50 strings
    "the of and to in is that for it as was with be by on not he this are or his from at "
    "which but have an they you were her she there been one all we their has would when "
    "Python stream token model answer quickly server-sent events über naïve 東京 😀"
).split()


# -- the streams ----------------------------------------------------------------------


def _tokens(rng: random.Random) -> str:
    return "".join(" " + rng.choice(WORDS) for _ in range(rng.randint(1, 4)))


def chat_stream(events: int, rng: random.Random) -> bytes:
    """A Chat Completions stream with `events` chunks, then usage and `[DONE]`."""
    base = {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion.chunk",
        "created": 1741569952,
        "model": "gpt-4.1-2025-04-14",
        "service_tier": "default",
        "system_fingerprint": "fp_b376dfbbd5",
    }
    out = []
    for i in range(events):
        if i == 0:
            delta: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
        else:
            delta = {"content": _tokens(rng)}
        finish = "stop" if i == events - 1 else None
        if finish:
            delta = {}
        chunk = {
            **base,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            "usage": None,
        }
        out.append(b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n")
    usage = {
        **base,
        "choices": [],
        "usage": {"prompt_tokens": 19, "completion_tokens": events, "total_tokens": events + 19},
    }
    out.append(b"data: " + json.dumps(usage, separators=(",", ":")).encode() + b"\n\n")
    out.append(b"data: [DONE]\n\n")
    return b"".join(out)


def responses_stream(events: int, rng: random.Random) -> bytes:
    """A Responses stream with `event:` lines and `events` text deltas, no `[DONE]`."""
    item_id = "msg_67c9fdcecf488190bdd9a0409de3a1f907bc2e6e4ee9c9de"
    response = {
        "id": "resp_67c9fdcecf488190bdd9a0409de3a1f907bc2e6e4ee9c9de",
        "object": "response",
        "created_at": 1741290958,
        "status": "in_progress",
        "model": "gpt-4.1-2025-04-14",
        "output": [],
        "parallel_tool_calls": True,
        "temperature": 1.0,
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "usage": None,
        "metadata": {},
    }
    seq = 0
    out = []

    def emit(kind: str, **fields: Any) -> None:
        nonlocal seq
        payload = {"type": kind, "sequence_number": seq, **fields}
        seq += 1
        body = json.dumps(payload, separators=(",", ":")).encode()
        out.append(b"event: " + kind.encode() + b"\ndata: " + body + b"\n\n")

    emit("response.created", response=response)
    emit("response.in_progress", response=response)
    item = {
        "id": item_id,
        "type": "message",
        "status": "in_progress",
        "content": [],
        "role": "assistant",
    }
    emit("response.output_item.added", output_index=0, item=item)
    part = {"type": "output_text", "text": "", "annotations": []}
    emit("response.content_part.added", item_id=item_id, output_index=0, content_index=0, part=part)
    text = []
    for _ in range(events):
        delta = _tokens(rng)
        text.append(delta)
        emit(
            "response.output_text.delta",
            item_id=item_id,
            output_index=0,
            content_index=0,
            delta=delta,
            logprobs=[],
            obfuscation="Wq3x",
        )
    full = "".join(text)
    emit(
        "response.output_text.done",
        item_id=item_id,
        output_index=0,
        content_index=0,
        text=full,
        logprobs=[],
    )
    done_part = {"type": "output_text", "text": full, "annotations": []}
    emit(
        "response.content_part.done",
        item_id=item_id,
        output_index=0,
        content_index=0,
        part=done_part,
    )
    done_item = {**item, "status": "completed", "content": [done_part]}
    emit("response.output_item.done", output_index=0, item=done_item)
    emit("response.completed", response={**response, "status": "completed", "output": [done_item]})
    return b"".join(out)


def network_reads(data: bytes, rng: random.Random, low: int, high: int) -> list[bytes]:
    chunks = []
    pos = 0
    while pos < len(data):
        size = rng.randint(low, high)
        chunks.append(data[pos : pos + size])
        pos += size
    return chunks


# -- the decoders -----------------------------------------------------------------------


def oxide_sse(chunks: list[bytes]) -> list[Any]:
    decoder = SSEDecoder()
    out: list[Any] = []
    append = out.append
    receive = decoder.receive_data
    pull = decoder.next_event
    for chunk in chunks:
        receive(chunk)
        while (event := pull()) is not NEED_DATA:
            append(event)
    decoder.receive_eof()
    while (event := pull()) is not NEED_DATA:
        append(event)
    return out


def oxide_json(chunks: list[bytes]) -> list[Any]:
    decoder = OpenAIStreamDecoder()
    out: list[Any] = []
    append = out.append
    receive = decoder.receive_data
    pull = decoder.next_event
    for chunk in chunks:
        receive(chunk)
        while (event := pull()) is not NEED_DATA:
            if type(event) is StreamEnd:
                return out
            append(event)
    decoder.receive_eof()
    while (event := pull()) is not NEED_DATA:
        if type(event) is StreamEnd:
            return out
        append(event)
    return out


def sdk_sse(chunks: list[bytes]) -> list[Any]:
    from openai._streaming import SSEDecoder as SDKDecoder

    return list(SDKDecoder().iter_bytes(iter(chunks)))


def sdk_json(chunks: list[bytes]) -> list[Any]:
    # What `openai.Stream.__stream__` does per event, minus building models.
    from openai._exceptions import APIError as SDKAPIError
    from openai._streaming import SSEDecoder as SDKDecoder
    from openai._utils import is_mapping

    out: list[Any] = []
    for sse in SDKDecoder().iter_bytes(iter(chunks)):
        if sse.data.startswith("[DONE]"):
            break
        data = sse.json()
        if is_mapping(data) and data.get("error"):
            raise SDKAPIError(message="error", request=None, body=data["error"])  # type: ignore[arg-type]
        out.append(data)
    return out


# -- timing -----------------------------------------------------------------------------


def medians(
    ours: Callable[[list[bytes]], list[Any]],
    theirs: Callable[[list[bytes]], list[Any]],
    chunks: list[bytes],
    rounds: int,
) -> tuple[float, float]:
    # Rounds alternate between the two so that a load change on a shared machine
    # hits both alike, and the clock is the process's CPU time so that time spent
    # waiting for a core does not count (both decoders are single-threaded).
    times: tuple[list[float], list[float]] = ([], [])
    clock = time.process_time
    for _ in range(rounds):
        for run, into in ((ours, times[0]), (theirs, times[1])):
            gc.collect()  # start each round without the previous round's garbage
            start = clock()
            run(chunks)
            into.append(clock() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def per_event_reads(data: bytes) -> list[bytes]:
    """One read per event: what a client that keeps up with a live stream sees."""
    return [part + b"\n\n" for part in data.split(b"\n\n")[:-1]]


def check_same_sse(ours: list[Any], theirs: list[Any]) -> int:
    assert len(ours) == len(theirs), f"event counts differ: oxide {len(ours)}, SDK {len(theirs)}"
    for a, b in zip(ours, theirs, strict=True):
        assert (a.event, a.data, a.id) == (b.event, b.data, b.id), (a, b)
    return len(ours)


def check_same_json(ours: list[StreamEvent], theirs: list[Any]) -> int:
    assert len(ours) == len(theirs), f"payload counts differ: oxide {len(ours)}, SDK {len(theirs)}"
    assert [e.data for e in ours] == theirs, "payloads differ"
    return len(ours)


def rows(
    cases: Iterator[tuple[str, bytes, list[bytes], int]],
    ours: Callable[[list[bytes]], list[Any]],
    theirs: Callable[[list[bytes]], list[Any]],
    check: Callable[[Any, Any], int],
) -> list[tuple[str, str, float, float, float, float]]:
    table = []
    for name, data, chunks, rounds in cases:
        count = check(ours(chunks), theirs(chunks))
        t_ours, t_theirs = medians(ours, theirs, chunks, rounds)
        mb = len(data) / 1e6
        table.append((name, "oxide", t_ours, mb / t_ours, count / t_ours, t_theirs / t_ours))
        table.append((name, "openai SDK", t_theirs, mb / t_theirs, count / t_theirs, 1.0))
    return table


def print_table(title: str, table: list[tuple[str, str, float, float, float, float]]) -> None:
    print(f"\n{title}")
    header = (
        f"{'case':<38} {'decoder':<11} {'median ms':>10} {'MB/s':>8} {'events/s':>11} "
        f"{'speedup':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, who, seconds, mbps, eps, ratio in table:
        speed = f"{ratio:.2f}x" if who == "oxide" else ""
        print(f"{name:<38} {who:<11} {seconds * 1e3:>10.2f} {mbps:>8.1f} {eps:>11,.0f} {speed:>8}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument(
        "--byte-events", type=int, default=300, help="events in the 1-byte-read case"
    )
    args = parser.parse_args()
    try:
        import openai
    except ImportError:
        print(
            "bench_sse.py needs the official SDK: pip install 'oxide[bench]' (openai)",
            file=sys.stderr,
        )
        return 2

    rng = random.Random(20240601)
    chat = chat_stream(args.events, rng)
    resp = responses_stream(args.events, rng)
    chat_small = chat_stream(args.byte_events, rng)
    resp_small = responses_stream(args.byte_events, rng)

    def cases() -> Iterator[tuple[str, bytes, list[bytes], int]]:
        n, r = args.events, args.rounds
        yield f"chat, {n} chunks, 4-16 KiB reads", chat, network_reads(chat, rng, 4096, 16384), r
        yield f"chat, {n} chunks, a read per event", chat, per_event_reads(chat), r
        yield f"chat, {n} chunks, 64 B reads", chat, network_reads(chat, rng, 64, 64), r
        yield f"responses, {n} deltas, 4-16 KiB", resp, network_reads(resp, rng, 4096, 16384), r
        yield f"responses, {n} deltas, read/event", resp, per_event_reads(resp), r
        small, r = args.byte_events, max(1, min(r, 3))
        yield (
            f"chat, {small} chunks, 1 B reads",
            chat_small,
            network_reads(chat_small, rng, 1, 1),
            r,
        )
        yield (
            f"responses, {small} deltas, 1 B reads",
            resp_small,
            network_reads(resp_small, rng, 1, 1),
            r,
        )

    print(
        f"Python {sys.version.split()[0]}, openai {openai.__version__}; "
        f"median CPU time of {args.rounds} rounds (3 for 1 B reads)"
    )
    print(f"stream sizes: chat {len(chat) / 1e6:.2f} MB, responses {len(resp) / 1e6:.2f} MB")
    print_table(
        "1. SSE decoding (bytes -> event objects)",
        rows(cases(), oxide_sse, sdk_sse, check_same_sse),
    )
    print_table(
        "2. Full path (bytes -> parsed JSON dicts)",
        rows(cases(), oxide_json, sdk_json, check_same_json),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
