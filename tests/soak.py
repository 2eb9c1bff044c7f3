"""The fault soak: many calls through broken networks and servers, every outcome counted.

    python -m tests.soak --calls 20000 --seed 1            # or: bash scripts/soak ...
    python -m tests.soak --clients oxide,sdk --runtimes sync,asyncio --transports h1
    python -m tests.soak --calls 400 --concurrency 8       # 8 calls in flight at once

Each *leg* is one client (oxide's `Client` / `AsyncClient`, or the official SDK's
`OpenAI` / `AsyncOpenAI`) on one runtime (blocking, asyncio, trio) over one
transport: HTTP/1.1 (`h1`), h2c (`h2c`), TLS with ALPN (`tls`: HTTP/2 for oxide,
HTTP/1.1 for the SDK, which does not offer HTTP/2 by default) or the Responses
WebSocket (`ws`, `client.responses.connect()`; oxide only). Every call carries a
fresh nonce in its prompt; the servers quote the prompt in the reply, so a reply
without this call's nonce is the answer to another call: WRONG CONTENT.

Before each call a seeded generator picks the operation (chat, streamed chat,
Responses) and the fault: none, a server fault (`tests.io.fault_server`, asked for
with the `x-fault` header) or a network fault armed on the TCP proxy in front of
every server (`tests.io.fault_proxy`). Each outcome is counted:

- ok: the reply carries the nonce;
- typed: an error of the client's documented classes (`APIError` and its
  subclasses; for WebSocket also `WebSocketConnectionClosedError`), by class;
- UNTYPED: any other exception;
- WRONG: a reply that carries another nonce, or none;
- HANG: a call still running `deadline` seconds after it began (it is then cut
  off: cancelled, or for the blocking client its connections are broken).

After each leg the client is closed and the leak figures are taken: open file
descriptors, threads and RSS against the leg's start, the client's sockets still
open to the proxy, and the connections the proxy (the server side) still holds.

The same seed gives the same calls and faults in each leg; `--calls` is per leg.

With `--concurrency N` each leg keeps N calls in flight at once over one client
(N tasks, or N threads for the blocking client; over the WebSocket, a connection
each): HTTP/2 streams share connections, HTTP/1.1 connections are reused by turns.
A fault armed on the proxy then breaks whichever call's answer comes next, and a
WebSocket server fault whichever session asks next, so the faults are drawn as in
a sequential leg but no longer belong to one call: an `error` event answering a
call is then counted as typed whatever that call drew. A call whose answer
carries another call's nonce is WRONG all the same.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import gc
import json
import os
import random
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import anyio
import attrs

from oxide_io import APIError, AsyncClient, Client
from oxide_proto import WebSocketConnectionClosedError
from tests.io.fault_proxy import Fault, FaultProxy
from tests.io.fault_server import FaultServer, fault_server
from tests.io.leaks import client_sockets, describe_fds, fd_targets, open_fds
from tests.servers import make_certs
from tests.ws_api_server import (
    Behaviour,
    CloseMid,
    CloseWhenIdle,
    ErrorEvent,
    Failed,
    Incomplete,
    Malformed,
    Oversize,
    WsApiServer,
    run_ws_api,
)

__all__ = ["CLIENTS", "Leg", "LegResult", "Soak", "main", "run_leg", "soak_servers", "table"]

CLIENTS = ("oxide", "sdk")
RUNTIMES = ("sync", "asyncio", "trio")
TRANSPORTS = ("h1", "h2c", "tls", "ws")
MODEL = "gpt-4o-mini"

# (name, weight, transports it applies to); `None` applies everywhere.
H1 = frozenset({"h1"})
H2 = frozenset({"h2c", "tls"})
HTTP = frozenset({"h1", "h2c", "tls"})
WS = frozenset({"ws"})
# What the WebSocket API server does for each `ws:` fault (tests/ws_api_server.py).
WS_FAULTS: dict[str, Behaviour] = {
    "close:1011": CloseMid(1011),
    "close:1001": CloseMid(1001),
    "close:4000": CloseMid(4000),
    "drop": CloseMid(None),
    "error": ErrorEvent(),
    "failed": Failed(),
    "incomplete": Incomplete(),
    "malformed": Malformed(),
    "oversize": Oversize(),
    "idle-close": CloseWhenIdle(1001, after=0.01),
}
# A terminal event that is the API's answer, not the client's failure.
ANSWER_EVENTS = ("error", "response.failed", "response.incomplete")
FAULT_TABLE: tuple[tuple[str, int, frozenset[str] | None], ...] = (
    ("none", 200, None),
    ("server:status:500", 6, HTTP),
    ("server:status:429", 6, HTTP),
    ("server:status:400", 4, HTTP),
    ("server:redirect:307", 4, HTTP),
    ("server:redirect:302", 2, HTTP),
    ("server:redirect-loop", 2, HTTP),
    ("server:bomb", 1, HTTP),
    ("server:huge-head", 2, HTTP),
    ("server:not-json", 4, HTTP),
    ("server:truncate", 6, HTTP),
    ("server:stall:{stall}", 2, HTTP),
    ("server:drip:0.0005", 3, HTTP),
    ("server:delay:0.02", 3, HTTP),
    ("server:rst:{offset}", 6, HTTP),
    ("server:fin:{offset}", 6, HTTP),
    ("server:after", 8, H1),
    ("server:goaway", 6, H2),
    ("server:goaway-graceful", 6, H2),
    ("server:rst-stream:2", 4, H2),
    ("server:rst-stream:8", 4, H2),
    ("server:refused", 4, H2),
    ("server:flow-stall:{stall}", 2, H2),
    ("ws:close:1011", 4, WS),
    ("ws:close:1001", 3, WS),
    ("ws:close:4000", 3, WS),
    ("ws:drop", 4, WS),
    ("ws:error", 3, WS),
    ("ws:failed", 3, WS),
    ("ws:incomplete", 3, WS),
    ("ws:malformed", 3, WS),
    ("ws:oversize", 2, WS),
    ("ws:idle-close", 4, WS),
    ("proxy:rst", 8, None),
    ("proxy:fin", 8, None),
    ("proxy:stall", 2, None),
    ("proxy:drip", 3, None),
    ("proxy:delay", 3, None),
    ("proxy:garbage", 6, None),
    ("proxy:duplicate", 8, None),
    ("proxy:refuse", 3, None),
)


@attrs.frozen
class Leg:
    client: str  # "oxide" or "sdk"
    runtime: str
    transport: str
    concurrency: int = 1  # calls in flight at once

    @property
    def name(self) -> str:
        name = f"{self.client}/{self.runtime}/{self.transport}"
        return name if self.concurrency == 1 else f"{name}/x{self.concurrency}"


@attrs.define
class LegResult:
    leg: Leg
    calls: int = 0
    ok: int = 0
    typed: collections.Counter[str] = attrs.field(factory=collections.Counter)
    untyped: collections.Counter[str] = attrs.field(factory=collections.Counter)
    wrong: int = 0
    hangs: int = 0
    examples: list[str] = attrs.field(factory=list)  # untyped, wrong and hung calls
    # "UNTYPED proxy:garbage" -> count: what the bad outcomes met, by fault (no offsets)
    causes: collections.Counter[str] = attrs.field(factory=collections.Counter)
    fd_delta: int = 0
    # The descriptors the leg opened that were still open when it ended, and those
    # of them still open once the servers had time to close their ends (leaked).
    fds_lingering: list[str] = attrs.field(factory=list)
    fds_left: list[str] = attrs.field(factory=list)
    thread_delta: int = 0
    rss_delta_mib: float = 0.0
    client_sockets_after: int = 0
    server_connections_after: int = 0
    seconds: float = 0.0

    @property
    def leaked(self) -> bool:
        return bool(self.client_sockets_after or self.server_connections_after)

    def as_dict(self) -> dict[str, Any]:
        return {
            "leg": self.leg.name,
            "calls": self.calls,
            "ok": self.ok,
            "typed": dict(self.typed),
            "untyped": dict(self.untyped),
            "wrong": self.wrong,
            "hangs": self.hangs,
            "examples": self.examples,
            "causes": dict(self.causes),
            "fd_delta": self.fd_delta,
            "fds_lingering": self.fds_lingering,
            "fds_left": self.fds_left,
            "thread_delta": self.thread_delta,
            "rss_delta_mib": round(self.rss_delta_mib, 1),
            "client_sockets_after": self.client_sockets_after,
            "server_connections_after": self.server_connections_after,
            "seconds": round(self.seconds, 1),
        }


@attrs.frozen
class Soak:
    """The servers and proxies a soak runs against (see `soak_servers`)."""

    plain: FaultServer
    tls: FaultServer
    ws: WsApiServer
    plain_proxy: FaultProxy
    tls_proxy: FaultProxy
    ws_proxy: FaultProxy
    ca_pem: str

    def proxy(self, transport: str) -> FaultProxy:
        if transport == "tls":
            return self.tls_proxy
        return self.ws_proxy if transport == "ws" else self.plain_proxy

    def base_url(self, transport: str) -> str:
        scheme = "https" if transport == "tls" else "http"
        return f"{scheme}://127.0.0.1:{self.proxy(transport).port}/v1"


@contextmanager
def soak_servers() -> Iterator[Soak]:
    """The fault servers (plain and TLS), a WebSocket API server, a proxy before each."""
    with ExitStack() as stack:
        directory = stack.enter_context(tempfile.TemporaryDirectory())
        certs = make_certs(directory)
        plain = stack.enter_context(fault_server())
        tls = stack.enter_context(fault_server(certs.server_context()))
        ws = stack.enter_context(run_ws_api())
        ports = (plain.port, tls.port, ws.port)
        plain_proxy, tls_proxy, ws_proxy = (stack.enter_context(FaultProxy(p)) for p in ports)
        yield Soak(plain, tls, ws, plain_proxy, tls_proxy, ws_proxy, certs.ca_pem)


# -- one call --------------------------------------------------------------------------


@attrs.frozen
class Call:
    index: int
    op: str  # "chat", "chat-stream", "responses"
    fault: str
    nonce: str

    @property
    def headers(self) -> dict[str, str] | None:
        kind, _, rest = self.fault.partition(":")
        return {"x-fault": rest} if kind == "server" else None

    @property
    def messages(self) -> list[dict[str, str]]:
        said = [{"role": "user", "content": self.nonce}]
        if self.fault.startswith("server:flow-stall"):
            # A body bigger than the first window, so the stall is felt.
            return [{"role": "system", "content": "x" * 100_000}, *said]
        return said


def _faults(transport: str) -> tuple[list[str], list[int]]:
    chosen = [(n, w) for n, w, where in FAULT_TABLE if where is None or transport in where]
    return [n for n, _ in chosen], [w for _, w in chosen]


def plan(
    leg: Leg, seed: int, calls: int, stall: float, skip: frozenset[str] = frozenset()
) -> list[Call]:
    """The calls of a leg: the same for every client and runtime given the same seed.

    Faults named in `skip` are drawn as usual (so the other calls stay the same)
    and then sent without a fault.
    """
    rng = random.Random(f"{seed}:{leg.transport}")
    names, weights = _faults(leg.transport)
    ops = ["responses"] if leg.transport == "ws" else ["chat", "chat-stream", "responses"]
    out = []
    for index in range(calls):
        fault = rng.choices(names, weights)[0]
        fault = fault.format(stall=stall, offset=rng.randrange(0, 600))
        if fault in skip:
            fault = "none"
        nonce = f"nonce-{seed}-{index}-{rng.getrandbits(40):010x}"
        out.append(Call(index, rng.choice(ops), fault, nonce))
    return out


def arm(soak: Soak, leg: Leg, call: Call, rng: random.Random, stall: float) -> None:
    """Set up the call's fault: on the proxy, or scripted on the WebSocket server."""
    soak.proxy(leg.transport).arm(proxy_fault(call, rng, stall))
    if leg.transport == "ws":
        soak.ws.clear()
        kind, _, name = call.fault.partition(":")
        if kind == "ws":
            soak.ws.script(WS_FAULTS[name])


