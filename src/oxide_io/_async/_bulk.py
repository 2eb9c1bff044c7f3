"""Bulk jobs: many requests in the Batch API's format, sent as fast as the server allows.

`run_bulk(client, input, output)` reads requests (a JSONL file, or an iterable
of request objects) in the Batch API's input format and appends results in its
output format, streaming both ways. The pace is the core's `RatePolicy`: the
server's `x-ratelimit-*` budgets, AIMD concurrency, and the caller's caps in
requests and tokens per minute; the workers here only carry out what it
decides. Retries are the runner's, not the client's (the client is used with
`max_retries=0`): a 429, 408, 409, 5xx or a connection failure puts the
request back in a queue after `retry-after` (or a backoff), so one slow retry
does not hold a worker, and the rate policy sees every attempt.

Safe to stop and rerun: a result counts as done once its line is written (one
`os.write`, fsync'd within a second); a rerun skips every custom_id the output
already has. Cancelling the run (Ctrl-C) abandons the requests in flight, whose
results were not written, and keeps all that were.

The job file's counts are the writer's (`ResultWriter.counts`), which stay
equal to the lines in the output whatever instant a KeyboardInterrupt lands
at; on trio, writing a result and counting it is also one step that a Ctrl-C
waits for (trio's KeyboardInterrupt protection), so the progress shown agrees
too. While the run goes, the job file is saved after each fsync with the
counts taken before it (never more than the disk holds); when it ends, however
it ends, with the output's exact counts. A process killed outright (SIGKILL, or
SIGTERM without a handler) leaves the last of those saves ("running"): the
rerun counts the output again, and so does `oxide bulk status`.
"""

from __future__ import annotations

import contextlib
import heapq
import os
import random
import time
from collections import deque
from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any

from oxide_proto import (
    APIConnectionError,
    APIError,
    APIStatusError,
    BulkRequest,
    DoneLines,
    Operation,
    RateLimits,
    RatePolicy,
    ResponseInfo,
    RetryPolicy,
    Start,
    api_path,
    estimate_tokens,
    result_line,
)

from .._bulk_files import (
    BulkInput,
    BulkProgress,
    BulkSummary,
    JobFile,
    ProgressMeter,
    ResultWriter,
    checked_input,
    default_job_file,
    input_file,
    read_input,
    resume_output,
    token_counter,
)

if TYPE_CHECKING:
    from ._clients import AsyncClient

__all__ = ["AsyncBulkRunner", "run_bulk"]

# The longest a waiting worker sleeps before it looks again (a blocking worker
# cannot be interrupted, so this is also how soon it notices a Ctrl-C).
_NAP = 0.25
_PROGRESS_INTERVAL = 0.2


class _Job:
    """One input request on its way: its attempts so far and when it may go again."""

    __slots__ = ("attempts", "operation", "ready_at", "request", "tokens")

    def __init__(self, request: BulkRequest, tokens: int) -> None:
        self.request = request
        self.tokens = tokens
        self.attempts = 0
        self.ready_at = 0.0
        self.operation = Operation(
            request.method,  # type: ignore[arg-type]  # checked by parse_request_line
            api_path(request.url),
            body="json" if request.body is not None else None,
        )

    def __lt__(self, other: _Job) -> bool:
        return self.ready_at < other.ready_at


def _as_is(data: Any, info: ResponseInfo) -> Any:
    return data


