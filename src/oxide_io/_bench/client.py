"""Client overhead: oxide's clients against the official SDK's, side by side in one run.

Every client talks to the same OpenAI-like server (`python -m oxide_io.testing`),
started as a separate process so that `time.process_time()` in this process counts
the client's CPU only: the server's work is the same for every client and stays out
of the CPU column (it is in the wall column).

Sections:

1. Per-request overhead: non-streaming `chat.completions.create` over HTTP/1.1
   keep-alive and over HTTP/2, for oxide's `Client`, `AsyncClient` on asyncio and
   on trio, and the SDK's `OpenAI` and `AsyncOpenAI` (asyncio). Median wall time and
   median client CPU per request, and the ratio oxide / SDK (below 1: oxide is
   cheaper). The sync clients are compared with `OpenAI`, the async ones with
   `AsyncOpenAI`. Over plain HTTP/1.1 the floor runs beside them (`floor.py` here),
   a hand-written h11 loop (blocking and asyncio) that only frames bytes and decodes
   JSON; the last column is oxide's CPU divided by the floor's on the same runtime
   (asyncio's floor for trio). The `raw` section times the same call through
   `with_raw_response.create(...)`, reading a header and calling `parse()`.
2. Per streamed chunk: one long streamed chat completion per call (the mock model
   repeats the prompt, so a long prompt gives a long reply), time and CPU per
   received `ChatCompletionChunk`.
3. `import oxide_io` against `import openai` (fresh interpreter each time), and
   client construction: the first in a fresh process, then the median of the next.
4. Concurrency (`--only concurrency`, not in the default run): batches of 1, 10,
   100 and 500 concurrent non-streaming calls on one `AsyncClient` (asyncio), over
   HTTP/1.1 keep-alive and HTTP/2, client CPU per request side by side with the
   SDK's `AsyncOpenAI` and the asyncio floor: over HTTP/1.1 the h11 loop (one
   kept-alive connection per concurrent call, no pool, no models: the least any
   asyncio client can spend), over HTTP/2 the h2 loop (`floor_h2.py`: the calls
   multiplexed on one connection). Over HTTP/1.1 the socket floor runs too
   (`socket_floor.py`: a prebuilt request on an asyncio Protocol, no HTTP
   library): what it spends more on a lone call than on one among many is the
   machine's, which no client's code can remove. Every client keeps all its
   connections alive (`max_keepalive_connections=1000`), so the column measures
   the request path and the pool, not reconnections. Flat CPU per request across
   the rows means the pool's work does not grow with the number of connections;
   the table gives each client's figure over its own at the largest level, and
   oxide's over each floor's. `--busy-cpu` is the control for the lone call
   (`busy_cpu.py`): the server moves to other CPUs and an idle-class spinner keeps
   the benchmark's CPU from idling between calls.

HTTP/2 runs in clear text with prior knowledge (h2c): oxide with `h2c=True`, the SDK
with `http_client=openai.DefaultHttpxClient(http1=False, http2=True)` (its default
client speaks HTTP/1.1 only). With `--tls` both run over TLS instead (certificates
from trustme), HTTP/2 picked by ALPN.

Before numbers count, every reply is checked (the text the server said, the chunk
count of each stream) and each table asserts that every client got the same number
of good responses and chunks: a client that failed or skipped work cannot win.

Run: `python bench/bench_client.py` (a few minutes), `--quick` for a smoke run,
`--profile sync|asyncio|trio` to profile oxide's request path instead. Needs the
official SDK (`pip install 'oxide-client[bench]'`). `oxide bench` runs the same
measurements (`report.py`) into a Markdown report with charts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import inspect
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import oxide_io

from .floor import AsyncFloorClient, FloorClient
from .server import Server, serve

MODEL = "gpt-4o-mini"
API_KEY = "sk-bench"
PROMPT = "Hello there"
EXPECTED = f'You said: "{PROMPT}". This reply comes from the oxide mock server.'

# Goals the numbers are read against.
GOAL_OVERHEAD_RATIO = 1 / 3
GOAL_IMPORT_S = 0.100
GOAL_CONSTRUCT_S = 0.001
FLOOR_SYNC = "h11 floor (blocking)"
FLOOR_ASYNC = "h11 floor (asyncio)"
FLOOR_H2 = "h2 floor (asyncio)"
FLOOR_SOCKET = "socket floor (asyncio)"


def installed(module: str) -> bool:
    """Whether `module` can be imported (the SDK, trio: optional columns)."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _openai() -> Any:
    """The official SDK, imported only when the benchmark runs."""
    try:
        import openai
    except ImportError:
        sys.exit(
            "bench_client.py compares oxide with the official SDK, which is not installed:\n"
            "    pip install 'oxide-client[bench]'"
        )
    return openai