def proxy_fault(call: Call, rng: random.Random, stall: float) -> Fault | None:
    kind, _, name = call.fault.partition(":")
    if kind != "proxy":
        return None
    after = rng.randrange(0, 1200)
    if name in ("stall",):
        return Fault("stall", after, seconds=stall)
    if name == "drip":
        return Fault("drip", after, seconds=0.0002)
    if name == "delay":
        return Fault("delay", 0, seconds=0.02)
    return Fault(name, after)


def _text(op: str, result: Any) -> str:
    # A result of another shape (the answer to another operation) is wrong content,
    # not an error of the client's: it is counted as WRONG.
    try:
        if op == "chat":
            return str(result.choices[0].message.content or "")
        return str(result.output_text or "")
    except (AttributeError, TypeError, IndexError) as exc:
        return f"<not a {op} result: {exc}>"


def _chat_delta(chunk: Any) -> str:
    try:
        return str(chunk.choices[0].delta.content or "") if chunk.choices else ""
    except (AttributeError, TypeError, IndexError) as exc:
        return f"<not a chat chunk: {exc}>"


def call_sync(client: Any, call: Call) -> str:
    headers = call.headers
    if call.op == "chat":
        result = client.chat.completions.create(
            model=MODEL, messages=call.messages, extra_headers=headers
        )
        return _text("chat", result)
    if call.op == "chat-stream":
        stream = client.chat.completions.create(
            model=MODEL, messages=call.messages, stream=True, extra_headers=headers
        )
        with stream:
            return "".join(_chat_delta(chunk) for chunk in stream)
    result = client.responses.create(model=MODEL, input=call.nonce, extra_headers=headers)
    return _text("responses", result)


