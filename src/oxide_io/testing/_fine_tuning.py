"""`GET /v1/fine_tuning/jobs` and `GET /v1/fine_tuning/jobs/{id}`: a fixed set of jobs.

The list pages as the API does: newest first, `limit` jobs (20 by default)
after the job named by `after`, with `has_more` telling whether another page
follows (the API gives no `first_id`/`last_id` here; the client asks for the
next page with `after` set to the last job's id). `FINE_TUNING_JOBS` has more
jobs than one default page holds, so a client's automatic pagination is seen
to fetch a second page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._wire import Answer, error_answer, json_answer

__all__ = ["FINE_TUNING_JOBS", "fine_tuning_answer"]

_CREATED = 1_715_367_049
_DEFAULT_LIMIT = 20
_MAX_LIMIT = 100
# Newest first: ftjob-025 was created last.
FINE_TUNING_JOBS: tuple[str, ...] = tuple(f"ftjob-{n:03d}" for n in range(25, 0, -1))


def _job(ident: str) -> dict[str, Any]:
    number = int(ident.rpartition("-")[2])
    created = _CREATED + 60 * number
    return {
        "id": ident,
        "object": "fine_tuning.job",
        "created_at": created,
        "error": None,
        "fine_tuned_model": f"ft:gpt-4o-mini-2024-07-18:mock::{number:08d}",
        "finished_at": created + 600,
        "hyperparameters": {"batch_size": 1, "learning_rate_multiplier": 1.8, "n_epochs": 3},
        "model": "gpt-4o-mini-2024-07-18",
        "organization_id": "org-mock",
        "result_files": [f"file-result-{number:03d}"],
        "status": "succeeded",
        "trained_tokens": 5768,
        "training_file": f"file-train-{number:03d}",
        "validation_file": None,
        "seed": number,
        "integrations": [],
        "estimated_finish": None,
        "method": {
            "type": "supervised",
            "supervised": {
                "hyperparameters": {
                    "batch_size": 1,
                    "learning_rate_multiplier": 1.8,
                    "n_epochs": 3,
                }
            },
        },
        "metadata": None,
    }


def fine_tuning_answer(method: str, path: str, query: Mapping[str, str]) -> Answer | None:
    """The answer to a fine-tuning jobs request; None for other paths."""
    parts = path.strip("/").split("/")[1:]  # without "v1"
    if method != "GET" or parts[:2] != ["fine_tuning", "jobs"]:
        return None
    if len(parts) == 2:
        return _list(query)
    if len(parts) == 3:
        if parts[2] not in FINE_TUNING_JOBS:
            return error_answer(
                404, f"Could not find fine-tune: {parts[2]}", param="fine_tune_id", code=None
            )
        return json_answer(_job(parts[2]))
    return None


def _list(query: Mapping[str, str]) -> Answer:
    idents = list(FINE_TUNING_JOBS)
    after = query.get("after")
    if after is not None:
        if after not in idents:
            return error_answer(
                400, f"Invalid 'after': no fine-tuning job {after!r}.", param="after"
            )
        idents = idents[idents.index(after) + 1 :]
    raw = query.get("limit", str(_DEFAULT_LIMIT))
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= _MAX_LIMIT:
        return error_answer(
            400,
            f"Invalid 'limit': integer between 1 and {_MAX_LIMIT} expected, got {raw!r}.",
            param="limit",
        )
    page = idents[:limit]
    return json_answer(
        {"object": "list", "data": [_job(ident) for ident in page], "has_more": len(idents) > limit}
    )
