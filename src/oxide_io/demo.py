"""`python -m oxide_io.demo`: stream a chat reply, from the real API or an embedded server.

With OPENAI_API_KEY set, it asks the real API (model from OXIDE_DEMO_MODEL,
default gpt-4o-mini). Without it, it starts `oxide_io.testing.MockServer` on
127.0.0.1 and talks to that over HTTP/2 (h2c), so it works offline. Either way it
streams one reply token by token, then makes the same call non-streaming from
asyncio and from trio, and prints what each took.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline", action="store_true", help="always use the embedded server")
    parser.add_argument("--model", default=os.environ.get("OXIDE_DEMO_MODEL", "gpt-4o-mini"))
    args = parser.parse_args(argv)
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": PROMPT}]
    try:
        with _target(args.offline) as options:
            with Client(**options) as client:
                started = time.perf_counter()
                print(f"> {PROMPT}\n< ", end="", flush=True)
                with client.chat.completions.create(
                    model=args.model, messages=messages, stream=True
                ) as stream:
                    for chunk in stream:
                        if chunk.choices and chunk.choices[0].delta.content:
                            print(chunk.choices[0].delta.content, end="", flush=True)
                took = time.perf_counter() - started
                print(f"\n\n[blocking Client, streamed: {took * 1000:.1f} ms]")

            async def once() -> str:
                async with AsyncClient(**options) as aclient:
                    started = time.perf_counter()
                    reply = await aclient.chat.completions.create(
                        model=args.model, messages=messages
                    )
                    took = (time.perf_counter() - started) * 1000
                    tokens = reply.usage.total_tokens if reply.usage else "?"
                    return f"{took:.1f} ms, {tokens} tokens"

            print(f"[AsyncClient on asyncio: {asyncio.run(once())}]")
            try:
                import trio
            except ImportError:
                print("[AsyncClient on trio:    skipped, trio is not installed (extra [trio])]")
            else:
                print(f"[AsyncClient on trio:    {trio.run(once)}]")
    except OpenAIError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