async def call_async(client: Any, call: Call) -> str:
    headers = call.headers
    if call.op == "chat":
        result = await client.chat.completions.create(
            model=MODEL, messages=call.messages, extra_headers=headers
        )
        return _text("chat", result)
    if call.op == "chat-stream":
        stream = await client.chat.completions.create(
            model=MODEL, messages=call.messages, stream=True, extra_headers=headers
        )
        async with stream:
            return "".join([_chat_delta(chunk) async for chunk in stream])
    result = await client.responses.create(model=MODEL, input=call.nonce, extra_headers=headers)
    return _text("responses", result)


def ws_sync(session: Any, call: Call) -> str:
    session.response.create(model=MODEL, input=call.nonce)
    text = []
    for event in session:
        if event.type == "response.output_text.delta":
            text.append(event.delta)
        elif event.type in ANSWER_EVENTS:
            return f"<event {event.type}>"
        elif event.type == "response.completed":
            break
    return "".join(text)


async def ws_async(session: Any, call: Call) -> str:
    await session.response.create(model=MODEL, input=call.nonce)
    text = []
    async for event in session:
        if event.type == "response.output_text.delta":
            text.append(event.delta)
        elif event.type in ANSWER_EVENTS:
            return f"<event {event.type}>"
        elif event.type == "response.completed":
            break
    return "".join(text)


