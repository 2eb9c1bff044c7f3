"""The memory footprint of one call: distinct cache lines and pages it touches, cold.

A call made alone (concurrency 1) costs more CPU time than one of many, for every
client: while it waits for its answer the process is switched out, and what it
touches afterwards has to come back into the caches and the TLB. Its cost then
follows its footprint (how many distinct cache lines of code and data, and how many
pages, one call touches) more than its instruction count. This module measures that
footprint under valgrind's callgrind with its cache simulator:

- after a warm-up, before each measured call, the child reads a buffer larger than the
  simulated last-level cache (`zlib.crc32` over it), so every call starts with a cold
  last-level cache, as it would after a long switch-out; a second run makes the same
  flushes without the calls, and the difference is the calls' own;
- a call's last-level misses are then the distinct lines it touches that were not left
  in the (small) first-level caches: instruction lines (``ILmr``) and data lines
  (``DLmr + DLmw``); with 4 KiB lines in the last-level cache the same counts are
  distinct pages.

The per-function split (``--functions N``) names the interpreter's and extensions'
C functions whose data a call pulls in, against the first target's: Python-level code
shows through them (the evaluation loop reading code objects, frames and namespaces;
dict lookups; the allocator's pools).

Run: ``python -m oxide_io._bench.footprint table`` (needs valgrind; a few minutes). The
child, ``python -m oxide_io._bench.footprint run [--callgrind] TARGET URL N FLUSHES``,
is what runs under valgrind; it counts only its measured calls (`callgrind_control`
switches counting on after the warm-up and off after the calls, so neither start-up
nor shutdown's final garbage collection is in the figures).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Sequence

__all__ = ["Footprint", "by_function", "main", "measure", "summary", "table"]

# The simulated caches: a common x86 core's first levels; the last level is what the
# flush empties before each call, sized so that the flush stays short under valgrind.
I1 = "32768,8,64"
D1 = "32768,8,64"
LL_LINES = "2097152,16,64"
LL_PAGES = "4194304,16,4096"
# Twice the largest last-level cache simulated: enough to evict every line of it.
FLUSH_BYTES = 2 * 4194304
WARMUP = 20
# Kinds of run: (last-level cache, flush before each call).
KINDS = {"lines": (LL_LINES, True), "pages": (LL_PAGES, True), "warm": (LL_LINES, False)}

# A run whose counting was switched off before the end writes its figures on the
# `totals:` line (its `summary:` reads 0).
_TOTALS = re.compile(r"^totals:\s+(.*)$", re.MULTILINE)
_SUMMARY = re.compile(r"^summary:\s+(.*)$", re.MULTILINE)
_EVENTS = re.compile(r"^events:\s+(.*)$", re.MULTILINE)


class Footprint(dict[str, float]):
    """Events per call by callgrind's names (Ir, I1mr, ILmr, Dr, D1mr, DLmr, Dw, D1mw, DLmw)."""

    @property
    def code(self) -> float:
        """Last-level instruction misses: distinct code lines (or pages) after a flush."""
        return self.get("ILmr", 0)

    @property
    def data(self) -> float:
        """Last-level data misses, reads and writes: distinct data lines (or pages)."""
        return self.get("DLmr", 0) + self.get("DLmw", 0)


def run(target: str, url: str, n: int, flushes: int, callgrind: bool) -> None:
    """The child: `WARMUP` calls, then `n` measured calls, the first `flushes` of them
    after a cache flush (with no call, the flushes alone).

    With `callgrind`, counting (off from the start) covers the measured calls only.
    A full collection before them keeps one that lands in one run and not in the
    other (a thousand pages at once) from reading as the calls' own.
    """
    from .client import request_work
    from .instructions import _client, callgrind_counting

    job = request_work()
    buffer = os.urandom(FLUSH_BYTES)

    def switch(on: bool) -> None:
        if callgrind:
            callgrind_counting(on)

    def cold() -> None:
        zlib.crc32(buffer)  # reads every byte: the cache keeps nothing else

    if target in ("sync", "floor_sync"):
        client = _client(target, url)
        for _ in range(WARMUP):
            cold()
            job.call(client)
        gc.collect()  # both runs start from the same collector state
        switch(True)
        for i in range(max(n, flushes)):
            if i < flushes:
                cold()
            if i < n:
                job.call(client)
        switch(False)
        client.close()
        return

    async def main() -> None:
        client = _client(target, url)
        for _ in range(WARMUP):
            cold()
            await job.acall(client)
        gc.collect()
        switch(True)
        for i in range(max(n, flushes)):
            if i < flushes:
                cold()
            if i < n:
                await job.acall(client)
        switch(False)
        await client.aclose()

    if target.startswith("trio"):
        import trio

        trio.run(main)
    else:
        asyncio.run(main())


