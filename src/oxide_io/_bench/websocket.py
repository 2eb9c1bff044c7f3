"""An agent loop's transport: one WebSocket against HTTP keep-alive against a connection per call.

One loop is ten sequential tool-call round trips (`response.create` answered by a
function call, the next request carrying `previous_response_id` and the tool
output); the server can hold every answer for a fixed delay (`--delay`), like a
model that thinks. Everything runs over TLS against oxide's MockServer on
127.0.0.1, in a child process (so this process's clock and CPU are the client's),
which answers both `POST /v1/responses` and the Responses WebSocket:

- oxide, WebSocket: `client.responses.session()` (`session.send`), one connection
  per loop, in blocking code, asyncio and trio;
- oxide, HTTP keep-alive: `client.responses.create` with one client per loop
  (HTTP/1.1 and HTTP/2), blocking and asyncio;
- oxide, a new connection per call: a new client (new TCP and TLS handshake)
  for every request;
- the official SDK, when installed: `AsyncOpenAI().responses.connect()` on
  asyncio against the same WebSocket, and `OpenAI().responses.create` over HTTP
  keep-alive.

Each loop's time includes opening its connection. The table shows the median
loop time over the rounds, the time per call above the server's delay, and
ratios against oxide's WebSocket session in blocking code. Every loop checks
that it got ten responses, each a function call.

Run: `python bench/bench_websocket.py` (about a minute), `--rounds 3` for less.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import ssl
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import oxide_io

from .client import installed
from .server import Server, serve

API_KEY = "sk-bench"
MODEL = "gpt-4o-mini"
CALLS = 10
TOOLS: list[Any] = [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]
BASELINE = "oxide WebSocket, blocking"


# -- one loop per client kind ----------------------------------------------------------


def _check(outputs: Sequence[str]) -> None:
    if len(outputs) != CALLS or any(kind != "function_call" for kind in outputs):
        raise AssertionError(f"expected {CALLS} function calls, got {list(outputs)}")


def _verify(server: Server) -> str | bool:
    return server.ca_file if server.ca_file is not None else True


def _tool_output(response: Any) -> list[dict[str, Any]]:
    item = response.output[0]
    return [{"type": "function_call_output", "call_id": item.call_id, "output": "sunny"}]


def oxide_ws_sync(server: Server) -> None:
    client = oxide_io.Client(api_key=API_KEY, base_url=server.base_url, verify=_verify(server))
    outputs = []
    with client.responses.session() as session:
        previous: str | None = None
        tool_input: Any = "go"
        for _ in range(CALLS):
            response = session.send(
                model=MODEL, input=tool_input, tools=TOOLS, previous_response_id=previous
            )
            outputs.append(str(response.output[0].type))
            previous, tool_input = response.id, _tool_output(response)
    client.close()
    _check(outputs)


async def oxide_ws_async(server: Server) -> None:
    client = oxide_io.AsyncClient(api_key=API_KEY, base_url=server.base_url, verify=_verify(server))
    outputs = []
    async with client.responses.session() as session:
        previous: str | None = None
        tool_input: Any = "go"
        for _ in range(CALLS):
            response = await session.send(
                model=MODEL, input=tool_input, tools=TOOLS, previous_response_id=previous
            )
            outputs.append(str(response.output[0].type))
            previous, tool_input = response.id, _tool_output(response)
    await client.aclose()
    _check(outputs)


def oxide_http_sync(server: Server, http2: bool, fresh: bool) -> None:
    def make() -> oxide_io.Client:
        return oxide_io.Client(
            api_key=API_KEY, base_url=server.base_url, verify=_verify(server), http2=http2
        )

    outputs = []
    client = make()
    previous: str | None = None
    tool_input: Any = "go"
    for _ in range(CALLS):
        if fresh:
            client.close()
            client = make()
        response = client.responses.create(
            model=MODEL, input=tool_input, tools=TOOLS, previous_response_id=previous
        )
        outputs.append(str(response.output[0].type))
        previous, tool_input = response.id, _tool_output(response)
    client.close()
    _check(outputs)


async def oxide_http_async(server: Server, http2: bool) -> None:
    outputs = []
    async with oxide_io.AsyncClient(
        api_key=API_KEY, base_url=server.base_url, verify=_verify(server), http2=http2
    ) as client:
        previous: str | None = None
        tool_input: Any = "go"
        for _ in range(CALLS):
            response = await client.responses.create(
                model=MODEL, input=tool_input, tools=TOOLS, previous_response_id=previous
            )
            outputs.append(str(response.output[0].type))
            previous, tool_input = response.id, _tool_output(response)
    _check(outputs)


def _sdk() -> Any:
    # Typed as Any: the SDK is an optional column, not a dependency to type against.
    return importlib.import_module("openai")


async def sdk_ws_async(server: Server) -> None:
    client = _sdk().AsyncOpenAI(api_key=API_KEY, base_url=server.base_url)
    context = ssl.create_default_context(cafile=server.ca_file)
    outputs = []
    # `ssl` goes straight to websockets' connect(); the SDK passes its options through.
    async with client.responses.connect(websocket_connection_options={"ssl": context}) as conn:
        previous: Any = None
        tool_input: Any = "go"
        for _ in range(CALLS):
            await conn.response.create(
                model=MODEL, input=tool_input, tools=TOOLS, previous_response_id=previous
            )
            async for event in conn:
                if event.type == "response.completed":
                    response = event.response
                    break
                if event.type == "error":
                    raise RuntimeError(f"error event: {event}")
            outputs.append(str(response.output[0].type))
            previous, tool_input = response.id, _tool_output(response)
    await client.close()
    _check(outputs)


def sdk_http_sync(server: Server) -> None:
    openai = _sdk()
    http_client = openai.DefaultHttpxClient(
        verify=ssl.create_default_context(cafile=server.ca_file)
    )
    client = openai.OpenAI(api_key=API_KEY, base_url=server.base_url, http_client=http_client)
    outputs = []
    previous: Any = None
    tool_input: Any = "go"
    for _ in range(CALLS):
        response = client.responses.create(
            model=MODEL, input=tool_input, tools=TOOLS, previous_response_id=previous
        )
        outputs.append(str(response.output[0].type))
        previous, tool_input = response.id, _tool_output(response)
    client.close()
    _check(outputs)


# -- running -------------------------------------------------------------------------------


def variants(server: Server) -> list[tuple[str, Callable[[], None]]]:
    """(label, loop) of every client kind that is installed; oxide's blocking WebSocket first."""

    def on_trio(loop: Callable[[Server], Any]) -> Callable[[], None]:
        def run() -> None:
            import trio

            trio.run(loop, server)

        return run

    out: list[tuple[str, Callable[[], None]]] = [
        (BASELINE, lambda: oxide_ws_sync(server)),
        ("oxide WebSocket, asyncio", lambda: asyncio.run(oxide_ws_async(server))),
    ]
    if installed("trio"):
        out.append(("oxide WebSocket, trio", on_trio(oxide_ws_async)))
    out += [
        ("oxide HTTP/1.1 keep-alive, blocking", lambda: oxide_http_sync(server, False, False)),
        ("oxide HTTP/2 keep-alive, blocking", lambda: oxide_http_sync(server, True, False)),
        (
            "oxide HTTP/1.1 keep-alive, asyncio",
            lambda: asyncio.run(oxide_http_async(server, False)),
        ),
        ("oxide HTTP/1.1 new connection per call", lambda: oxide_http_sync(server, False, True)),
    ]
    if installed("openai"):
        out += [
            ("openai responses.connect(), asyncio", lambda: asyncio.run(sdk_ws_async(server))),
            ("openai HTTP/1.1 keep-alive, blocking", lambda: sdk_http_sync(server)),
        ]
    return out


