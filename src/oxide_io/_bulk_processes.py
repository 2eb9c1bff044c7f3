"""One bulk job split across worker processes, for when one process's CPU is the limit.

`run_processes(client, input, output, processes=4)` checks the input and reads
the output once, in this process, then starts `processes` workers (spawned, so
nothing of this process's threads or event loop is inherited). Worker k sends
the lines whose number is k modulo `processes`, with the blocking runner,
through its own copy of `client` (clients pickle), and appends to the same
output: each result is one `write` on an O_APPEND descriptor, which the kernel
keeps whole however many processes append. Each worker gets a 1/n share of
everything: the caps, the concurrency and the server's budgets (all of them
read the same `x-ratelimit-*` headers), so together they keep to one job's
limits.

Ctrl-C reaches every worker (they are in the terminal's process group); each
stops as the blocking runner does, and the job resumes like any other.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from collections.abc import Callable
from typing import Any

from oxide_proto import DoneLines, RateLimits, parse_result_line

from ._bulk_files import (
    BulkInput,
    BulkProgress,
    BulkSummary,
    ProgressMeter,
    checked_input,
    count_results,
    input_file,
    resume_output,
    token_counter,
)
from ._sync._bulk import SyncBulkRunner
from ._sync._clients import Client

__all__ = ["run_processes"]


class _Watch:
    """Reads the results appended to the output since the last look."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._offset = os.path.getsize(path)

    def new_results(self) -> list[bool]:
        """Whether each new result failed."""
        with open(self._path, "rb") as file:
            file.seek(self._offset)
            data = file.read()
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        return [parse_result_line(line)[1] for line in complete.splitlines() if line.strip()]


def _worker(
    client: Client,
    input_path: str,
    output: str,
    shard: tuple[int, int],
    prepared: tuple[int, DoneLines],
    limits: dict[str, Any],
    max_retries: int,
    exact_tokens: bool,
) -> tuple[int, int, int]:
    """One process's part: `(sent, retries, rate limited)`."""
    runner = SyncBulkRunner(
        client,
        input_path,
        output,
        limits=RateLimits(**limits),
        max_retries=max_retries,
        on_progress=None,
        job_file=None,
        count_tokens=token_counter() if exact_tokens else None,
        shard=shard,
        prepared=prepared,
    )
    summary = runner.run()
    client.close()
    return summary.sent, summary.retries, summary.rate_limited


def run_processes(
    client: Client,
    input: BulkInput,
    output: str | os.PathLike[str],
    *,
    processes: int = 2,
    concurrency: int = 64,
    requests_per_minute: float | None = None,
    tokens_per_minute: float | None = None,
    max_retries: int = 5,
    on_progress: Callable[[BulkProgress], None] | None = None,
    count_tokens: bool = True,
) -> BulkSummary:
    """`bulk.run` across `processes` worker processes (see the module docstring).

    `concurrency`, `requests_per_minute` and `tokens_per_minute` are the job's
    totals, shared evenly. `on_progress` is called in this process about twice
    a second with the job's counts (read from the output). Returns the job's
    `BulkSummary`.
    """
    if processes < 1:
        raise ValueError(f"processes must be at least 1, not {processes}")
    output_path = os.fspath(output)
    input_path, spooled = input_file(input, output_path)
    try:
        total, ids = checked_input(input_path)
        done, done_count, failed_count = resume_output(output_path, ids)
        del ids
        open(output_path, "ab").close()  # the workers append to it
        share = 1.0 / processes
        limits = {
            "max_concurrency": max(1, math.ceil(concurrency * share)),
            "initial_concurrency": max(1, min(4, math.ceil(concurrency * share))),
            "requests_per_minute": requests_per_minute * share if requests_per_minute else None,
            "tokens_per_minute": tokens_per_minute * share if tokens_per_minute else None,
            "share": share,
        }
        meter = ProgressMeter(total, done_count, failed_count)
        context = multiprocessing.get_context("spawn")
        with context.Pool(processes) as pool:
            pending = [
                pool.apply_async(
                    _worker,
                    (
                        client,
                        input_path,
                        output_path,
                        (k, processes),
                        (total, done),
                        limits,
                        max_retries,
                        count_tokens,
                    ),
                )
                for k in range(processes)
            ]
            watch = _Watch(output_path)
            while not all(result.ready() for result in pending):
                if on_progress is not None:
                    for failed_one in watch.new_results():
                        meter.record(failed_one)
                    on_progress(meter.snapshot(in_flight=0))
                time.sleep(0.5)
            outcomes = [result.get() for result in pending]
        counted, failed = count_results(output_path)
        meter.done, meter.failed = counted, failed
        if on_progress is not None:
            on_progress(meter.snapshot(in_flight=0))
        return BulkSummary(
            total=total,
            done=counted,
            failed=failed,
            skipped=done_count,
            sent=sum(o[0] for o in outcomes),
            retries=sum(o[1] for o in outcomes),
            rate_limited=sum(o[2] for o in outcomes),
            elapsed=time.monotonic() - meter.started,
            output=output_path,
            job_file=None,
            interrupted=counted < total,
        )
    finally:
        if spooled is not None:
            os.unlink(spooled)