class AsyncBulkRunner:
    """Runs one bulk job; see `run_bulk`."""

    def __init__(
        self,
        client: AsyncClient,
        input_path: str,
        output: str,
        *,
        limits: RateLimits,
        max_retries: int,
        on_progress: Callable[[BulkProgress], None] | None,
        job_file: str | None,
        count_tokens: Callable[[str], int] | None,
        shard: tuple[int, int] | None = None,
        prepared: tuple[int, DoneLines] | None = None,
    ) -> None:
        """`shard` and `prepared` are for one process of a job split across
        several: its share of the lines, and the job's total and done lines (the
        parent checked the input and read the output; a worker only appends)."""
        self._shard = shard
        self._prepared = prepared
        self._client = client.with_options(max_retries=0)
        self._backend = client._transport.backend
        self._input_path = input_path
        self._output = output
        self._limits = limits
        self._retry = RetryPolicy(max_retries=max_retries)
        self._on_progress = on_progress
        self._job_path = job_file
        self._count_tokens = count_tokens
        self._lock = self._backend.state_lock()
        # Workers waiting for a free slot, oldest first: a finished request wakes
        # as many as there are free slots, not all of them (64 workers woken for
        # one slot cost more CPU than the request itself).
        self._waiters: deque[Any] = deque()
        self._policy = RatePolicy(limits, now=time.monotonic())
        self._queue: Generator[BulkRequest, None, None] = read_input(os.devnull)
        self._input_done = False
        self._retries: list[_Job] = []  # a heap by ready_at
        self._active = 0  # jobs taken and not yet written or requeued
        self._sent = 0
        self._reported_at = 0.0
        self._meter: ProgressMeter | None = None
        self._writer: ResultWriter | None = None
        self._job: JobFile | None = None
        self._resumed = (0, 0)  # (done, failed) by earlier runs
        self._record: Callable[[bytes, bool], None] = self._write_result
        # Set (under the lock) once the output is closed: the job file's last
        # save is the run's, not an older one from a thread still finishing.
        self._ended = False

    async def run(self) -> BulkSummary:
        if self._prepared is None:
            total, ids = checked_input(self._input_path)
            done, done_count, failed_count = resume_output(self._output, ids)
            del ids  # the done lines are all the next reading needs
        else:
            (total, done), done_count, failed_count = self._prepared, 0, 0
        skipped = done_count
        self._resumed = (done_count, failed_count)
        meter = self._meter = ProgressMeter(total, done_count, failed_count)
        if self._backend.runtime() == "trio":
            self._record = _ki_protected(self._write_result)
        if self._job_path is not None:
            self._job = JobFile(
                path=self._job_path,
                input=os.path.abspath(self._input_path),
                output=os.path.abspath(self._output),
                total=total,
                done=done_count,
                failed=failed_count,
                limits={
                    "max_concurrency": self._limits.max_concurrency,
                    "requests_per_minute": self._limits.requests_per_minute,
                    "tokens_per_minute": self._limits.tokens_per_minute,
                },
            )
            self._job.save()
        self._queue = read_input(self._input_path, skip=done, shard=self._shard)
        # A share of a job split across processes appends beside the others.
        self._writer = ResultWriter(self._output, exclusive=self._shard is None)
        interrupted = True
        try:
            async with self._backend.task_group() as group:
                # No more workers than requests to send: a small job starts few threads.
                workers = min(self._limits.max_concurrency, max(1, total - len(done)))
                for number in range(workers):
                    group.start_soon(lambda: self._work(group), name=f"oxide-bulk-{number}")
            interrupted = group.cancelled()
        finally:
            # Cleanup that must run even as the run is being cancelled.
            async with self._backend.shielded():
                # Under the lock: a blocking run's threads, when a second Ctrl-C
                # left them running, read and write no more once it is released.
                # The last fsync is not sent to a worker thread: after a
                # KeyboardInterrupt escaped asyncio's loop, this runs as
                # asyncio.run tears the loop down, and anyio's worker thread
                # started then is never told to stop (the process hangs at exit).
                with self._lock:
                    self._ended = True
                    self._queue.close()  # the input file, now rather than when collected
                    self._writer.close()
                # The output's own counts, a write cut short by a Ctrl-C settled.
                meter.done, meter.failed = self._counts()
                if self._job is not None:
                    self._job.done, self._job.failed = meter.done, meter.failed
                    self._job.state = "interrupted" if interrupted else "done"
                    self._job.save()
                self._report(force=True)
        return BulkSummary(
            total=total,
            done=meter.done,
            failed=meter.failed,
            skipped=skipped,
            sent=self._sent,
            retries=meter.retries,
            rate_limited=self._policy.rejected,
            elapsed=time.monotonic() - meter.started,
            output=self._output,
            job_file=self._job_path,
            interrupted=interrupted,
        )

    def _take(self, now: float) -> _Job | float | None:
        """The next job, or seconds to wait for one, or None when all are done."""
        with self._lock:
            if self._retries and self._retries[0].ready_at <= now:
                self._active += 1
                return heapq.heappop(self._retries)
            if not self._input_done:
                request = next(self._queue, None)
                if request is not None:
                    self._active += 1
                    return _Job(request, estimate_tokens(request.body, self._count_tokens))
                self._input_done = True
            if self._retries:
                return self._retries[0].ready_at - now
            return _NAP if self._active else None

    async def _nap(self, seconds: float | None) -> None:
        """Sleeps `seconds` (at most `_NAP`), or, when None, until a slot frees up."""
        event = self._backend.event()
        if seconds is not None:
            await event.wait(min(_NAP, seconds))
            return
        with self._lock:
            self._waiters.append(event)
        try:
            await event.wait(_NAP)
        finally:
            with self._lock, contextlib.suppress(ValueError):
                self._waiters.remove(event)

    def _wake(self) -> None:
        with self._lock:
            free = int(self._policy.concurrency) - self._policy.in_flight
            woken = [self._waiters.popleft() for _ in range(min(max(1, free), len(self._waiters)))]
        for event in woken:
            event.set()

    async def _work(self, group: Any) -> None:
        while not group.cancelled():
            job = self._take(time.monotonic())
            if job is None:
                return
            if not isinstance(job, _Job):
                await self._nap(job)
                continue
            while True:
                if group.cancelled():
                    return
                with self._lock:
                    decision = self._policy.try_start(time.monotonic(), job.tokens)
                if isinstance(decision, Start):
                    break
                await self._nap(decision.seconds)
            await self._attempt(job, decision.ticket)
            await self._after_result()

    async def _attempt(self, job: _Job, ticket: int) -> None:
        request = job.request
        status: int | None = None
        info: ResponseInfo | None = None
        body: Any = None
        request_id: str | None = None
        failure: APIError | None = None
        job.attempts += 1
        self._sent += 1
        try:
            raw = await self._client._call(
                job.operation, body=request.body, raw=True, decoder=_as_is
            )
        except APIStatusError as exc:
            status, info, request_id = exc.status_code, exc.response, exc.request_id
            body = {"error": exc.body} if isinstance(exc.body, Mapping) else exc.body
        except APIError as exc:  # no usable response: a connection failure, a body not JSON
            failure = exc
        except BaseException:
            with self._lock:
                self._policy.cancel(ticket)
                self._active -= 1
            raise
        else:
            status, info = raw.status_code, raw.http_response.info
            body, request_id = raw.parse(), raw.request_id
        now = time.monotonic()
        with self._lock:
            self._policy.finish(
                ticket,
                now,
                status=status if failure is None else None,
                headers=info.headers if info is not None else None,
                wall_clock=time.time(),
            )
            retry = self._retry_delay(job, info, failure, now)
            if retry is not None:
                job.ready_at = now + retry
                heapq.heappush(self._retries, job)
                self._active -= 1
                assert self._meter is not None
                self._meter.retries += 1
                return
        if failure is not None:
            code = "timeout" if "Timeout" in type(failure).__name__ else "request_failed"
            if not isinstance(failure, APIConnectionError):
                code = "invalid_response"
            line = result_line(
                id=_result_id(),
                custom_id=request.custom_id,
                error_code=code,
                error_message=f"{type(failure).__name__}: {failure}",
            )
        else:
            line = result_line(
                id=_result_id(),
                custom_id=request.custom_id,
                status_code=status,
                request_id=request_id,
                body=body,
            )
        with self._lock:
            self._record(line, failure is not None or (status or 0) >= 400)

    def _write_result(self, line: bytes, failed: bool) -> None:
        """Writes a result and counts it: on trio, one step a Ctrl-C does not split."""
        assert self._writer is not None and self._meter is not None
        self._writer.write(line, failed)
        self._active -= 1
        self._meter.record(failed)

    def _counts(self) -> tuple[int, int]:
        """`(done, failed)` for the job: earlier runs' and the lines this run wrote."""
        assert self._writer is not None
        lines, failed = self._writer.counts
        return self._resumed[0] + lines, self._resumed[1] + failed

    def _retry_delay(
        self, job: _Job, info: ResponseInfo | None, failure: APIError | None, now: float
    ) -> float | None:
        """Seconds until `job` goes again, or None when its outcome is final."""
        if job.attempts > self._retry.max_retries:
            return None
        if failure is not None:
            if not isinstance(failure, APIConnectionError):
                return None  # an answer that is not JSON will not become JSON
        elif (
            info is None
            or info.status_code < 400
            or not self._retry.should_retry_response(info, now=time.time())[0]
        ):
            return None
        delay = self._retry.delay(job.attempts - 1, info, now=time.time(), random=random.random)
        return delay.seconds

    async def _after_result(self) -> None:
        self._wake()
        writer = self._writer
        if writer is not None and writer.sync_due():
            # Counted before the fsync, so the job file never says more than the disk holds.
            with self._lock:
                done, failed = self._counts()
            await self._backend.run_blocking(writer.sync)
            # One save at a time (a blocking run's threads may each find a sync
            # due), none after the run's own, and never counts older than saved.
            with self._lock:
                if self._job is not None and not self._ended and done >= self._job.done:
                    self._job.done, self._job.failed = done, failed
                    self._job.save()
        self._report()

    def _report(self, *, force: bool = False) -> None:
        if self._on_progress is None or self._meter is None:
            return
        now = time.monotonic()
        if not force and (self._ended or now - self._reported_at < _PROGRESS_INTERVAL):
            return
        self._reported_at = now
        with self._lock:
            progress = self._meter.snapshot(self._policy.in_flight)
        self._on_progress(progress)


