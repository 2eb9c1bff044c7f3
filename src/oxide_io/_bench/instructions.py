"""Instructions per call under valgrind's callgrind: oxide against the hand-written floors.

CPU time on a shared machine moves with the load by ±20 %; an instruction count moves by
well under 1 %, so a change of a few percent on the request path can be read from it.
Each figure runs one workload twice under `valgrind --tool=callgrind` in a fresh
interpreter (``PYTHONHASHSEED=0``): with ``n`` measured units after the warm-up and with
none, and divides the difference by ``n``. What both runs share (start-up, imports,
client construction, connecting, the warm-up) cancels out.

Workloads, against the mock server in a child process (not counted: it is another
process):

- ``call``: one non-streaming ``chat.completions.create``, HTTP/1.1 keep-alive;
- ``stream``: one stream of 20 words (36 chunks);
- ``short``: one short stream (6 words, 22 chunks: the mock server's fixed
  sentence around them), where the per-stream setup weighs most against the chunks;
- ``batch``: a batch of ``--concurrency`` concurrent calls on one asyncio client:
  HTTP/1.1 (one kept-alive connection per call) and HTTP/2 (h2c, the calls
  multiplexed on one connection as far as the server's stream limit allows); the
  figure is per batch (divide by the concurrency for a call's share). Counting
  starts after at least `WARMUP` calls, whatever the batch size: a batch of one
  call warmed up by two would count the interpreter still specializing its code.
  ``--concurrency 1,10,100,500`` sweeps the levels
  ``bench_client.py --only concurrency`` times (each level is its own work,
  ``batch 500``, divided by its own floor);
- ``import``: ``import oxide_io`` and ``import openai`` above ``python -c pass``.

Targets are oxide's ``Client`` (blocking), ``AsyncClient`` on asyncio and on trio, and
the floors: the h11 loop (`floor.py`, blocking and asyncio; trio is read against
asyncio's floor) and, for HTTP/2 batches, the h2 loop (`floor_h2.py`,
``floor_asyncio-h2``). An HTTP/2 row is divided by the h2 floor, and also by the h11
floor, which says what the protocol itself costs a batch.

Run: ``python bench/bench_instructions.py`` (needs valgrind; half an hour on a loaded
2-core machine, ``--work call`` for one section).
The child mode, ``python -m oxide_io._bench.instructions run --callgrind TARGET WORK URL C
N``, is what runs under valgrind; it switches counting on after its warm-up (`callgrind_control`),
so that the uncounted start-up runs fast.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Figure", "count", "main", "measure_all"]

WARMUP = 20
# Words of the prompt the mock server repeats in its streamed reply, by work.
STREAM_WORDS = {"stream": 20, "short": 6}
_COLLECTED = re.compile(r"Collected : (\d+)")
_IMPORT = {"oxide_io": "import oxide_io", "openai": "import openai", "none": "pass"}


@dataclass(frozen=True)
class Figure:
    target: str
    work: str
    per_unit: int  # instructions per call, per stream or per batch


def _instructions(argv: Sequence[str], from_start: bool = True) -> int:
    """Instructions the command executes under callgrind (its own process only).

    Without `from_start`, counting starts when the command asks for it (`callgrind_counting`):
    the uncounted part runs several times faster, which matters when start-up and
    imports are most of the run.
    """
    env = dict(os.environ, PYTHONHASHSEED="0")
    start = [] if from_start else ["--instr-atstart=no"]
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", *start, "--callgrind-out-file=/dev/null", *argv],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{' '.join(argv)} failed under valgrind:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def count(target: str, work: str, n: int, url: str, concurrency: int = 100) -> int:
    """Instructions per unit of `work` for `target`: (n units - no unit) / n."""
    child = [sys.executable, "-m", "oxide_io._bench.instructions", "run", "--callgrind"]
    args = [target, work, url, str(concurrency)]
    many = _instructions([*child, *args, str(n)], from_start=False)
    return (many - _instructions([*child, *args, "0"], from_start=False)) // n


def import_count(module: str) -> int:
    """Instructions of `import module` in a fresh interpreter, above `python -c pass`."""
    # Once unmeasured: a stale or missing bytecode cache would be compiled and counted.
    # That run may write the caches even where the environment says not to
    # (PYTHONDONTWRITEBYTECODE): otherwise every measured import compiles the
    # package's changed modules again, which an installed package never does.
    writes = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", _IMPORT[module]], check=True, env=writes)
    return _instructions([sys.executable, "-c", _IMPORT[module]]) - _instructions(
        [sys.executable, "-c", _IMPORT["none"]]
    )


# -- the child -------------------------------------------------------------------------


def callgrind_counting(on: bool) -> None:
    """Switches callgrind's instrumentation of this process on or off (it started off).

    `callgrind_control` reaches the process through valgrind's gdbserver while this
    process waits for it, so the switch has happened when the call returns.
    """
    switch = "on" if on else "off"
    subprocess.run(
        ["callgrind_control", f"--instr={switch}", str(os.getpid())],
        capture_output=True,
        check=True,
    )


def _client(target: str, url: str) -> Any:
    import oxide_io

    from .client import API_KEY
    from .floor import AsyncFloorClient, FloorClient

    runtime, _, proto = target.partition("-")
    h2c = proto == "h2"
    if runtime == "floor_sync":
        return FloorClient(base_url=url, api_key=API_KEY)
    if runtime == "floor_asyncio":
        if h2c:
            # Imported here only: h2's modules in memory would make every other
            # target's garbage collections longer.
            from .floor_h2 import AsyncH2FloorClient

            return AsyncH2FloorClient(base_url=url, api_key=API_KEY)
        return AsyncFloorClient(base_url=url, api_key=API_KEY)
    # Under valgrind a batch takes a minute and the switch to counting seconds: no
    # phase may time out and no idle connection expire (the floor's never do), or
    # the count would include reconnecting.
    slow: dict[str, Any] = {"timeout": 600.0, "keepalive_expiry": 3600.0}
    if runtime == "sync":
        return oxide_io.Client(base_url=url, api_key=API_KEY, h2c=h2c, **slow)
    return oxide_io.AsyncClient(
        base_url=url, api_key=API_KEY, h2c=h2c, max_keepalive_connections=1000, **slow
    )


def batch_warmup(concurrency: int) -> int:
    """Batches run before counting: at least two (every connection opened and kept
    alive) and at least `WARMUP` calls, so that small batches count warm code too
    (the interpreter specializes a function's code only after several runs)."""
    return max(2, -(-WARMUP // concurrency))


# Calls a batch figure counts at least, whatever the concurrency. A garbage
# collection of the older generations comes every few thousand allocations: over
# 5 batches of one call, whether one lands in the window moves the figure per call
# by a fifth, which reads as a cost of low concurrency that is not there.
BATCH_CALLS = 500


def batches_for(concurrency: int, batches: int | None) -> int:
    """Measured batches: `batches` when given, else at least 5 and `BATCH_CALLS` calls."""
    return batches if batches is not None else max(5, -(-BATCH_CALLS // concurrency))


def run(target: str, work: str, url: str, concurrency: int, n: int, callgrind: bool) -> None:
    """The workload itself: `WARMUP` units, then `n` (what valgrind counts).

    With `callgrind`, the process runs under callgrind with counting off, and turns
    it on after the warm-up.
    """

    def start_counting() -> None:
        if callgrind:
            callgrind_counting(True)

    from .client import request_work, stream_work

    job = stream_work(STREAM_WORDS[work]) if work in STREAM_WORDS else request_work()
    runtime = target.partition("-")[0]
    if runtime in ("sync", "floor_sync"):
        client = _client(target, url)
        for _ in range(WARMUP):
            job.call(client)
        start_counting()
        for _ in range(n):
            job.call(client)
        client.close()
        return

    async def unit(client: Any) -> None:
        if work == "batch":  # asyncio only, as the concurrency sweep
            await asyncio.gather(*(job.acall(client) for _ in range(concurrency)))
        else:
            await job.acall(client)

    async def main() -> None:
        client = _client(target, url)
        for _ in range(WARMUP if work != "batch" else batch_warmup(concurrency)):
            await unit(client)
        start_counting()
        for _ in range(n):
            await unit(client)
        await client.aclose()

    if runtime == "trio":
        import trio

        trio.run(main)
    else:
        asyncio.run(main())


# -- the table -------------------------------------------------------------------------

CALL_TARGETS = ("floor_sync", "floor_asyncio", "sync", "asyncio", "trio")
BATCH_TARGETS = ("floor_asyncio", "floor_asyncio-h2", "asyncio", "asyncio-h2")
FLOOR_OF = {"sync": "floor_sync", "asyncio": "floor_asyncio", "trio": "floor_asyncio"}


def _floor(target: str) -> str | None:
    """The floor a target is divided by: the same runtime's, over the same protocol."""
    runtime, _, proto = target.partition("-")
    floor = FLOOR_OF.get(runtime)
    return f"{floor}-{proto}" if floor and proto else floor


def measure_all(
    url: str,
    works: Sequence[str],
    n: int,
    batches: int | None,
    concurrency: int | Sequence[int],
    only: Sequence[str] = (),
) -> list[Figure]:
    """Every figure asked for. With several `concurrency` levels (a sweep), a batch's
    work is named by its level ("batch 500"), so each is divided by its own floor."""
    levels = [concurrency] if isinstance(concurrency, int) else list(concurrency)
    figures = []
    for work in works:
        if work == "import":
            for module in ("oxide_io", "openai"):
                figures.append(Figure(f"import {module}", work, import_count(module)))
            continue
        for level in levels if work == "batch" else levels[:1]:
            label = f"batch {level}" if work == "batch" and len(levels) > 1 else work
            chosen = BATCH_TARGETS if work == "batch" else CALL_TARGETS
            for target in chosen:
                if only and target not in only:
                    continue
                units = batches_for(level, batches) if work == "batch" else n
                per_unit = count(target, work, units, url, level)
                figures.append(Figure(target, label, per_unit))
                each = f" ({per_unit // level:,} a call)" if work == "batch" else ""
                print(f"  {label:9} {target:16} {per_unit:>14,}{each}", flush=True)
    return figures


def table(figures: Sequence[Figure]) -> str:
    by = {(f.target, f.work): f.per_unit for f in figures}
    lines = [
        "| work | target | instructions | ÷ floor | ÷ h11 floor |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for f in figures:
        h11 = ""
        if f.work == "import":
            base = by.get(("import openai", "import"))
            ratio = f"{f.per_unit / base:.3f} of openai" if base else ""
        else:
            floor = _floor(f.target)
            base = by.get((floor, f.work)) if floor else None
            ratio = f"{f.per_unit / base:.3f}" if base and not f.target.startswith("floor") else ""
            if f.target.endswith("-h2"):
                # What HTTP/2 costs against the HTTP/1.1 floor of the same batch.
                runtime = f.target.partition("-")[0]
                h11_floor = FLOOR_OF.get(runtime, runtime)
                h11_base = by.get((h11_floor, f.work))
                h11 = f"{f.per_unit / h11_base:.3f}" if h11_base else ""
        lines.append(f"| {f.work} | {f.target} | {f.per_unit:,} | {ratio} | {h11} |")
    return "\n".join(lines)


def _levels(text: str) -> list[int]:
    levels = [int(level) for level in text.split(",")]
    if not levels or min(levels) < 1:
        raise ValueError(f"concurrency levels must be positive: {text!r}")
    return levels


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m oxide_io._bench.instructions")
    sub = parser.add_subparsers(dest="command", required=True)
    child = sub.add_parser("run", help="the workload (what runs under valgrind)")
    child.add_argument("--callgrind", action="store_true", help="count from after the warm-up")
    child.add_argument("target")
    child.add_argument("work", choices=["call", "stream", "short", "batch"])
    child.add_argument("url")
    child.add_argument("concurrency", type=int)
    child.add_argument("n", type=int)
    table_ = sub.add_parser("table", help="measure and print the table")
    table_.add_argument(
        "--work", action="append", choices=["call", "stream", "short", "batch", "import"]
    )
    table_.add_argument("--calls", type=int, default=100, help="measured calls (default 100)")
    table_.add_argument(
        "--batches",
        type=int,
        default=None,
        help=f"measured batches (default: at least 5 and {BATCH_CALLS} calls in all)",
    )
    table_.add_argument(
        "--concurrency",
        type=_levels,
        default=[100],
        help="calls a batch (default 100); comma-separated for a sweep: 1,10,100,500",
    )
    table_.add_argument("--target", action="append", help="only these targets (repeatable)")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.target, args.work, args.url, args.concurrency, args.n, args.callgrind)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed", file=sys.stderr)
        return 1
    from .server import serve

    works = args.work or ["call", "stream", "short", "batch", "import"]
    with serve(False) as server:
        figures = measure_all(
            server.base_url,
            works,
            args.calls,
            args.batches,
            args.concurrency,
            args.target or (),
        )
    print(table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