def summary(text: str) -> dict[str, int]:
    """The event totals of a callgrind output file."""
    names = _EVENTS.search(text)
    total = _TOTALS.search(text) or _SUMMARY.search(text)
    if names is None or total is None:
        raise ValueError("not a callgrind output file: no events or summary line")
    return dict(zip(names.group(1).split(), map(int, total.group(1).split()), strict=False))


def by_function(text: str) -> dict[str, dict[str, int]]:
    """Each function's own events (not those of what it calls), from a callgrind file.

    Cost lines follow the `fn=` they belong to; the cost line after a `calls=` line is
    the callee's inclusive cost and is left out. Names may be compressed to `(id)`.
    """
    names_line = _EVENTS.search(text)
    if names_line is None:
        raise ValueError("not a callgrind output file: no events line")
    names = names_line.group(1).split()
    known: dict[str, str] = {}
    totals: dict[str, dict[str, int]] = {}
    current: dict[str, int] | None = None
    skip_next = False

    def name_of(spec: str) -> str:
        # "(id) name" defines a compressed name (at a fn= or a cfn=), "(id)" uses it.
        ref, _, name = spec.partition(" ")
        if not (ref.startswith("(") and ref.endswith(")")):
            return spec
        if name:
            known[ref] = name
        return known.get(ref, ref)

    for line in text.splitlines():
        if line.startswith("fn="):
            current = totals.setdefault(name_of(line[3:]), dict.fromkeys(names, 0))
        elif line.startswith("cfn="):
            name_of(line[4:])
        elif line.startswith("calls="):
            skip_next = True
        elif line[:1].isdigit() or line[:1] in "+-*":
            if skip_next:
                skip_next = False
                continue
            if current is not None:
                values = line.split()[1:]  # the first field is the position
                for name, value in zip(names, values, strict=False):
                    current[name] += int(value)
    return totals


def _callgrind(argv: Sequence[str], ll: str, out: str) -> str:
    env = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            "--cache-sim=yes",
            f"--I1={I1}",
            f"--D1={D1}",
            f"--LL={ll}",
            f"--callgrind-out-file={out}",
            *argv,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed under valgrind:\n{done.stderr[-2000:]}")
    with open(out) as f:
        return f.read()


def _per_call(many: dict[str, int], none: dict[str, int], n: int) -> dict[str, float]:
    return {name: (many.get(name, 0) - none.get(name, 0)) / n for name in many}


def measure(
    target: str, url: str, n: int, kind: str, out_dir: str
) -> tuple[Footprint, dict[str, Footprint]]:
    """Events per call, in all and by function: (n calls - no call) / n, both runs
    after the same warm-up and making the same flushes."""
    ll, flush = KINDS[kind]
    child = [sys.executable, "-m", "oxide_io._bench.footprint", "run", "--callgrind", target, url]
    flushes = str(n if flush else 0)
    many = _callgrind([*child, str(n), flushes], ll, f"{out_dir}/{target}.{kind}.{n}.out")
    none = _callgrind([*child, "0", flushes], ll, f"{out_dir}/{target}.{kind}.0.out")
    total = Footprint(_per_call(summary(many), summary(none), n))
    many_f, none_f = by_function(many), by_function(none)
    functions = {
        name: Footprint(_per_call(events, none_f.get(name, {}), n))
        for name, events in many_f.items()
    }
    return total, functions


