"""An agent loop's transport: one WebSocket against HTTP keep-alive against a connection per call.

One loop is ten sequential tool-call round trips (`response.create` answered by a
function call, the next request carrying `previous_response_id` and the tool
output), and the server holds every answer for a fixed delay (`--delay`, 20 ms by
default), like a model that thinks. Everything runs over TLS against servers on
127.0.0.1, in a child process (so this process's clock and CPU are the client's):

- oxide, WebSocket: `responses_session` (`session.send`), one connection per
  loop, in blocking code, asyncio and trio;
- oxide, HTTP keep-alive: `client.responses.create` with one client per loop
  (HTTP/1.1 and HTTP/2), blocking and asyncio;
- oxide, a new connection per call: a new client (new TCP and TLS handshake)
  for every request;
- the official SDK: `AsyncOpenAI().responses.connect()` on asyncio against the
  same WebSocket server, and `OpenAI().responses.create` over HTTP keep-alive.

Each loop's time includes opening its connection. The table shows the median
loop time over the rounds, the overhead per call above the server's delay, and
ratios against oxide's WebSocket session in blocking code. Every loop checks
that it got ten completed responses, the first nine function calls.

Run: `python bench/bench_websocket.py` (about a minute), `--rounds 5` for less.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import trio

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import oxide_io  # noqa: E402
from oxide_io._async._responses_ws import responses_session as async_session  # noqa: E402
from oxide_io._sync._responses_ws import responses_session as sync_session  # noqa: E402

API_KEY = "sk-bench"
MODEL = "gpt-4o-mini"
CALLS = 10
TOOLS = [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]


# -- the servers (child process) ---------------------------------------------------------


def serve(delay: float, certfile: str, keyfile: str) -> None:
    """Runs both servers in this process until stdin closes; prints their URLs first."""
    from oxide_io.testing import Delay, MockServer, ToolCall, ToolCalls
    from tests.ws_api_server import ToolCall as WsToolCall
    from tests.ws_api_server import WsApiServer

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certfile, keyfile)
    http = MockServer(api_key=API_KEY, tls=context)
    http.start()
    http.enqueue(
        Delay(delay, times=None),
        ToolCalls([ToolCall("get_weather", {"city": "Paris"})], times=None),
    )
    websocket = WsApiServer(tls=context, delay=delay, default=WsToolCall())
    websocket.start()
    print(json.dumps({"http": http.base_url, "ws": websocket.base_url}), flush=True)
    sys.stdin.read()
    websocket.stop()
    http.stop()


# -- one loop per client kind ----------------------------------------------------------


def _check(outputs: list[str]) -> None:
    assert len(outputs) == CALLS, outputs
    assert all(kind == "function_call" for kind in outputs), outputs


def _tool_output(response: Any) -> list[dict[str, Any]]:
    item = response.output[0]
    return [{"type": "function_call_output", "call_id": item.call_id, "output": "sunny"}]


def oxide_ws_sync(urls: dict[str, str], ca: str) -> None:
    client = oxide_io.Client(api_key=API_KEY, base_url=urls["ws"], verify=ca)
    outputs = []
    with sync_session(client) as session:
        previous, tool_input = None, "go"
        for _ in range(CALLS):
            response = session.send(
                model=MODEL, input=tool_input, tools=TOOLS, previous_response_id=previous
            )
            outputs.append(response.output[0].type)
            previous, tool_input = response.id, _tool_output(response)
    client.close()
    _check(outputs)


async def oxide_ws_async(urls: dict[str, str], ca: str) -> None:
    client = oxide_io.AsyncClient(api_key=API_KEY, base_url=urls["ws"], verify=ca)
    outputs = []
    async with async_session(client) as session:
        previous, tool_input = None, "go"
        for _ in range(CALLS):
            response = await session.send(
                model=MODEL, input=tool_input, tools=TOOLS, previous_response_id=previous
            )
            outputs.append(response.output[0].type)
            previous, tool_input = response.id, _tool_output(response)
    await client.aclose()
    _check(outputs)


def oxide_http_sync(urls: dict[str, str], ca: str, http2: bool, fresh: bool) -> None:
    outputs = []
    client = oxide_io.Client(api_key=API_KEY, base_url=urls["http"], verify=ca, http2=http2)
    previous, tool_input = None, "go"
    for _ in range(CALLS):
        if fresh:
            client.close()
            client = oxide_io.Client(api_key=API_KEY, base_url=urls["http"], verify=ca, http2=http2)
        response = client.responses.create(
            model=MODEL, input=tool_input, tools=TOOLS, previous_response_id=previous
        )
        outputs.append(response.output[0].type)
        previous, tool_input = response.id, _tool_output(response)
    client.close()
    _check(outputs)


async def oxide_http_async(urls: dict[str, str], ca: str, http2: bool) -> None:
    outputs = []
    async with oxide_io.AsyncClient(
        api_key=API_KEY, base_url=urls["http"], verify=ca, http2=http2
    ) as client:
        previous, tool_input = None, "go"
        for _ in range(CALLS):
            response = await client.responses.create(
                model=MODEL, input=tool_input, tools=TOOLS, previous_response_id=previous
            )
            outputs.append(response.output[0].type)
            previous, tool_input = response.id, _tool_output(response)
    _check(outputs)


async def sdk_ws_async(urls: dict[str, str], ca: str) -> None:
    import openai

    client = openai.AsyncOpenAI(api_key=API_KEY, base_url=urls["ws"])
    context = ssl.create_default_context(cafile=ca)
    outputs = []
    # `ssl` goes straight to websockets' connect(); the SDK passes its options through.
    async with client.responses.connect(websocket_connection_options={"ssl": context}) as conn:  # type: ignore[typeddict-unknown-key]
        previous, tool_input = None, "go"
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
            outputs.append(response.output[0].type)
            previous, tool_input = response.id, _tool_output(response)
    await client.close()
    _check(outputs)


def sdk_http_sync(urls: dict[str, str], ca: str) -> None:
    import httpx
    import openai

    http_client = httpx.Client(verify=ssl.create_default_context(cafile=ca))
    client = openai.OpenAI(api_key=API_KEY, base_url=urls["http"], http_client=http_client)
    outputs = []
    previous, tool_input = None, "go"
    for _ in range(CALLS):
        response = client.responses.create(
            model=MODEL, input=tool_input, tools=TOOLS, previous_response_id=previous
        )
        outputs.append(response.output[0].type)
        previous, tool_input = response.id, _tool_output(response)
    client.close()
    _check(outputs)


# -- running -------------------------------------------------------------------------------


def variants(urls: dict[str, str], ca: str) -> list[tuple[str, Callable[[], None]]]:
    return [
        ("oxide WebSocket, blocking", lambda: oxide_ws_sync(urls, ca)),
        ("oxide WebSocket, asyncio", lambda: asyncio.run(oxide_ws_async(urls, ca))),
        ("oxide WebSocket, trio", lambda: trio.run(oxide_ws_async, urls, ca)),
        ("oxide HTTP/1.1 keep-alive, blocking", lambda: oxide_http_sync(urls, ca, False, False)),
        ("oxide HTTP/2 keep-alive, blocking", lambda: oxide_http_sync(urls, ca, True, False)),
        (
            "oxide HTTP/1.1 keep-alive, asyncio",
            lambda: asyncio.run(oxide_http_async(urls, ca, False)),
        ),
        ("oxide HTTP/1.1 new connection per call", lambda: oxide_http_sync(urls, ca, False, True)),
        ("openai responses.connect(), asyncio", lambda: asyncio.run(sdk_ws_async(urls, ca))),
        ("openai HTTP/1.1 keep-alive, blocking", lambda: sdk_http_sync(urls, ca)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--delay", type=float, default=0.020, help="server delay per call (s)")
    parser.add_argument("--serve", nargs=2, metavar=("CERT", "KEY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.delay, *args.serve)
        return

    import trustme

    with tempfile.TemporaryDirectory() as tmp:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        ca_file = os.path.join(tmp, "ca.pem")
        chain, key = os.path.join(tmp, "server.pem"), os.path.join(tmp, "server.key")
        ca.cert_pem.write_to_path(ca_file)
        cert.private_key_pem.write_to_path(key)
        for i, blob in enumerate(cert.cert_chain_pems):
            blob.write_to_path(chain, append=i > 0)
        command = [sys.executable, __file__, "--serve", chain, key, "--delay", str(args.delay)]
        server = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        try:
            assert server.stdout is not None
            urls = json.loads(server.stdout.readline())
            run(urls, ca_file, args.rounds, args.delay)
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.wait(15)


def run(urls: dict[str, str], ca: str, rounds: int, delay: float) -> None:
    table = variants(urls, ca)
    times: dict[str, list[float]] = {label: [] for label, _ in table}
    failed: dict[str, str] = {}
    for label, loop in table:  # warm-up: imports, TLS contexts, first connections
        try:
            loop()
        except Exception as exc:
            failed[label] = f"{type(exc).__name__}: {exc}"[:120]
    for round_no in range(rounds):
        order = table if round_no % 2 == 0 else table[::-1]
        for label, loop in order:
            if label in failed:
                continue
            start = time.perf_counter()
            loop()
            times[label].append(time.perf_counter() - start)

    if "oxide WebSocket, blocking" in failed:
        sys.exit(f"oxide's WebSocket loop failed: {failed['oxide WebSocket, blocking']}")
    base = statistics.median(times["oxide WebSocket, blocking"])
    print(f"\n{CALLS} tool-call round trips per loop, server delay {delay * 1000:.0f} ms per call,")
    print(f"TLS on 127.0.0.1, median of {rounds} loops (each opening its connection)\n")
    print(f"{'client':44} {'loop ms':>9} {'overhead/call ms':>17} {'vs oxide WS':>12}")
    for label, _ in table:
        if label in failed:
            print(f"{label:44} {'failed':>9}   {failed[label]}")
            continue
        loop_time = statistics.median(times[label])
        overhead = loop_time / CALLS - delay
        print(
            f"{label:44} {loop_time * 1000:9.1f} {overhead * 1000:17.2f} {loop_time / base:11.2f}x"
        )


if __name__ == "__main__":
    main()