# -- outcomes --------------------------------------------------------------------------


def _typed_classes(client: str) -> tuple[type[BaseException], ...]:
    if client == "sdk":
        import openai

        return (openai.APIError,)
    return (APIError, WebSocketConnectionClosedError)


class _Tally:
    """Counts outcomes; threads of a concurrent blocking leg share it (a lock each call)."""

    def __init__(self, result: LegResult, seed: int, calls: int) -> None:
        self.result = result
        self.typed = _typed_classes(result.leg.client)
        self.seed = seed
        self.total = calls
        self.lock = threading.Lock()

    def _example(self, what: str, call: Call, detail: str) -> None:
        self.result.causes[f"{what} {':'.join(call.fault.split(':')[:2])}"] += 1
        if len(self.result.examples) < 20:
            leg = self.result.leg
            self.result.examples.append(
                f"{what} call {call.index} ({call.op}, fault {call.fault}): {detail} "
                f"[bash scripts/soak --seed {self.seed} --calls {self.total} "
                f"--clients {leg.client} --runtimes {leg.runtime} --transports {leg.transport} "
                f"--concurrency {leg.concurrency}]"
            )

    def ok(self, call: Call, text: str) -> None:
        with self.lock:
            self._ok(call, text)

    def _ok(self, call: Call, text: str) -> None:
        self.result.calls += 1
        # Concurrent, a WebSocket server fault meets whichever session asks next.
        faulty = call.fault.startswith("ws:") or self.result.leg.concurrency > 1
        if text.startswith("<event ") and faulty:
            self.result.typed[text.strip("<>")] += 1  # the API answered with an error event
        elif call.nonce in text and text.count("nonce-") == 1:
            self.result.ok += 1
        else:
            self.result.wrong += 1
            self._example("WRONG", call, repr(text[:120]))

    def error(self, call: Call, exc: BaseException) -> None:
        with self.lock:
            self._error(call, exc)

    def _error(self, call: Call, exc: BaseException) -> None:
        self.result.calls += 1
        name = type(exc).__name__
        if isinstance(exc, self.typed):
            self.result.typed[name] += 1
            return
        self.result.untyped[name] += 1
        where = traceback.extract_tb(exc.__traceback__)[-1:]
        at = f" at {where[0].filename}:{where[0].lineno}" if where else ""
        self._example("UNTYPED", call, f"{name}: {str(exc)[:160]}{at}")

    def hang(self, call: Call, deadline: float) -> None:
        with self.lock:
            self.result.calls += 1
            self.result.hangs += 1
            self._example("HANG", call, f"still running after {deadline} s")