# -- the server ------------------------------------------------------------------------


# -- the clients -----------------------------------------------------------------------


@dataclass
class Target:
    """One client under test: how to build it, on which runtime, and what it is compared to."""

    label: str
    family: str  # "oxide", "openai" or "floor"
    runtime: str  # "sync", "asyncio" or "trio"
    make: Callable[[], Any]
    baseline: str  # label of the SDK client it is compared with

    @property
    def is_async(self) -> bool:
        return self.runtime != "sync"


SYNC_BASE, ASYNC_BASE = "openai OpenAI", "openai AsyncOpenAI (asyncio)"


def targets(server: Server, http2: bool) -> list[Target]:
    """Every client under test; without the SDK or trio installed, their columns are left out."""
    openai: Any = _openai() if installed("openai") else None
    url = server.base_url
    tls = server.ca_file is not None
    verify: Any = server.ca_file if tls else True

    def oxide_kwargs() -> dict[str, Any]:
        if tls:
            return {"base_url": url, "api_key": API_KEY, "http2": http2, "verify": verify}
        return {"base_url": url, "api_key": API_KEY, "h2c": http2}

    def sdk_http(async_: bool) -> Any:
        if not http2 and not tls:
            return None  # the SDK's own default client
        kind = openai.DefaultAsyncHttpxClient if async_ else openai.DefaultHttpxClient
        kwargs: dict[str, Any] = {"http2": http2}
        if tls:
            import ssl

            kwargs["verify"] = ssl.create_default_context(cafile=server.ca_file)
        else:
            kwargs["http1"] = False  # HTTP/2 with prior knowledge on plain http
        return kind(**kwargs)

    sync_base, async_base = SYNC_BASE, ASYNC_BASE
    floors = []
    if not http2 and not tls:
        # The hand-written h11 loop (floor.py) speaks plain HTTP/1.1 only.
        floors = [
            Target(
                FLOOR_SYNC,
                "floor",
                "sync",
                lambda: FloorClient(base_url=url, api_key=API_KEY),
                sync_base,
            ),
            Target(
                FLOOR_ASYNC,
                "floor",
                "asyncio",
                lambda: AsyncFloorClient(base_url=url, api_key=API_KEY),
                async_base,
            ),
        ]
    out = [
        *floors,
        Target(
            "oxide Client", "oxide", "sync", lambda: oxide_io.Client(**oxide_kwargs()), sync_base
        ),
        Target(
            "oxide AsyncClient (asyncio)",
            "oxide",
            "asyncio",
            lambda: oxide_io.AsyncClient(**oxide_kwargs()),
            async_base,
        ),
    ]
    if installed("trio"):
        out.append(
            Target(
                "oxide AsyncClient (trio)",
                "oxide",
                "trio",
                lambda: oxide_io.AsyncClient(**oxide_kwargs()),
                async_base,
            )
        )
    if openai is not None:
        out += [
            Target(
                sync_base,
                "openai",
                "sync",
                lambda: openai.OpenAI(base_url=url, api_key=API_KEY, http_client=sdk_http(False)),
                sync_base,
            ),
            Target(
                async_base,
                "openai",
                "asyncio",
                lambda: openai.AsyncOpenAI(
                    base_url=url, api_key=API_KEY, http_client=sdk_http(True)
                ),
                async_base,
            ),
        ]
    return out


def _close(target: Target, client: Any) -> Any:
    if target.family in ("oxide", "floor"):
        return client.aclose() if target.is_async else client.close()
    return client.close()


# -- the work: one call, checked -------------------------------------------------------


class BadReply(AssertionError):
    pass


def _messages(prompt: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt}]


def _check_reply(result: Any) -> None:
    text = result.choices[0].message.content
    if text != EXPECTED:
        raise BadReply(f"unexpected reply {text!r}")


def _check_stream(texts: list[str], chunks: int, expected: str, expected_chunks: int) -> None:
    if "".join(texts) != expected:
        raise BadReply("streamed text differs from what the server said")
    if expected_chunks and chunks != expected_chunks:
        raise BadReply(f"{chunks} chunks, expected {expected_chunks}")


@dataclass
class Work:
    """One kind of call: a sync and an async version, each returning the units it counted."""

    name: str
    unit: str
    call: Callable[[Any], int]
    acall: Callable[[Any], Awaitable[int]]


def request_work() -> Work:
    messages = _messages(PROMPT)

    def call(client: Any) -> int:
        _check_reply(client.chat.completions.create(model=MODEL, messages=messages))
        return 1

    async def acall(client: Any) -> int:
        _check_reply(await client.chat.completions.create(model=MODEL, messages=messages))
        return 1

    return Work("request", "request", call, acall)