@dataclass
class Loops:
    """Seconds per loop, one per round, by client kind; and the kinds that failed."""

    delay: float
    times: dict[str, list[float]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def measure(rounds: int, delay: float) -> Loops:
    """Every installed client kind's loop, `rounds` times each, in alternating order."""
    loops = Loops(delay)
    with serve(tls=True, tool_calls=True, delay=delay) as server:
        table = variants(server)
        loops.times = {label: [] for label, _ in table}
        for label, loop in table:  # warm-up: imports, TLS contexts, first connections
            try:
                loop()
            except Exception as exc:
                loops.failed[label] = f"{type(exc).__name__}: {exc}"[:120]
        if BASELINE in loops.failed:
            raise RuntimeError(f"oxide's WebSocket loop failed: {loops.failed[BASELINE]}")
        for round_no in range(rounds):
            order = table if round_no % 2 == 0 else table[::-1]
            for label, loop in order:
                if label in loops.failed:
                    continue
                start = time.perf_counter()
                loop()
                loops.times[label].append(time.perf_counter() - start)
    return loops


def print_table(loops: Loops, rounds: int) -> None:
    delay = loops.delay
    base = statistics.median(loops.times[BASELINE])
    print(f"\n{CALLS} tool-call round trips per loop, server delay {delay * 1000:.0f} ms per call,")
    print(f"TLS on 127.0.0.1, median of {rounds} loops (each opening its connection)\n")
    print(f"{'client':44} {'loop ms':>9} {'overhead/call ms':>17} {'vs oxide WS':>12}")
    for label, times in loops.times.items():
        if label in loops.failed:
            print(f"{label:44} {'failed':>9}   {loops.failed[label]}")
            continue
        loop_time = statistics.median(times)
        overhead = loop_time / CALLS - delay
        print(
            f"{label:44} {loop_time * 1000:9.1f} {overhead * 1000:17.2f} {loop_time / base:11.2f}x"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--delay", type=float, default=0.020, help="server delay per call (s)")
    args = parser.parse_args(argv)
    print_table(measure(args.rounds, args.delay), args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
