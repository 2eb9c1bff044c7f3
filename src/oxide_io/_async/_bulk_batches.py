"""Bulk jobs through the Batch API: split, upload, create batches, poll, merge the results back.

`run_batches(client, input, output)` takes the same input as `run_bulk` and
writes the same output, but lets the API run the requests (at half the price,
within 24 hours): the requests still to do are split into files the Batch
API accepts (at most 50,000 lines and 200 MB, one endpoint and one model
each), each is uploaded and made a batch, the batches are polled until they
end, and their output and error files are merged into `output`, part by part,
each part in input order.

Every step is recorded in the job file before the next one starts, so a
rerun (after a crash, a Ctrl-C, or just to check on it hours later) picks up
each part where it stood: planned, uploaded, batch created, merged. A batch is
created with metadata naming the job and the part, and a rerun that finds no
batch id recorded looks for that metadata before creating one, so no part is
ever run twice. Merging skips custom_ids already in the output, so a merge cut
short is finished, not repeated. Lines a batch did not answer (it failed,
expired or was cancelled) are written as error results.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from oxide_proto import DoneLines, parse_result_line, result_line

from .._bulk_files import (
    BulkInput,
    BulkProgress,
    BulkSummary,
    DoneIds,
    JobFile,
    ProgressMeter,
    ResultWriter,
    checked_input,
    default_job_file,
    input_file,
    read_input,
    resume_output,
)

if TYPE_CHECKING:
    from ._clients import AsyncClient

__all__ = ["MAX_BATCH_BYTES", "MAX_BATCH_LINES", "run_batches"]

MAX_BATCH_LINES = 50_000
MAX_BATCH_BYTES = 200 * 1024 * 1024
_TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
# How many pages of the newest batches (100 a page) a rerun looks through for
# one it created but did not get to record.
_LOOKUP_PAGES = 10


def _plan(
    job: JobFile, input_path: str, done: DoneLines, max_lines: int, max_bytes: int
) -> list[dict[str, Any]]:
    """Writes the requests not yet done into part files, one endpoint and model each."""
    directory = job.output + ".batches"
    os.makedirs(directory, exist_ok=True)
    parts: list[dict[str, Any]] = []
    open_parts: dict[tuple[str, str], tuple[dict[str, Any], Any]] = {}
    try:
        for request in read_input(input_path, skip=done):
            model = str((request.body or {}).get("model", ""))
            key = (request.url, model)
            line = (
                json.dumps(
                    {
                        "custom_id": request.custom_id,
                        "method": request.method,
                        "url": request.url,
                        "body": request.body,
                    },
                    separators=(",", ":"),
                ).encode("utf-8")
                + b"\n"
            )
            if len(line) > max_bytes:
                raise ValueError(
                    f"{input_path}: line {request.line} is {len(line)} bytes, "
                    f"over the Batch API's {max_bytes} a file"
                )
            current = open_parts.get(key)
            if current is not None and (
                current[0]["lines"] >= max_lines or current[0]["bytes"] + len(line) > max_bytes
            ):
                current[1].close()
                current = None
            if current is None:
                number = len(parts)
                path = os.path.join(directory, f"part-{number:05}.jsonl")
                part: dict[str, Any] = {
                    "part": number,
                    "path": path,
                    "endpoint": request.url,
                    "lines": 0,
                    "bytes": 0,
                    "stage": "planned",
                    "file_id": None,
                    "batch_id": None,
                    "status": None,
                }
                parts.append(part)
                current = open_parts[key] = (part, open(path, "wb"))  # noqa: SIM115
            current[1].write(line)
            current[0]["lines"] += 1
            current[0]["bytes"] += len(line)
    finally:
        for _, handle in open_parts.values():
            handle.close()
    return parts


class _Merge:
    """Writes one finished part's results into the output, in the part's order."""

    def __init__(self, part: dict[str, Any], writer: ResultWriter, done: DoneIds) -> None:
        self.part = part
        self.writer = writer
        self.done = done

    def run(self, result_files: list[str], batch: Any, meter: ProgressMeter) -> None:
        order: dict[str, int] = {}
        ids: list[str] = []
        with open(self.part["path"], "rb") as file:
            for data in file:
                custom_id = json.loads(data)["custom_id"]
                order[custom_id] = len(ids)
                ids.append(custom_id)
        # Where each answer is: (file index, offset, length), by the request's position.
        found: list[tuple[int, int, int] | None] = [None] * len(ids)
        for index, path in enumerate(result_files):
            with open(path, "rb") as file:
                offset = 0
                for data in file:
                    with contextlib.suppress(ValueError):
                        position = order.get(parse_result_line(data)[0])
                        if position is not None:
                            found[position] = (index, offset, len(data))
                    offset += len(data)
        handles = [open(path, "rb") for path in result_files]  # noqa: SIM115
        try:
            for position, custom_id in enumerate(ids):
                if not self.done.claim(custom_id):
                    continue  # written by a merge cut short
                where = found[position]
                if where is not None:
                    handle = handles[where[0]]
                    handle.seek(where[1])
                    line = handle.read(where[2]).rstrip(b"\r\n") + b"\n"
                    failed = parse_result_line(line)[1]
                else:
                    line = result_line(
                        id="",
                        custom_id=custom_id,
                        error_code=f"batch_{batch.status}",
                        error_message=_batch_problem(batch),
                    )
                    failed = True
                self.writer.write(line, failed)
                meter.record(failed)
        finally:
            for handle in handles:
                handle.close()


def _counts(writer: ResultWriter, done: int, failed: int) -> tuple[int, int]:
    """`(done, failed)` for the job: earlier runs' and the lines `writer` wrote."""
    lines, failures = writer.counts
    return done + lines, failed + failures