def _ki_protected(function: Callable[[bytes, bool], None]) -> Callable[[bytes, bool], None]:
    """`function`, which a Ctrl-C on trio does not interrupt: trio then raises the
    KeyboardInterrupt at the run's next checkpoint instead, as a cancellation."""
    import trio

    def protected(line: bytes, failed: bool) -> None:
        function(line, failed)

    # trio marks the code object (or wraps it, in older releases); a closure
    # made here has its own code, shared only with the other runs' closures.
    return trio.lowlevel.enable_ki_protection(protected)


def _result_id() -> str:
    return "bulk_req_" + os.urandom(12).hex()


async def run_bulk(
    client: AsyncClient,
    input: BulkInput,
    output: str | os.PathLike[str],
    *,
    concurrency: int = 64,
    requests_per_minute: float | None = None,
    tokens_per_minute: float | None = None,
    max_retries: int = 5,
    progress: bool = False,
    on_progress: Callable[[BulkProgress], None] | None = None,
    job_file: str | os.PathLike[str] | bool | None = True,
    count_tokens: Callable[[str], int] | bool | None = True,
) -> BulkSummary:
    """Sends every request of `input` through `client`; appends the results to `output`.

    `input` is a JSONL file in the Batch API's input format, or an iterable of
    request objects (`{"custom_id", "method", "url", "body"}`, or their JSON
    lines), copied to a temporary file first. Every line is checked before the
    first request goes out: a malformed line or a repeated custom_id raises
    `BulkInputError` with the line numbers and reasons.

    Results go to `output` in the Batch API's output format, in the order they
    finish. Run the same job again to resume it: custom_ids already in `output`
    are skipped. A request that still fails after `max_retries` retries (429,
    5xx, connection failures) is written as a result too, with its status or
    error; no failure of one request ends the job.

    At most `concurrency` requests are in flight, fewer while the server pushes
    back; `requests_per_minute` and `tokens_per_minute` cap the pace (tokens
    are estimated from each body, exactly when tiktoken is installed, unless
    `count_tokens` is False or a function of its own). `progress=True` draws a
    progress line on stderr (with rich); `on_progress` gets a `BulkProgress`
    several times a second. `job_file` (by default `output + ".job.json"`)
    records the job for `oxide bulk status`; False writes none.

    No failure of a request is raised: it is a result. What ends the job early
    is raised as itself (never inside an exception group): `BulkInputError` for
    bad input, `OSError` when the output cannot be written, an exception raised
    by `on_progress`, the runtime's cancellation.

    Memory grows with the input by 8 bytes a line (each custom_id's 64-bit
    digest, kept for the duplicate check and the resume), plus, on a resume,
    24 to 48 bytes for each result already in `output`; requests, results and
    line offsets are not kept, and an HTTP/2 connection's record of closed
    streams is capped (4,096 streams). A repeated digest is confirmed by comparing the
    ids on another reading of the input, so a collision is never reported as a
    repeated custom_id.

    Returns a `BulkSummary`. Cancelling the run (Ctrl-C) stops it: the results
    written so far are kept (and fsync'd). An async run abandons the requests
    in flight, which the next run sends again; a blocking one lets them
    finish (within the client's timeout) and writes their results.
    """
    limits = RateLimits(
        max_concurrency=concurrency,
        initial_concurrency=min(4, concurrency),
        requests_per_minute=requests_per_minute,
        tokens_per_minute=tokens_per_minute,
    )
    output_path = os.fspath(output)
    job_path: str | None
    if job_file is True:
        job_path = default_job_file(output_path)
    elif job_file is False or job_file is None:
        job_path = None
    else:
        job_path = os.fspath(job_file)
    counter: Callable[[str], int] | None
    if count_tokens is True:
        counter = token_counter()
    elif count_tokens is False or count_tokens is None:
        counter = None
    else:
        counter = count_tokens
    display = None
    callbacks: list[Callable[[BulkProgress], None]] = []
    if progress:
        from .._bulk_display import BulkDisplay

        display = BulkDisplay.open()
        if display is not None:
            callbacks.append(display)
    if on_progress is not None:
        callbacks.append(on_progress)

    def report(state: BulkProgress) -> None:
        for callback in callbacks:
            callback(state)

    input_path, spooled = input_file(input, output_path)
    try:
        runner = AsyncBulkRunner(
            client,
            input_path,
            output_path,
            limits=limits,
            max_retries=max_retries,
            on_progress=report if callbacks else None,
            job_file=job_path,
            count_tokens=counter,
        )
        return await runner.run()
    finally:
        if display is not None:
            display.close()
        if spooled is not None:
            os.unlink(spooled)
