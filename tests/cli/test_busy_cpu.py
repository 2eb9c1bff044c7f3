"""The sweep's busy-CPU control: the server leaves the benchmark's CPUs, idle-class
spinners hold them, and everything it started is gone when it ends."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from oxide_io._bench import client as bench_client
from oxide_io._bench.busy_cpu import BusyCPUUnavailable, keep_busy

linux_only = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or not hasattr(os, "SCHED_IDLE"),
    reason="needs sched_setaffinity and SCHED_IDLE",
)
two_cpus = pytest.mark.skipif(
    len(getattr(os, "sched_getaffinity", lambda _: set())(0)) < 2,
    reason="needs two CPUs to split",
)


@contextlib.contextmanager
def pinned_to_one_cpu() -> Iterator[int]:
    """This process on one of its CPUs for the block (as `taskset -c` would start it)."""
    before = os.sched_getaffinity(0)
    cpu = max(before)
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, before)


@contextlib.contextmanager
def a_child() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield child
    finally:
        child.kill()
        child.wait()


@linux_only
@two_cpus
def test_the_server_moves_off_and_idle_spinners_hold_the_benchmarks_cpu() -> None:
    with pinned_to_one_cpu() as cpu, a_child() as server:
        every = set(range(os.cpu_count() or 1))
        with keep_busy(server.pid) as spinners:
            assert os.sched_getaffinity(server.pid) == every - {cpu}
            assert len(spinners) == 1
            for pid in spinners:
                assert os.sched_getaffinity(pid) == {cpu}
                assert os.sched_getscheduler(pid) == os.SCHED_IDLE
        for pid in spinners:
            # Killed and reaped: no such process any more.
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)


@linux_only
def test_a_benchmark_free_to_run_anywhere_gets_a_clear_error() -> None:
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    try:
        with a_child() as server:
            with pytest.raises(BusyCPUUnavailable, match="taskset"), keep_busy(server.pid):
                pass  # pragma: no cover - the error comes first
            # Nothing moved: the server may still run anywhere.
            assert os.sched_getaffinity(server.pid) == set(range(os.cpu_count() or 1))
    finally:
        os.sched_setaffinity(0, before)


@linux_only
@two_cpus
def test_the_sweep_runs_with_the_control_and_says_so() -> None:
    out = io.StringIO()
    with pinned_to_one_cpu(), contextlib.redirect_stdout(out):
        bench_client.run_concurrency(False, [1, 2], rounds=1, per_round=2, busy=True)
    text = out.getvalue()
    assert "CPUs kept busy: server on CPUs" in text
    assert "1 idle-class spinner(s)" in text
    assert "HTTP/2" in text and "socket floor" in text