def _batch_problem(batch: Any) -> str:
    errors = getattr(batch, "errors", None)
    data = getattr(errors, "data", None) or []
    details = "; ".join(
        f"{getattr(e, 'code', '')}: {getattr(e, 'message', '')}"
        + ("" if getattr(e, "line", None) is None else f" (line {e.line})")
        for e in data
    )
    return f"batch {batch.id} ended {batch.status} without answering this request" + (
        f" ({details})" if details else ""
    )


async def run_batches(
    client: AsyncClient,
    input: BulkInput,
    output: str | os.PathLike[str],
    *,
    job_file: str | os.PathLike[str] | None = None,
    poll_interval: float = 30.0,
    max_lines: int = MAX_BATCH_LINES,
    max_bytes: int = MAX_BATCH_BYTES,
    on_progress: Callable[[BulkProgress], None] | None = None,
) -> BulkSummary:
    """Runs a bulk job through the Batch API (see the module docstring).

    Returns when every batch has ended and been merged; cancel it (Ctrl-C) at
    any time and run it again to resume: the job file (`output + ".job.json"`
    by default) records each part's file and batch. `max_lines` and
    `max_bytes` are the Batch API's limits for one input file.
    """
    output_path = os.fspath(output)
    job_path = os.fspath(job_file) if job_file is not None else default_job_file(output_path)
    input_path, spooled = input_file(input, output_path)
    try:
        return await _Batches(client, input_path, output_path, job_path, on_progress).run(
            poll_interval, max_lines, max_bytes, keep_input=spooled is None
        )
    finally:
        if spooled is not None:
            os.unlink(spooled)


