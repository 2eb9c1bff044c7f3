"""Bulk jobs: a JSONL file of requests in, a JSONL file of results out, at the server's pace.

    from oxide_io import Client, bulk

    summary = bulk.run(Client(), "requests.jsonl", "results.jsonl", requests_per_minute=500)

`run` takes a blocking `Client` (its requests go out from a pool of threads),
`arun` an `AsyncClient` (on asyncio or trio). Both read the Batch API's input
format and write its output format, resume where an earlier run stopped, and
return a `BulkSummary`; see `run` for every option and docs/bulk.md for the
rate policy and the guarantees. `run_batches` / `arun_batches` run the same
job through the Batch API instead (half the price, answers within 24 hours);
`run_processes` splits it across worker processes.
"""

from __future__ import annotations

from oxide_proto import BulkInputError as BulkInputError
from oxide_proto import InputProblem as InputProblem

from ._async._bulk import run_bulk as arun
from ._async._bulk_batches import MAX_BATCH_BYTES as MAX_BATCH_BYTES
from ._async._bulk_batches import MAX_BATCH_LINES as MAX_BATCH_LINES
from ._async._bulk_batches import run_batches as arun_batches
from ._bulk_files import BulkOutputError as BulkOutputError
from ._bulk_files import BulkProgress as BulkProgress
from ._bulk_files import BulkSummary as BulkSummary
from ._bulk_files import JobFile as JobFile
from ._bulk_processes import run_processes as run_processes
from ._sync._bulk import run_bulk as run
from ._sync._bulk_batches import run_batches as run_batches

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_BATCH_LINES",
    "BulkInputError",
    "BulkOutputError",
    "BulkProgress",
    "BulkSummary",
    "InputProblem",
    "JobFile",
    "arun",
    "arun_batches",
    "run",
    "run_batches",
    "run_processes",
]