# -- a leg -----------------------------------------------------------------------------


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _options(soak: Soak, leg: Leg, timeout: float, max_retries: int) -> dict[str, Any]:
    base: dict[str, Any] = {"api_key": "sk-soak", "base_url": soak.base_url(leg.transport)}
    base.update(timeout=timeout, max_retries=max_retries)
    if leg.client == "sdk":
        return base
    if leg.transport == "h2c":
        base["h2c"] = True
    if leg.transport == "tls":
        base["verify"] = soak.ca_pem
    return base


def _sdk_client(leg: Leg, options: dict[str, Any], ca_pem: str) -> Any:
    import openai

    if leg.runtime == "sync":
        http = openai.DefaultHttpxClient(verify=ca_pem) if leg.transport == "tls" else None
        return openai.OpenAI(http_client=http, **options)
    http_async = openai.DefaultAsyncHttpxClient(verify=ca_pem) if leg.transport == "tls" else None
    return openai.AsyncOpenAI(http_client=http_async, **options)


def run_leg(
    soak: Soak,
    leg: Leg,
    *,
    calls: int,
    seed: int,
    timeout: float = 1.0,
    max_retries: int = 1,
    deadline: float = 20.0,
    skip: frozenset[str] = frozenset(),
) -> LegResult:
    """Run one leg's calls and return its counts (the client is made and closed here)."""
    stall = round(timeout * 1.5, 3)
    todo = plan(leg, seed, calls, stall, skip)
    rng = random.Random(f"{seed}:{leg.transport}:proxy")
    result = LegResult(leg)
    tally = _Tally(result, seed, calls)
    proxy = soak.proxy(leg.transport)
    proxy.arm(None)
    gc.collect()
    fd_map = fd_targets()
    fds, threads, rss = open_fds(), threading.active_count(), _rss_mib()
    started = time.monotonic()
    options = _options(soak, leg, timeout, max_retries)
    if leg.runtime == "sync":
        _run_sync(soak, leg, options, todo, rng, stall, tally, deadline)
    else:
        anyio.run(
            _run_async, soak, leg, options, todo, rng, stall, tally, deadline, backend=leg.runtime
        )
    proxy.arm(None)
    result.seconds = time.monotonic() - started
    result.server_connections_after = proxy.wait_closed(5)
    result.client_sockets_after = client_sockets(proxy.port)
    gc.collect()
    names = _port_names(soak)
    if open_fds() > fds:
        result.fds_lingering = describe_fds(fd_map, names)
    result.fd_delta = _settled_fds(fds) - fds
    if result.fd_delta > 0:
        result.fds_left = describe_fds(fd_map, names)
    result.thread_delta = _settled_threads(threads) - threads
    result.rss_delta_mib = _rss_mib() - rss
    return result


def _port_names(soak: Soak) -> dict[int, str]:
    return {
        soak.plain.port: "plain-server",
        soak.tls.port: "tls-server",
        soak.ws.port: "ws-server",
        soak.plain_proxy.port: "plain-proxy",
        soak.tls_proxy.port: "tls-proxy",
        soak.ws_proxy.port: "ws-proxy",
    }


def _settled_fds(before: int, wait: float = 2.0) -> int:
    """The descriptor count once the servers closed their ends of the leg's connections.

    The servers and proxies run in this process: a server thread notices that a
    client went away a moment later (at once under no load, much later on a busy
    machine), and until then its socket counts here. The client's own sockets were
    counted exactly already (`client_sockets`); a descriptor still open after
    `wait` seconds is counted as leaked.
    """
    give_up = time.monotonic() + wait
    while open_fds() > before and time.monotonic() < give_up:
        time.sleep(0.02)
    return open_fds()