def table(rows: Sequence[tuple[str, str, Footprint]]) -> str:
    """One row per target and kind: instructions, distinct lines (or pages), L1 misses."""
    lines = [
        "| target | kind | instructions | code lines/pages | data lines/pages | I1 misses "
        "| D1 misses |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for target, kind, fp in rows:
        d1 = fp.get("D1mr", 0) + fp.get("D1mw", 0)
        lines.append(
            f"| {target} | {kind} | {fp.get('Ir', 0):,.0f} | {fp.code:,.0f} | {fp.data:,.0f} "
            f"| {fp.get('I1mr', 0):,.0f} | {d1:,.0f} |"
        )
    return "\n".join(lines)


def function_table(
    base: dict[str, Footprint], other: dict[str, Footprint], labels: tuple[str, str], top: int
) -> str:
    """The `top` functions whose data footprint differs most between two targets."""
    names = set(base) | set(other)
    empty = Footprint()

    def delta(name: str) -> float:
        return other.get(name, empty).data - base.get(name, empty).data

    lines = [
        f"| function | data, {labels[1]} | data, {labels[0]} | difference |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name in sorted(names, key=lambda name: -abs(delta(name)))[:top]:
        a, b = base.get(name, empty).data, other.get(name, empty).data
        lines.append(f"| {name} | {b:,.1f} | {a:,.1f} | {delta(name):+,.1f} |")
    return "\n".join(lines)


def _measure_targets(
    targets: Sequence[str], kinds: Sequence[str], calls: int, out_dir: str
) -> tuple[list[tuple[str, str, Footprint]], dict[str, dict[str, Footprint]]]:
    """Each target's footprint of each kind against one server: the table's rows, and
    the pages by function of each target measured for pages."""
    from .server import serve

    rows: list[tuple[str, str, Footprint]] = []
    pages: dict[str, dict[str, Footprint]] = {}
    with serve(False) as server:
        for target in targets:
            for kind in kinds:
                total, functions = measure(target, server.base_url, calls, kind, out_dir)
                rows.append((target, kind, total))
                if kind == "pages":
                    pages[target] = functions
                print(f"  {target:14} {kind:6} {dict(total)}", flush=True)
    return rows, pages


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m oxide_io._bench.footprint")
    sub = parser.add_subparsers(dest="command", required=True)
    child = sub.add_parser("run", help="the workload (what runs under valgrind)")
    child.add_argument("--callgrind", action="store_true", help="count the measured calls only")
    child.add_argument("target")
    child.add_argument("url")
    child.add_argument("n", type=int)
    child.add_argument("flushes", type=int)
    table_ = sub.add_parser("table", help="measure and print the table")
    table_.add_argument("--calls", type=int, default=10, help="measured calls (default 10)")
    table_.add_argument(
        "--target", action="append", help="default: floor_asyncio and asyncio (repeatable)"
    )
    table_.add_argument(
        "--kind", action="append", choices=sorted(KINDS), help="default: lines and pages"
    )
    table_.add_argument(
        "--functions", type=int, default=0, help="also the N functions whose pages differ most"
    )
    table_.add_argument("--out", default=None, help="keep callgrind's files here")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.target, args.url, args.n, args.flushes, args.callgrind)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed", file=sys.stderr)
        return 1
    targets: list[str] = args.target or ["floor_asyncio", "asyncio"]
    kinds: list[str] = args.kind or ["lines", "pages"]
    with contextlib.ExitStack() as stack:
        # Without --out, callgrind's files are scratch, removed at the end.
        out_dir = args.out or stack.enter_context(tempfile.TemporaryDirectory(prefix="footprint-"))
        rows, pages = _measure_targets(targets, kinds, args.calls, out_dir)
    print(table(rows))
    if args.functions and len(pages) >= 2:
        first, second = list(pages)[:2]
        print(f"\nData pages per call by function, {second} against {first}:")
        print(function_table(pages[first], pages[second], (first, second), args.functions))
    if args.out:
        print(f"callgrind files: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