def raw_request_work() -> Work:
    """`with_raw_response.create(...)`, then the headers and `parse()`: the raw path."""
    messages = _messages(PROMPT)

    def call(client: Any) -> int:
        raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=messages)
        if raw.headers.get("content-type") is None:
            raise AssertionError("a raw response without its headers")
        _check_reply(raw.parse())
        return 1

    async def acall(client: Any) -> int:
        raw = await client.chat.completions.with_raw_response.create(model=MODEL, messages=messages)
        if raw.headers.get("content-type") is None:
            raise AssertionError("a raw response without its headers")
        parsed = raw.parse()
        # `parse()` is a plain method on both official clients.
        _check_reply(await parsed if inspect.isawaitable(parsed) else parsed)
        return 1

    return Work("raw request", "request", call, acall)


def stream_work(words: int) -> Work:
    prompt = " ".join(f"word{i % 97}" for i in range(words))
    expected = f'You said: "{prompt}". This reply comes from the oxide mock server.'
    messages = _messages(prompt)
    # role chunk + one chunk per piece (a word with its leading space, or punctuation)
    # + the finish chunk; learned from the first stream, then held to.
    seen: list[int] = []

    def tally(texts: list[str], chunks: int) -> int:
        _check_stream(texts, chunks, expected, seen[0] if seen else 0)
        if not seen:
            seen.append(chunks)
        return chunks

    def call(client: Any) -> int:
        texts: list[str] = []
        chunks = 0
        stream = client.chat.completions.create(model=MODEL, messages=messages, stream=True)
        for chunk in stream:
            chunks += 1
            if chunk.choices and chunk.choices[0].delta.content:
                texts.append(chunk.choices[0].delta.content)
        return tally(texts, chunks)

    async def acall(client: Any) -> int:
        texts: list[str] = []
        chunks = 0
        stream = await client.chat.completions.create(model=MODEL, messages=messages, stream=True)
        async for chunk in stream:
            chunks += 1
            if chunk.choices and chunk.choices[0].delta.content:
                texts.append(chunk.choices[0].delta.content)
        return tally(texts, chunks)

    return Work("stream", "chunk", call, acall)


# -- measuring -------------------------------------------------------------------------


@dataclass
class Result:
    target: Target
    wall: list[float] = field(default_factory=list)  # seconds per unit, one per round
    cpu: list[float] = field(default_factory=list)
    calls_ok: int = 0
    units: int = 0


def _sync_rounds(
    target: Target, work: Work, warmup: int, rounds: int, per_round: int, result: Result
) -> None:
    client = target.make()
    try:
        for _ in range(warmup):
            work.call(client)
        for _ in range(rounds):
            units = 0
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(per_round):
                units += work.call(client)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            result.wall.append(wall / units)
            result.cpu.append(cpu / units)
            result.calls_ok += per_round
            result.units += units
    finally:
        _close(target, client)


async def _async_rounds(
    target: Target, work: Work, warmup: int, rounds: int, per_round: int, result: Result
) -> None:
    client = target.make()
    try:
        for _ in range(warmup):
            await work.acall(client)
        for _ in range(rounds):
            units = 0
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(per_round):
                units += await work.acall(client)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            result.wall.append(wall / units)
            result.cpu.append(cpu / units)
            result.calls_ok += per_round
            result.units += units
    finally:
        await _close(target, client)


def run_rounds(
    target: Target, work: Work, warmup: int, rounds: int, per_round: int, result: Result
) -> None:
    """Warm up a fresh client (connection opened, caches filled), then time `rounds` batches."""
    if target.runtime == "sync":
        _sync_rounds(target, work, warmup, rounds, per_round, result)
    elif target.runtime == "asyncio":
        asyncio.run(_async_rounds(target, work, warmup, rounds, per_round, result))
    else:
        import trio

        trio.run(_async_rounds, target, work, warmup, rounds, per_round, result)


def measure(
    all_targets: Sequence[Target],
    work: Work,
    *,
    warmup: int,
    rounds: int,
    per_round: int,
    passes: int,
) -> list[Result]:
    """Each target in turn, in `passes` passes (alternating order) so drift hits all alike."""
    results = {t.label: Result(t) for t in all_targets}
    per_pass = max(1, rounds // passes)
    for p in range(passes):
        order = list(all_targets) if p % 2 == 0 else list(reversed(all_targets))
        for target in order:
            run_rounds(target, work, warmup, per_pass, per_round, results[target.label])
    out = [results[t.label] for t in all_targets]
    calls = {r.calls_ok for r in out}
    units = {r.units for r in out}
    assert len(calls) == 1 and len(units) == 1, (
        "clients differ in successful responses or units: "
        + ", ".join(f"{r.target.label}: {r.calls_ok} calls, {r.units} {work.unit}s" for r in out)
    )
    assert out[0].units > 0, "nothing was measured"
    return out


# -- tables ----------------------------------------------------------------------------


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f}"