class _Batches:
    def __init__(
        self,
        client: AsyncClient,
        input_path: str,
        output: str,
        job_path: str,
        on_progress: Callable[[BulkProgress], None] | None,
    ) -> None:
        self._client = client
        self._backend = client._transport.backend
        self._input = input_path
        self._output = output
        self._job_path = job_path
        self._on_progress = on_progress
        self._resumed = (0, 0)  # (done, failed) by earlier runs

    async def run(
        self, poll_interval: float, max_lines: int, max_bytes: int, *, keep_input: bool
    ) -> BulkSummary:
        total, ids = checked_input(self._input)
        done_lines, done_count, failed_count = resume_output(self._output, ids)
        # Merging looks results up by custom_id: through the input's ids, kept.
        done = DoneIds(ids, done_lines)
        meter = ProgressMeter(total, done_count, failed_count)
        job = self._job(total)
        pending = [part for part in job.batches if part["stage"] != "merged"]
        if not pending and done_count < total:
            job.batches = _plan(job, self._input, done_lines, max_lines, max_bytes)
            job.state = "running"
            job.save()  # the parts are on disk and recorded before anything is sent
        if not keep_input:
            job.input = "(an iterable)"
        writer = ResultWriter(self._output)
        self._resumed = (done_count, failed_count)
        interrupted = True
        try:
            for part in job.batches:
                if part["stage"] == "planned":
                    await self._upload(job, part)
                if part["stage"] == "uploaded":
                    await self._create(job, part)
            await self._follow(job, writer, done, meter, poll_interval)
            interrupted = False
            with contextlib.suppress(OSError):
                os.rmdir(job.output + ".batches")
        finally:
            ids.close()
            async with self._backend.shielded():
                # Not in a worker thread: see the bulk runner's cleanup.
                writer.close()
                # The output's own counts, a write cut short by a Ctrl-C settled.
                meter.done, meter.failed = _counts(writer, done_count, failed_count)
                job.done, job.failed = meter.done, meter.failed
                job.state = "interrupted" if interrupted else "done"
                job.save()
        return BulkSummary(
            total=total,
            done=meter.done,
            failed=meter.failed,
            skipped=done_count,
            sent=sum(part["lines"] for part in job.batches),
            retries=0,
            rate_limited=0,
            elapsed=time.monotonic() - meter.started,
            output=self._output,
            job_file=self._job_path,
            interrupted=interrupted,
        )

    def _job(self, total: int) -> JobFile:
        if os.path.exists(self._job_path):
            job = JobFile.load(self._job_path)
            if job.output == os.path.abspath(self._output) and job.mode == "batch":
                return job
        job = JobFile(
            path=self._job_path,
            input=os.path.abspath(self._input),
            output=os.path.abspath(self._output),
            total=total,
            mode="batch",
            job_id=os.urandom(8).hex(),
        )
        job.save()
        return job

    async def _upload(self, job: JobFile, part: dict[str, Any]) -> None:
        uploaded = await self._client.files.create(file=pathlib.Path(part["path"]), purpose="batch")
        part["file_id"], part["stage"] = uploaded.id, "uploaded"
        job.save()

    def _metadata(self, job: JobFile, part: dict[str, Any]) -> dict[str, str]:
        return {"oxide_bulk_job": job.job_id, "oxide_bulk_part": str(part["part"])}

    async def _create(self, job: JobFile, part: dict[str, Any]) -> None:
        wanted = self._metadata(job, part)
        # A batch created by a run that stopped before recording it.
        page = await self._client.batches.list(limit=100)
        for _ in range(_LOOKUP_PAGES):
            for batch in page.data:
                if batch.metadata == wanted and batch.input_file_id == part["file_id"]:
                    part["batch_id"], part["stage"] = batch.id, "created"
                    job.save()
                    return
            if not page.has_next_page():
                break
            page = await page.get_next_page()
        batch = await self._client.batches.create(
            input_file_id=part["file_id"],
            endpoint=part["endpoint"],
            completion_window="24h",
            metadata=wanted,
        )
        part["batch_id"], part["stage"], part["status"] = batch.id, "created", batch.status
        job.save()

    async def _follow(
        self,
        job: JobFile,
        writer: ResultWriter,
        done: DoneIds,
        meter: ProgressMeter,
        poll_interval: float,
    ) -> None:
        while True:
            waiting = False
            merging = True  # parts are merged in order: stop at the first unfinished one
            for part in job.batches:
                if part["stage"] == "merged":
                    continue
                batch = await self._client.batches.retrieve(part["batch_id"])
                if part["status"] != batch.status:
                    part["status"] = batch.status
                    job.save()
                if batch.status not in _TERMINAL:
                    waiting = True
                    merging = False
                    continue
                if merging:
                    await self._merge(job, part, batch, writer, done, meter)
                else:
                    waiting = True
            if self._on_progress is not None:
                self._on_progress(meter.snapshot(0))
            if not waiting:
                return
            await self._backend.sleep(poll_interval)

    async def _merge(
        self,
        job: JobFile,
        part: dict[str, Any],
        batch: Any,
        writer: ResultWriter,
        done: DoneIds,
        meter: ProgressMeter,
    ) -> None:
        files = []
        try:
            for kind, file_id in (("output", batch.output_file_id), ("error", batch.error_file_id)):
                if not file_id:
                    continue
                path = f"{part['path']}.{kind}"
                async with self._client.files.with_streaming_response.content(file_id) as response:
                    await response.stream_to_file(path)
                files.append(path)
            _Merge(part, writer, done).run(files, batch, meter)
            await self._backend.run_blocking(writer.sync)
            part["stage"] = "merged"
            job.done, job.failed = _counts(writer, *self._resumed)
            job.save()
        finally:
            for path in files:
                with contextlib.suppress(OSError):
                    os.unlink(path)
        with contextlib.suppress(OSError):
            os.unlink(part["path"])
