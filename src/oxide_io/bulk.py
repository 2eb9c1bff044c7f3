"""Bulk jobs: a JSONL file of requests in, a JSONL file of results out, at the server's pace.

    from oxide_io import Client, bulk

    summary = bulk.run(Client(), "requests.jsonl", "results.jsonl", requests_per_minute=500)

`run` takes a blocking `Client` (its requests go out from a pool of threads),
`arun` an `AsyncClient` (on asyncio or trio). Both read the Batch API's input
format and write its output format, resume where an earlier run stopped, and
return a `BulkSummary`; see `run` for every option and docs/bulk.md for the
rate policy and the guarantees.
"""

from __future__ import annotations

from oxide_proto import BulkInputError as BulkInputError
from oxide_proto import InputProblem as InputProblem

from ._async._bulk import run_bulk as arun
from ._bulk_files import BulkOutputError as BulkOutputError
from ._bulk_files import BulkProgress as BulkProgress
from ._bulk_files import BulkSummary as BulkSummary
from ._bulk_files import JobFile as JobFile
from ._sync._bulk import run_bulk as run

__all__ = [
    "BulkInputError",
    "BulkOutputError",
    "BulkProgress",
    "BulkSummary",
    "InputProblem",
    "JobFile",
    "arun",
    "run",
]
