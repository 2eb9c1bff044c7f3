"""Keeps the benchmark's CPUs from idling: the sweep's control for the lone call.

A client that waits for each answer alone (concurrency 1) sleeps between its
write and its read. On a virtual machine an idle CPU is handed back to the
host, and on any machine the sleep lets other work evict the client's caches,
so the next read starts cold: CPU time per request at concurrency 1 is higher
than at 10 or 500 for reasons that are the machine's, not the client's (the
socket floor, which runs no client code, shows it too).

`keep_busy(server_pid)` removes the two causes it can: the mock server moves
to CPUs the benchmark does not use, and a spinner of the idle scheduling class
runs on each of the benchmark's CPUs. The idle class runs only when nothing
else wants the CPU, so the benchmark takes the CPU back the moment it wakes,
and the spinner's time is its own, outside the benchmark's process time. What
is left at concurrency 1 is the cost of waking up after a context switch.

Linux only (`sched_setaffinity`, `SCHED_IDLE`); the benchmark must be pinned to
a subset of the CPUs (``taskset -c 1 python bench/bench_client.py ...``) so the
server has somewhere else to run.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

__all__ = ["BusyCPUUnavailable", "keep_busy"]

# The spinner: a loop that touches almost no memory (its class is set from here).
_SPIN = "while True: pass"


class BusyCPUUnavailable(RuntimeError):
    """The machine or the benchmark's CPU affinity does not allow the control."""


def _split_cpus() -> tuple[set[int], set[int]]:
    """(the benchmark's CPUs, the other CPUs), or a clear error when it cannot be split."""
    if not hasattr(os, "sched_setaffinity") or not hasattr(os, "SCHED_IDLE"):
        raise BusyCPUUnavailable("keeping CPUs busy needs Linux (sched_setaffinity, SCHED_IDLE)")
    mine = set(os.sched_getaffinity(0))
    every = set(range(os.cpu_count() or 1))
    others = every - mine
    if not others:
        raise BusyCPUUnavailable(
            f"the benchmark may run on every CPU ({sorted(mine)}): pin it to some of them "
            "(taskset -c 1 ...) so the server can run on the others"
        )
    return mine, others


@contextlib.contextmanager
def keep_busy(server_pid: int) -> Iterator[list[int]]:
    """Moves `server_pid` off the benchmark's CPUs and spins at idle priority on each of
    them until the block ends; yields the spinners' process ids."""
    mine, others = _split_cpus()
    os.sched_setaffinity(server_pid, others)
    spinners: list[subprocess.Popen[bytes]] = []
    try:
        for cpu in sorted(mine):
            spinner = subprocess.Popen([sys.executable, "-c", _SPIN])
            spinners.append(spinner)
            os.sched_setscheduler(spinner.pid, os.SCHED_IDLE, os.sched_param(0))
            os.sched_setaffinity(spinner.pid, {cpu})
        yield [spinner.pid for spinner in spinners]
    finally:
        for spinner in spinners:
            spinner.kill()
        for spinner in spinners:
            spinner.wait()
