"""`oxide bulk`: run a JSONL file of Batch API requests at the server's pace, and check on it.

    oxide bulk run requests.jsonl -o results.jsonl --rpm 500 --tpm 200000
    oxide bulk run requests.jsonl -o results.jsonl --batch-api
    oxide bulk status results.jsonl.job.json

`run` is `oxide_io.bulk.run` with the top-level client options (`--base-url`,
`--timeout`, ...); run it again to resume. Ctrl-C stops it keeping every result
written, and so does SIGTERM (`kill`, a container being stopped), which would
otherwise end the process before the job file is brought up to date. `status`
reads the job file `run` keeps next to the output and counts the output's
results.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any, Protocol

import click

__all__ = ["bulk"]


class _Settings(Protocol):
    max_retries: int | None

    def client(self) -> Any: ...

    def show_progress(self) -> bool: ...


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where a Ctrl-C would be, so the job stops the same way."""


@contextlib.contextmanager
def _terminate_as_ctrl_c() -> Iterator[None]:
    """Makes SIGTERM stop the job as Ctrl-C does while the block runs."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread sets handlers (and takes signals)
        return

    def stop(signum: int, frame: object) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.group()
def bulk() -> None:
    """Bulk jobs: many requests from a JSONL file, results to another."""


@bulk.command("run")
@click.argument("input_path", metavar="INPUT.jsonl", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="Where results go (appended; a rerun skips the custom_ids it has).",
)
@click.option("--rpm", type=click.FloatRange(min=0, min_open=True), help="Requests per minute.")
@click.option("--tpm", type=click.FloatRange(min=0, min_open=True), help="Tokens per minute.")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Most requests in flight at once.",
)
@click.option(
    "--batch-api",
    is_flag=True,
    help="Run through the Batch API (half the price, within 24 hours) instead.",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="With --batch-api: seconds between checks on the batches.",
)
@click.pass_obj
def run(
    settings: _Settings,
    input_path: str,
    output: str,
    rpm: float | None,
    tpm: float | None,
    concurrency: int,
    batch_api: bool,
    poll_interval: float,
) -> None:
    """Send every request of INPUT.jsonl (Batch API input format) and write the results.

    The pace follows the server's rate-limit headers and 429s, within --rpm,
    --tpm and --concurrency. Each request is retried (`oxide --max-retries N`,
    default 5) on 429, 5xx and connection failures; what still fails is
    written as a result with its status. Exits 0 when every line has a result.

    With --batch-api the requests go through the Batch API: split into files
    within its limits, uploaded, run as batches, polled every --poll-interval
    seconds and merged back (each part in input order). Stop it at any time
    and run it again: the job file records every file and batch.

    Ctrl-C or SIGTERM stops it (exit 130 or 143) keeping every result written;
    run it again to resume.
    """
    try:
        with _terminate_as_ctrl_c():
            _run(settings, input_path, output, rpm, tpm, concurrency, batch_api, poll_interval)
    except _Terminated:
        # The job file says "interrupted", with the output's counts.
        raise click.exceptions.Exit(128 + signal.SIGTERM) from None


def _run(
    settings: _Settings,
    input_path: str,
    output: str,
    rpm: float | None,
    tpm: float | None,
    concurrency: int,
    batch_api: bool,
    poll_interval: float,
) -> None:
    from .. import bulk as bulk_jobs

    retries = settings.max_retries if settings.max_retries is not None else 5
    with settings.client() as client:
        if batch_api:
            summary = bulk_jobs.run_batches(client, input_path, output, poll_interval=poll_interval)
            click.echo(
                f"{summary.done}/{summary.total} done ({summary.failed} failed, "
                f"{summary.skipped} from an earlier run) through the Batch API "
                f"in {summary.elapsed:.1f} s; results in {summary.output}",
                err=True,
            )
            if not summary.complete:
                raise click.exceptions.Exit(1)
            return
        summary = bulk_jobs.run(
            client,
            input_path,
            output,
            concurrency=concurrency,
            requests_per_minute=rpm,
            tokens_per_minute=tpm,
            max_retries=retries,
            progress=settings.show_progress(),
        )
    click.echo(
        f"{summary.done}/{summary.total} done ({summary.failed} failed, "
        f"{summary.skipped} from an earlier run), {summary.sent} requests sent "
        f"({summary.retries} retries, {summary.rate_limited} rate-limited) "
        f"in {summary.elapsed:.1f} s; results in {summary.output}",
        err=True,
    )
    if not summary.complete:
        raise click.exceptions.Exit(1)


@bulk.command()
@click.argument("job_file", metavar="JOBFILE", type=click.Path(exists=True, dir_okay=False))
def status(job_file: str) -> None:
    """Show where the job recorded in JOBFILE (OUTPUT.job.json) stands.

    The counts come from the output file itself, so they are current even
    while the job runs.
    """
    from .._bulk_files import JobFile, count_results

    try:
        job = JobFile.load(job_file)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    done, failed = count_results(job.output) if os.path.exists(job.output) else (0, 0)
    updated = datetime.datetime.fromtimestamp(job.updated_at, datetime.timezone.utc)
    rows = [
        ("state", job.state),
        ("input", job.input),
        ("output", job.output),
        ("total", str(job.total)),
        ("done", str(done)),
        ("failed", str(failed)),
        ("remaining", str(max(0, job.total - done))),
        ("updated", updated.isoformat(timespec="seconds")),
    ]
    for part in job.batches:
        name = f"part {part['part']}"
        rows.append(
            (
                name,
                f"{part['lines']} lines, {part['stage']}, batch {part['batch_id'] or '-'}"
                f" ({part['status'] or 'not created'})",
            )
        )
    for name, value in rows:
        click.echo(f"{name + ':':<11}{value}")
