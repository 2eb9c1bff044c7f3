"""`python -m oxide_io.demo`: stream a chat reply, from the real API or an embedded server.

With OPENAI_API_KEY set, it asks the real API (model from OXIDE_DEMO_MODEL,
default gpt-4o-mini). Without it, it starts `oxide_io.testing.MockServer` on
127.0.0.1 and talks to that over HTTP/2 (h2c), so it works offline. Either way it
streams one reply token by token, then makes the same call non-streaming from
blocking code, asyncio and trio, and prints what the first call took (it also
connects) and the median of the calls after it on the same connection.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from . import AsyncClient, Client, OpenAIError

if TYPE_CHECKING:
    from oxide_proto.types.params import ChatCompletionMessageParam

PROMPT = "In one sentence: why does a sans-I/O protocol core make a client easier to test?"


@contextlib.contextmanager
def _target(offline: bool) -> Iterator[dict[str, Any]]:
    if not offline and os.environ.get("OPENAI_API_KEY"):
        print("Using the real OpenAI API (OPENAI_API_KEY is set).\n")
        yield {}
        return
    from .testing import MockServer

    with MockServer(api_key="sk-demo") as server:
        print(f"No OPENAI_API_KEY: using the embedded server at {server.base_url}\n")
        yield {"api_key": "sk-demo", "base_url": server.base_url, "h2c": True}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _summary(first: float, warm: list[float]) -> str:
    # The first call also connects and loads the protocol stack; the calls after it
    # reuse the connection, which is what a program making many calls pays each time.
    if not warm:
        return f"first call {_ms(first)} (includes connecting)"
    return (
        f"first call {_ms(first)} (includes connecting), "
        f"then median {_ms(statistics.median(warm))} over {len(warm)} calls"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline", action="store_true", help="always use the embedded server")
    parser.add_argument("--model", default=os.environ.get("OXIDE_DEMO_MODEL", "gpt-4o-mini"))
    parser.add_argument(
        "--calls",
        type=int,
        default=None,
        help="calls timed after the first on each client (default 5 offline, 1 on the real API)",
    )
    args = parser.parse_args(argv)
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": PROMPT}]
    try:
        with _target(args.offline) as options:
            online = not options
            calls = args.calls if args.calls is not None else (1 if online else 5)
            with Client(**options) as client:
                started = time.perf_counter()
                print(f"> {PROMPT}\n< ", end="", flush=True)
                with client.chat.completions.create(
                    model=args.model, messages=messages, stream=True
                ) as stream:
                    for chunk in stream:
                        if chunk.choices and chunk.choices[0].delta.content:
                            print(chunk.choices[0].delta.content, end="", flush=True)
                first = time.perf_counter() - started
                warm = []
                for _ in range(calls):
                    started = time.perf_counter()
                    client.chat.completions.create(model=args.model, messages=messages)
                    warm.append(time.perf_counter() - started)
                print(f"\n\n[blocking Client: streamed reply; {_summary(first, warm)}]")

            async def timed() -> str:
                async with AsyncClient(**options) as aclient:
                    took = []
                    for _ in range(1 + calls):
                        started = time.perf_counter()
                        reply = await aclient.chat.completions.create(
                            model=args.model, messages=messages
                        )
                        took.append(time.perf_counter() - started)
                    tokens = reply.usage.total_tokens if reply.usage else "?"
                    return f"{_summary(took[0], took[1:])}; {tokens} tokens a reply"

            print(f"[AsyncClient on asyncio: {asyncio.run(timed())}]")
            try:
                import trio
            except ImportError:
                print("[AsyncClient on trio: skipped, trio is not installed (extra [trio])]")
            else:
                print(f"[AsyncClient on trio:    {trio.run(timed)}]")
    except OpenAIError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