def _settled_threads(before: int, wait: float = 2.0) -> int:
    """The thread count once threads that are on their way out are gone.

    The proxy's per-connection threads and a runtime's idle workers end a moment
    after their work: counted at once they look leaked. A thread still there after
    `wait` seconds is counted.
    """
    give_up = time.monotonic() + wait
    while threading.active_count() > before and time.monotonic() < give_up:
        time.sleep(0.02)
    return threading.active_count()


def _run_sync(
    soak: Soak,
    leg: Leg,
    options: dict[str, Any],
    todo: Sequence[Call],
    rng: random.Random,
    stall: float,
    tally: _Tally,
    deadline: float,
) -> None:
    client = _sdk_client(leg, options, soak.ca_pem) if leg.client == "sdk" else Client(**options)
    proxy = soak.proxy(leg.transport)
    calls = iter(todo)
    take = threading.Lock()  # the calls, and the generator drawing proxy faults
    began: dict[int, float] = {}  # worker -> when its running call began
    cut: set[int] = set()  # workers whose call ran past the deadline
    done = threading.Event()

    def watchdog() -> None:
        # A blocking call cannot be cancelled: break the connections to end it (a
        # concurrent leg's other calls in flight then fail, typed, as well).
        while not done.wait(0.1):
            now = time.monotonic()
            late = {w for w, t in list(began.items()) if now - t > deadline} - cut
            if late:
                cut.update(late)
                proxy.abort_all()

    def worker(number: int) -> None:
        session: Any = None
        try:
            while True:
                with take:
                    call = next(calls, None)
                    if call is None:
                        return
                    arm(soak, leg, call, rng, stall)
                cut.discard(number)
                began[number] = time.monotonic()
                try:
                    if leg.transport == "ws":
                        if session is None:
                            session = client.responses.connect().__enter__()
                        text = ws_sync(session, call)
                    else:
                        text = call_sync(client, call)
                except Exception as exc:
                    if number in cut:
                        tally.hang(call, deadline)
                    else:
                        tally.error(call, exc)
                    if session is not None:
                        _close_quietly(session.close)
                        session = None
                else:
                    if number in cut:
                        tally.hang(call, deadline)
                    else:
                        tally.ok(call, text)
                finally:
                    began.pop(number, None)
        finally:
            if session is not None:
                _close_quietly(session.close)

    watcher = threading.Thread(target=watchdog, daemon=True)
    watcher.start()
    try:
        if leg.concurrency == 1:
            worker(0)
        else:
            workers = [
                threading.Thread(target=worker, args=(n,), name=f"soak-{n}", daemon=True)
                for n in range(leg.concurrency)
            ]
            for thread in workers:
                thread.start()
            for thread in workers:
                thread.join()
    finally:
        done.set()
        watcher.join()
        client.close()


def _close_quietly(close: Callable[[], Any]) -> None:
    # A broken session may fail to close as well: its call was counted already.
    with contextlib.suppress(Exception):
        close()


async def _run_async(
    soak: Soak,
    leg: Leg,
    options: dict[str, Any],
    todo: Sequence[Call],
    rng: random.Random,
    stall: float,
    tally: _Tally,
    deadline: float,
) -> None:
    if leg.client == "sdk":
        client = _sdk_client(leg, options, soak.ca_pem)
    else:
        client = AsyncClient(**options)
    # Shared by the workers: each call is taken once (no await between the two).
    calls = iter(todo)

    async def worker() -> None:
        manager: Any = None
        session: Any = None
        try:
            for call in calls:
                arm(soak, leg, call, rng, stall)
                text: str | None = None
                try:
                    with anyio.move_on_after(deadline) as scope:
                        if leg.transport == "ws":
                            if session is None:
                                manager = client.responses.connect()
                                session = await manager.__aenter__()
                            text = await ws_async(session, call)
                        else:
                            text = await call_async(client, call)
                except Exception as exc:
                    tally.error(call, exc)
                    await _drop_session(manager, session)
                    session = None
                    continue
                if scope.cancelled_caught or text is None:
                    tally.hang(call, deadline)
                    await _drop_session(manager, session)
                    session = None
                else:
                    tally.ok(call, text)
        finally:
            await _drop_session(manager, session)

    try:
        if leg.concurrency == 1:
            await worker()
        else:
            async with anyio.create_task_group() as group:
                for _ in range(leg.concurrency):
                    group.start_soon(worker)
    finally:
        await client.close() if leg.client == "sdk" else await client.aclose()