def _table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(f"\n{title}")
    print(
        "  "
        + "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    )
    print("  " + "  ".join("-" * w for w in widths))
    for row in rows:
        print(
            "  "
            + "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def overhead_table(title: str, results: Sequence[Result], unit: str, goal: bool) -> None:
    by_label = {r.target.label: r for r in results}
    rows = []
    for r in results:
        wall, cpu = statistics.median(r.wall), statistics.median(r.cpu)
        base = by_label[r.target.baseline]
        row = [r.target.label, _us(wall), _us(cpu)]
        if r.target.family == "openai":
            row += ["1.00", "1.00", ""]
        else:
            wall_ratio = wall / statistics.median(base.wall)
            cpu_ratio = cpu / statistics.median(base.cpu)
            verdict = ""
            if goal and r.target.family == "oxide":
                verdict = "ok" if cpu_ratio <= GOAL_OVERHEAD_RATIO else "over"
            row += [f"{wall_ratio:.2f}", f"{cpu_ratio:.2f}", verdict]
        floor = by_label.get(FLOOR_SYNC if r.target.runtime == "sync" else FLOOR_ASYNC)
        if floor is not None:
            ratio = cpu / statistics.median(floor.cpu)
            row.append(f"{ratio:.2f}" if r.target.family == "oxide" else "")
        rows.append(row)
    header = [
        f"client ({results[0].units} {unit}s each)",
        f"wall µs/{unit}",
        f"CPU µs/{unit}",
        "wall ratio",
        "CPU ratio",
        f"goal ≤{GOAL_OVERHEAD_RATIO:.2f}" if goal else "",
    ]
    if FLOOR_SYNC in by_label:
        header.append("CPU ÷ floor")
    _table(title, header, rows)
    if unit == "request" and max(statistics.median(r.wall) for r in results) > 0.020:
        print(
            "  note: over 20 ms a request points at a server stall (a missing TCP_NODELAY"
            " meets the client's delayed ACK), not at the clients"
        )


# -- import and construction (fresh interpreters) ---------------------------------------

_IMPORT_SNIPPET = """
import time
t, c = time.perf_counter(), time.process_time()
import {module}
print(time.perf_counter() - t, time.process_time() - c)
"""

_CONSTRUCT_SNIPPET = """
import json, time
import {module}
def make():
    return {expr}
keep = []
t, c = time.perf_counter(), time.process_time()
keep.append(make())
first, first_cpu = time.perf_counter() - t, time.process_time() - c
later, later_cpu = [], []
for _ in range({repeat}):
    t, c = time.perf_counter(), time.process_time()
    keep.append(make())
    later.append(time.perf_counter() - t)
    later_cpu.append(time.process_time() - c)
print(json.dumps({{"first": [first, first_cpu], "later": [later, later_cpu]}}))
"""

_CONSTRUCTORS = {
    "oxide Client": (
        "oxide_io",
        "oxide_io.Client(api_key='sk-bench', base_url='http://127.0.0.1:1/v1')",
    ),
    "openai OpenAI": (
        "openai",
        "openai.OpenAI(api_key='sk-bench', base_url='http://127.0.0.1:1/v1')",
    ),
}


def _python(code: str) -> str:
    # PYTHONDONTWRITEBYTECODE would leave the unmeasured first import without its
    # bytecode cache, so every timed import would compile from source: installed
    # packages (openai's) have their caches written at install, ours must too.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OPENAI_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    if done.returncode != 0:
        raise RuntimeError(f"subprocess failed:\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


def import_times(
    repeat: int, modules: Sequence[str] = ("oxide_io", "openai"), warmup: bool = True
) -> dict[str, tuple[list[float], list[float]]]:
    """Wall and CPU seconds of each import, one fresh interpreter per sample, alternating."""
    times: dict[str, tuple[list[float], list[float]]] = {m: ([], []) for m in modules}
    for module in times if warmup else ():  # once each unmeasured: bytecode and page caches
        _python(_IMPORT_SNIPPET.format(module=module))
    for _ in range(repeat):
        for module, (wall, cpu) in times.items():
            w, c = _python(_IMPORT_SNIPPET.format(module=module)).split()
            wall.append(float(w))
            cpu.append(float(c))
    return times


@dataclass
class Construction:
    first: list[float] = field(default_factory=list)  # one per fresh process
    first_cpu: list[float] = field(default_factory=list)
    later: list[float] = field(default_factory=list)  # the constructions after the first
    later_cpu: list[float] = field(default_factory=list)


def construct_times(repeat: int, processes: int) -> dict[str, Construction]:
    out: dict[str, Construction] = {}
    for label, (module, expr) in _CONSTRUCTORS.items():
        c = out[label] = Construction()
        for _ in range(processes):
            code = _CONSTRUCT_SNIPPET.format(module=module, expr=expr, repeat=repeat)
            data = json.loads(_python(code))
            c.first.append(data["first"][0])
            c.first_cpu.append(data["first"][1])
            c.later.extend(data["later"][0])
            c.later_cpu.extend(data["later"][1])
    return out


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.3f}" if base > 0 else "-"


def startup_tables(import_repeat: int, construct_repeat: int, construct_processes: int) -> None:
    med = statistics.median
    imports = import_times(import_repeat)
    (ox_w, ox_c), (sdk_w, sdk_c) = imports["oxide_io"], imports["openai"]
    _table(
        f"Import time (fresh interpreter each, median of {import_repeat})",
        [
            "import",
            "wall ms",
            "CPU ms",
            "wall ratio",
            "CPU ratio",
            f"goal <{GOAL_IMPORT_S * 1e3:.0f} ms",
        ],
        [
            [
                "import oxide_io",
                _ms(med(ox_w)),
                _ms(med(ox_c)),
                _ratio(med(ox_w), med(sdk_w)),
                _ratio(med(ox_c), med(sdk_c)),
                "ok" if med(ox_w) < GOAL_IMPORT_S else "over",
            ],
            ["import openai", _ms(med(sdk_w)), _ms(med(sdk_c)), "1.000", "1.000", ""],
        ],
    )
    built = construct_times(construct_repeat, construct_processes)
    sdk = built["openai OpenAI"]
    rows = []
    for label, c in built.items():
        is_ox = label.startswith("oxide")
        rows.append(
            [
                label,
                _ms(med(c.first)),
                _ms(med(c.first_cpu)),
                _us(med(c.later)),
                _us(med(c.later_cpu)),
                _ratio(med(c.first), med(sdk.first)) if is_ox else "1.000",
                _ratio(med(c.later), med(sdk.later)) if is_ox else "1.000",
                ("ok" if med(c.later) < GOAL_CONSTRUCT_S else "over") if is_ox else "",
            ]
        )
    _table(
        f"Client construction (first: median of {construct_processes} fresh processes; "
        f"then: median of the next {construct_repeat * construct_processes})",
        [
            "client",
            "first ms",
            "first CPU ms",
            "then µs",
            "then CPU µs",
            "first ratio",
            "then ratio",
            f"goal <{GOAL_CONSTRUCT_S * 1e3:.0f} ms",
        ],
        rows,
    )


# -- concurrency ----------------------------------------------------------------------

CONCURRENCY = (1, 10, 100, 500)
# Keep every connection of the sweep alive: the sweep measures the request path, not
# reconnections (the default keeps 100).
SWEEP_KEEPALIVE = 1000


@dataclass
class SweepResult:
    label: str
    # CPU and wall seconds per request, one value per round, by concurrency level
    cpu: dict[int, list[float]] = field(default_factory=dict)
    wall: dict[int, list[float]] = field(default_factory=dict)
    requests: dict[int, int] = field(default_factory=dict)


def sweep_clients(server: Server, http2: bool) -> list[tuple[str, Callable[[], Any]]]:
    """(label, factory) of the clients the sweep compares; factories run inside the loop.

    oxide first; the SDK when it is installed; the asyncio floor of the protocol and,
    over HTTP/1.1, the socket floor (`socket_floor.py`: a prebuilt request, no HTTP
    library), the CPU a call costs before any client code runs.
    """
    url = server.base_url

    def oxide_client() -> Any:
        return oxide_io.AsyncClient(
            base_url=url, api_key=API_KEY, h2c=http2, max_keepalive_connections=SWEEP_KEEPALIVE
        )

    def sdk_client() -> Any:
        import httpx

        openai = _openai()
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=SWEEP_KEEPALIVE)
        kwargs: dict[str, Any] = {"limits": limits}
        if http2:
            kwargs |= {"http1": False, "http2": True}
        http = openai.DefaultAsyncHttpxClient(**kwargs)
        return openai.AsyncOpenAI(base_url=url, api_key=API_KEY, http_client=http)

    clients: list[tuple[str, Callable[[], Any]]] = [("oxide AsyncClient", oxide_client)]
    if installed("openai"):
        clients.append(("openai AsyncOpenAI", sdk_client))
    if http2:
        # Imported only for an HTTP/2 sweep: h2's modules in memory would lengthen
        # the garbage collections of every other measurement.
        from .floor_h2 import AsyncH2FloorClient

        clients.append((FLOOR_H2, lambda: AsyncH2FloorClient(base_url=url, api_key=API_KEY)))
    else:
        from .socket_floor import AsyncSocketFloorClient

        clients.append((FLOOR_ASYNC, lambda: AsyncFloorClient(base_url=url, api_key=API_KEY)))
        clients.append(
            (
                FLOOR_SOCKET,
                lambda: AsyncSocketFloorClient(
                    base_url=url, api_key=API_KEY, model=MODEL, messages=_messages(PROMPT)
                ),
            )
        )
    return clients


async def _sweep_one(
    make: Callable[[], Any], concurrency: int, rounds: int, per_round: int
) -> tuple[list[float], list[float], int]:
    """CPU and wall seconds per request, one each per round, and the requests made."""
    client = make()
    work = request_work()

    async def call() -> int:
        return await work.acall(client)

    batches = max(1, -(-per_round // concurrency))
    cpu, wall, done = [], [], 0
    try:
        for _ in range(2):  # warm up: every connection opened and kept alive
            await asyncio.gather(*(call() for _ in range(concurrency)))
        for _ in range(rounds):
            units = 0
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(batches):
                units += sum(await asyncio.gather(*(call() for _ in range(concurrency))))
            cpu.append((time.process_time() - c0) / units)
            wall.append((time.perf_counter() - w0) / units)
            done += units
    finally:
        await (client.aclose() if hasattr(client, "aclose") else client.close())
    return cpu, wall, done


def concurrency_table(http2: bool, results: Sequence[SweepResult], levels: Sequence[int]) -> None:
    """CPU per request by level; each client's figure also over its own at the largest
    level (flatness: 1.00 everywhere is the goal), and oxide's over each floor's."""
    proto = "HTTP/2 (h2c)" if http2 else "HTTP/1.1 keep-alive"
    med = statistics.median
    oxide = results[0]
    floors = [r for r in results if "floor" in r.label]
    top = max(levels)
    header = ["concurrent"]
    for r in results:
        header += [f"{r.label} CPU µs/req", f"÷ c={top}"]
    header += [f"oxide ÷ {r.label.split(' (')[0]}" for r in floors]
    rows = []
    for level in levels:
        row = [str(level)]
        for r in results:
            row += [_us(med(r.cpu[level])), f"{med(r.cpu[level]) / med(r.cpu[top]):.2f}"]
        row += [f"{med(oxide.cpu[level]) / med(f.cpu[level]):.2f}" for f in floors]
        rows.append(row)
    requests = {r.requests[level] for r in results for level in levels}
    _table(
        f"Concurrent non-streaming calls on one client, asyncio, {proto} "
        f"({', '.join(str(n) for n in sorted(requests))} requests a level and client; "
        f"÷ c={top}: the client's CPU per request over its own at {top} concurrent)",
        header,
        rows,
    )


def sweep(
    server: Server, http2: bool, levels: Sequence[int], rounds: int, per_round: int
) -> list[SweepResult]:
    """Every sweep client at every level, checked to have made the same requests."""
    results = []
    for label, make in sweep_clients(server, http2):
        result = SweepResult(label)
        for level in levels:
            cpu, wall, done = asyncio.run(_sweep_one(make, level, rounds, per_round))
            result.cpu[level], result.wall[level] = cpu, wall
            result.requests[level] = done
        results.append(result)
    for level in levels:
        made = {r.requests[level] for r in results}
        assert len(made) == 1 and min(made) > 0, "clients differ in requests made"
    return results


def run_concurrency(
    tls: bool, levels: Sequence[int], rounds: int, per_round: int, busy: bool = False
) -> None:
    """Section 4: the concurrency sweep, HTTP/1.1 then HTTP/2.

    `busy`: with the server on other CPUs and the benchmark's kept from idling
    (`busy_cpu.py`), the control that says how much of the lone call's cost is
    the machine's idling.
    """
    if tls:
        print("\nthe concurrency sweep runs over plain http only (h2c for HTTP/2)")
    with serve(False) as server, contextlib.ExitStack() as stack:
        if busy:
            from .busy_cpu import keep_busy

            spinners = stack.enter_context(keep_busy(server.pid))
            print(
                f"\nCPUs kept busy: server on CPUs {sorted(os.sched_getaffinity(server.pid))}, "
                f"{len(spinners)} idle-class spinner(s) on the benchmark's"
            )
        for http2 in (False, True):
            concurrency_table(http2, sweep(server, http2, levels, rounds, per_round), levels)


# -- profiling -------------------------------------------------------------------------


def profile(
    runtime: str, requests: int, http2: bool, tls: bool, out: str | None, stream_words: int | None
) -> None:
    """oxide's request path (or streamed-chunk path) under cProfile, after a warm-up."""
    with serve(tls) as server:
        target = next(
            t for t in targets(server, http2) if t.family == "oxide" and t.runtime == runtime
        )
        work = request_work() if stream_words is None else stream_work(stream_words)
        warmup = 50 if stream_words is None else 3
        # CPU time, not wall time: waiting for the server is not the client's cost.
        profiler = cProfile.Profile(time.process_time)
        counted: list[int] = []

        def sync_main() -> None:
            client = target.make()
            for _ in range(warmup):
                work.call(client)
            profiler.enable()
            units = 0
            for _ in range(requests):
                units += work.call(client)
            profiler.disable()
            counted.append(units)
            client.close()

        async def async_main() -> None:
            client = target.make()
            for _ in range(warmup):
                await work.acall(client)
            profiler.enable()
            units = 0
            for _ in range(requests):
                units += await work.acall(client)
            profiler.disable()
            counted.append(units)
            await client.aclose()

        if runtime == "sync":
            sync_main()
        elif runtime == "asyncio":
            asyncio.run(async_main())
        else:
            import trio

            trio.run(async_main)
    if out:
        profiler.dump_stats(out)
        print(f"profile written to {out}")
    stats = pstats.Stats(profiler)
    unit = "request" if stream_words is None else "chunk"
    print(f"\n{counted[0]} {unit}s, {runtime}, {'HTTP/2' if http2 else 'HTTP/1.1'}")
    by_place(stats, counted[0], unit)
    stats.strip_dirs()
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(40)


def _place(filename: str, function: str) -> str:
    """Where a profiled function lives: our module, a dependency, the stdlib or C."""
    path = filename.replace(os.sep, "/")
    for ours in ("oxide_proto", "oxide_io"):
        marker = f"/{ours}/"
        if marker in path:
            return ours + "/" + path.split(marker, 1)[1]
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0]
    if filename == "~":
        return f"C: {function}"
    if "/lib/python" in path or path.startswith("<frozen"):
        return "stdlib: " + os.path.basename(path)
    return os.path.basename(path)


def by_place(stats: pstats.Stats, calls: int, unit: str) -> None:
    """Own CPU time grouped by module, as a share of the total and per call."""
    totals: dict[str, float] = {}
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        place = _place(filename, function)
        totals[place] = totals.get(place, 0.0) + tottime
    total = sum(totals.values())
    rows = [
        [place, f"{100 * t / total:.1f}%", _us(t / calls)]
        for place, t in sorted(totals.items(), key=lambda kv: -kv[1])[:25]
    ]
    _table(
        f"Own CPU time by module ({_us(total / calls)} µs per {unit} under the profiler)",
        ["module", "share", f"µs/{unit}"],
        rows,
    )


# -- main ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--tls", action="store_true", help="run over TLS (HTTP/2 by ALPN)")
    parser.add_argument("--rounds", type=int, help="timed rounds per client (default 12)")
    parser.add_argument("--per-round", type=int, help="requests per round (default 30)")
    parser.add_argument("--words", type=int, help="words in the streamed reply (default 500)")
    parser.add_argument(
        "--only",
        choices=["requests", "raw", "streams", "startup", "concurrency"],
        action="append",
        help="run only these sections (repeatable); concurrency runs only when named",
    )
    parser.add_argument(
        "--concurrency",
        help="with --only concurrency: comma-separated levels (default 1,10,100,500)",
    )
    parser.add_argument(
        "--profile", choices=["sync", "asyncio", "trio"], help="profile oxide instead"
    )
    parser.add_argument("--http2", action="store_true", help="with --profile: over HTTP/2")
    parser.add_argument(
        "--profile-requests", type=int, default=2000, help="with --profile: calls to profile"
    )
    parser.add_argument(
        "--profile-stream",
        action="store_true",
        help="with --profile: profile streamed calls (--words long) instead of plain requests",
    )
    parser.add_argument("--profile-out", help="with --profile: also write the pstats file")
    parser.add_argument(
        "--busy-cpu",
        action="store_true",
        help="with --only concurrency: the server on other CPUs and an idle-class spinner on "
        "the benchmark's, so no CPU idles between calls (Linux; pin with taskset -c)",
    )
    args = parser.parse_args(argv)
    _openai()

    if args.profile:
        words = (args.words or 500) if args.profile_stream else None
        profile(args.profile, args.profile_requests, args.http2, args.tls, args.profile_out, words)
        return 0

    quick = args.quick
    rounds = args.rounds or (3 if quick else 12)
    per_round = args.per_round or (10 if quick else 30)
    words = args.words or (200 if quick else 500)
    stream_rounds = 3 if quick else 8
    passes = 1 if quick else 2
    sections = set(args.only or ["requests", "raw", "streams", "startup"])
    scheme = "https" if args.tls else "http (h2c for HTTP/2)"
    openai = _openai()
    print(
        f"oxide {oxide_io.__version__} vs openai {openai.__version__}, Python "
        f"{sys.version.split()[0]}, {os.cpu_count()} CPUs, server in a child process, {scheme}"
    )
    print("CPU is this process's (client only); ratio = oxide / SDK, below 1 is better")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at start: {load:.2f} (wall times grow with it; CPU times much less)")

    if sections & {"requests", "raw", "streams"}:
        run_network(args, sections, quick, rounds, per_round, words, stream_rounds, passes)
    if "concurrency" in sections:
        levels = [int(n) for n in args.concurrency.split(",")] if args.concurrency else CONCURRENCY
        run_concurrency(
            args.tls,
            levels,
            rounds=args.rounds or (3 if quick else 5),
            per_round=args.per_round or (200 if quick else 1000),
            busy=args.busy_cpu,
        )
    if "startup" in sections:
        startup_tables(
            import_repeat=3 if quick else 9,
            construct_repeat=20 if quick else 100,
            construct_processes=2 if quick else 5,
        )
    return 0


def run_network(
    args: argparse.Namespace,
    sections: set[str],
    quick: bool,
    rounds: int,
    per_round: int,
    words: int,
    stream_rounds: int,
    passes: int,
) -> None:
    """Sections 1 and 2: one server process, HTTP/1.1 then HTTP/2."""
    with serve(args.tls) as server:
        for http2 in (False, True):
            proto = "HTTP/2" if http2 else "HTTP/1.1 keep-alive"
            all_targets = targets(server, http2)
            _check_protocol(all_targets, http2)
            if "requests" in sections:
                results = measure(
                    all_targets,
                    request_work(),
                    warmup=5 if quick else 30,
                    rounds=rounds,
                    per_round=per_round,
                    passes=passes,
                )
                overhead_table(
                    f"Per request, non-streaming chat.completions.create, {proto} "
                    f"(median of {len(results[0].wall)} rounds of {per_round})",
                    results,
                    "request",
                    goal=True,
                )
            if "raw" in sections:
                results = measure(
                    # The floor has no raw responses.
                    [t for t in all_targets if t.family != "floor"],
                    raw_request_work(),
                    warmup=5 if quick else 30,
                    rounds=rounds,
                    per_round=per_round,
                    passes=passes,
                )
                overhead_table(
                    f"Per request, chat.completions.with_raw_response.create + parse(), {proto} "
                    f"(median of {len(results[0].wall)} rounds of {per_round})",
                    results,
                    "request",
                    goal=False,
                )
            if "streams" in sections:
                results = measure(
                    all_targets,
                    stream_work(words),
                    warmup=1,
                    rounds=stream_rounds,
                    per_round=1,
                    passes=passes,
                )
                per_stream = results[0].units // results[0].calls_ok
                overhead_table(
                    f"Per streamed chunk, {proto} ({per_stream} chunks a stream, "
                    f"median of {len(results[0].wall)} streams)",
                    results,
                    "chunk",
                    goal=False,
                )


def _check_protocol(all_targets: Sequence[Target], http2: bool) -> None:
    """Each client really speaks the protocol the table says (one raw request each)."""
    want = "HTTP/2" if http2 else "HTTP/1.1"

    def version(target: Target, raw: Any) -> str:
        if target.family == "oxide":
            return str(raw.http_version)
        return str(raw.http_response.http_version)

    messages = _messages(PROMPT)
    for target in all_targets:
        if target.family == "floor":
            continue  # HTTP/1.1 by construction (floor.py); run only without http2
        if target.runtime == "sync":
            client = target.make()
            try:
                raw = client.chat.completions.with_raw_response.create(
                    model=MODEL, messages=messages
                )
                got = version(target, raw)
            finally:
                _close(target, client)
        else:

            async def one(target: Target = target) -> str:
                client = target.make()
                try:
                    raw = await client.chat.completions.with_raw_response.create(
                        model=MODEL, messages=messages
                    )
                    return version(target, raw)
                finally:
                    await _close(target, client)

            if target.runtime == "asyncio":
                got = asyncio.run(one())
            else:
                import trio

                got = trio.run(one)
        if got != want:
            raise AssertionError(f"{target.label} spoke {got}, expected {want}")


if __name__ == "__main__":
    sys.exit(main())