async def _drop_session(manager: Any, session: Any) -> None:
    if session is not None:
        # A broken session may fail to close as well: its call was counted already.
        with contextlib.suppress(Exception):
            await manager.__aexit__(None, None, None)


# -- the report ------------------------------------------------------------------------


def _classes(counter: collections.Counter[str]) -> str:
    return " ".join(f"{name}={count}" for name, count in counter.most_common()) or "-"


def table(results: Sequence[LegResult]) -> str:
    """The counts, one leg a row, then the typed errors by class and the examples."""
    head = (
        "leg", "calls", "ok", "typed", "UNTYPED", "WRONG", "HANG",
        "fd+", "thr+", "rss+MiB", "sock", "srv", "s",
    )  # fmt: skip
    rows = [head]
    for r in results:
        rows.append(
            (
                r.leg.name,
                str(r.calls),
                str(r.ok),
                str(sum(r.typed.values())),
                str(sum(r.untyped.values())),
                str(r.wrong),
                str(r.hangs),
                str(r.fd_delta),
                str(r.thread_delta),
                f"{r.rss_delta_mib:.1f}",
                str(r.client_sockets_after),
                str(r.server_connections_after),
                f"{r.seconds:.0f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.append("")
    lines.append("typed errors by class:")
    for r in results:
        lines.append(f"  {r.leg.name}: {_classes(r.typed)}")
    lingering = [r for r in results if r.fds_lingering]
    if lingering:
        lines.append("")
        lines.append("descriptors open when the leg ended (+ still open after settling: leaked):")
        for r in lingering:
            left = set(r.fds_left)
            lines.append(f"  {r.leg.name}:")
            lines.extend(f"    {'+' if fd in left else ' '} {fd}" for fd in r.fds_lingering)
    bad = [r for r in results if r.untyped or r.wrong or r.hangs]
    if bad:
        lines.append("")
        lines.append("untyped, wrong and hung calls:")
        for r in bad:
            lines.append(f"  {r.leg.name}: untyped {_classes(r.untyped)}")
            lines.append(f"    by fault: {_classes(r.causes)}")
            lines.extend(f"    {example}" for example in r.examples)
    return "\n".join(lines)


def legs(
    clients: Sequence[str],
    runtimes: Sequence[str],
    transports: Sequence[str],
    concurrency: int = 1,
) -> list[Leg]:
    out = []
    for client in clients:
        for runtime in runtimes:
            for transport in transports:
                if client == "sdk" and transport in ("h2c", "ws"):
                    continue  # the SDK speaks neither h2c nor the Responses WebSocket here
                out.append(Leg(client, runtime, transport, concurrency))
    return out


def _split(value: str) -> list[str]:
    return [part for part in value.split(",") if part]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/soak", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per leg (default 2000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", default="oxide,sdk")
    parser.add_argument("--runtimes", default=",".join(RUNTIMES))
    parser.add_argument("--transports", default=",".join(TRANSPORTS))
    parser.add_argument("--timeout", type=float, default=1.0, help="the clients' timeout (s)")
    parser.add_argument("--max-retries", type=int, default=1)
    parser.add_argument("--deadline", type=float, default=20.0, help="a call is hung after this")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="calls in flight at once per leg (default 1)"
    )
    parser.add_argument("--json", help="also write the counts to this file")
    args = parser.parse_args(argv)
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    results = []
    with soak_servers() as soak:
        chosen = legs(
            _split(args.clients), _split(args.runtimes), _split(args.transports), args.concurrency
        )
        for leg in chosen:
            result = run_leg(
                soak,
                leg,
                calls=args.calls,
                seed=args.seed,
                timeout=args.timeout,
                max_retries=args.max_retries,
                deadline=args.deadline,
            )
            results.append(result)
            print(
                f"{leg.name}: {result.calls} calls, {result.ok} ok, "
                f"{sum(result.untyped.values())} untyped, {result.wrong} wrong, "
                f"{result.hangs} hung ({result.seconds:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    print(f"seed {args.seed}, {args.calls} calls per leg, timeout {args.timeout} s, "
          f"max_retries {args.max_retries}, concurrency {args.concurrency}, "
          f"pid {os.getpid()}")  # fmt: skip
    print(table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([r.as_dict() for r in results], f, indent=1)
    failed = any(r.untyped or r.wrong or r.hangs or r.leaked for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
