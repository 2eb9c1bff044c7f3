"""The Batch API of the mock server: batches that move through their states as they are polled.

`POST /v1/batches` takes an uploaded file (purpose "batch") of requests in the
Batch API's input format and answers a batch in `validating`. Each retrieval
(`GET /v1/batches/{id}`) moves it one state on: `validating`, `in_progress`,
`finalizing`, then `completed`, when every line is answered by the mock
server's own routes (scripted behaviours such as `Fail` apply to them, as to
any request) and the results are written to an output file (2xx answers) and
an error file (the others), both downloadable from `/v1/files/{id}/content`.
An input file with a line that is not a request, or with lines for another
endpoint, ends the batch `failed` with its `errors`. `POST
/v1/batches/{id}/cancel` puts a batch still running in `cancelling`, and the
next retrieval finds it `cancelled`, with no line answered; `GET /v1/batches`
lists batches, newest first, paged by `after` and `limit`.

`MockServer.batch_expiry = n` makes the next batches end `expired` after
answering only their first `n` lines: the others are in the error file with
the code `batch_expired`, as the API does when the completion window passes.
`MockServer.batch_failure = code` makes the next batches end `failed` when
validated, with that code in their `errors` (the API fails a batch so when,
say, the organization's queue of batch tokens is full: `token_limit_exceeded`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import attrs

from ._files_api import FilesState, _File
from ._wire import Answer, dumps, error_answer, json_answer, new_id

__all__ = ["BatchesState", "batches_answer"]

_STATES = ("validating", "in_progress", "finalizing", "completed")
_ENDPOINTS = (
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
)
_CREATED = 1_715_367_049

# Answers one input line: (status, body) from the server's own routes.
AnswerLine = Callable[[str, str, Any], tuple[int, Any, str]]


@attrs.define
class BatchesState:
    batches: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    order: list[str] = attrs.field(factory=list)
    expiry: int | None = None
    failure: str | None = None


def _counts(total: int, completed: int, failed: int) -> dict[str, int]:
    return {"total": total, "completed": completed, "failed": failed}


def batches_answer(
    batches: BatchesState,
    files: FilesState,
    method: str,
    path: str,
    body: Any,
    query: Any,
    answer_line: AnswerLine,
) -> Answer | None:
    """The answer to a /v1/batches request; None for other paths."""
    parts = path.strip("/").split("/")[1:]
    if parts[:1] != ["batches"]:
        return None
    if method == "POST" and parts == ["batches"]:
        return _create(batches, files, body if isinstance(body, dict) else {})
    if method == "GET" and parts == ["batches"]:
        return _list(batches, query)
    with files.lock:
        batch = batches.batches.get(parts[1]) if len(parts) > 1 else None
    if batch is None:
        return error_answer(404, f"No batch found with id '{parts[1] if len(parts) > 1 else ''}'.")
    if method == "GET" and len(parts) == 2:
        _advance(batches, files, batch, answer_line)
        return json_answer(_public(batch))
    if method == "POST" and parts[2:] == ["cancel"]:
        if batch["status"] in ("validating", "in_progress", "finalizing"):
            batch["status"] = "cancelling"
            batch["cancelling_at"] = _CREATED + 1
        return json_answer(_public(batch))
    return error_answer(404, f"Invalid URL ({method} {path})")


def _create(batches: BatchesState, files: FilesState, body: dict[str, Any]) -> Answer:
    for name in ("input_file_id", "endpoint", "completion_window"):
        if name not in body:
            return error_answer(400, f"Missing required parameter: '{name}'.", param=name)
    if body["endpoint"] not in _ENDPOINTS:
        return error_answer(400, f"Invalid endpoint: {body['endpoint']!r}.", param="endpoint")
    if body["completion_window"] != "24h":
        return error_answer(400, "completion_window must be '24h'.", param="completion_window")
    with files.lock:
        source = files.files.get(body["input_file_id"])
    if source is None:
        return error_answer(404, f"No such File object: {body['input_file_id']}")
    if source.purpose != "batch":
        return error_answer(400, "The input file must have the purpose 'batch'.")
    batch = {
        "id": new_id("batch_"),
        "object": "batch",
        "endpoint": body["endpoint"],
        "errors": None,
        "input_file_id": source.id,
        "completion_window": "24h",
        "status": "validating",
        "output_file_id": None,
        "error_file_id": None,
        "created_at": _CREATED,
        "request_counts": _counts(0, 0, 0),
        "metadata": body.get("metadata"),
    }
    with files.lock:
        batches.batches[batch["id"]] = batch
        batches.order.append(batch["id"])
        batch["_expiry"] = batches.expiry
        batch["_failure"] = batches.failure
    return json_answer(_public(batch))


def _public(batch: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in batch.items() if not key.startswith("_")}


def _list(batches: BatchesState, query: Any) -> Answer:
    limit = int(query.get("limit", 20))
    after = query.get("after")
    ids = list(reversed(batches.order))
    if after in ids:
        ids = ids[ids.index(after) + 1 :]
    page = [_public(batches.batches[i]) for i in ids[:limit]]
    return json_answer(
        {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(ids) > limit,
        }
    )


def _advance(
    batches: BatchesState, files: FilesState, batch: dict[str, Any], answer_line: AnswerLine
) -> None:
    status = batch["status"]
    if status == "cancelling":
        batch["status"] = "cancelled"
        batch["cancelled_at"] = _CREATED + 2
        return
    if status not in _STATES or status == "completed":
        return
    following = _STATES[_STATES.index(status) + 1]
    if following == "in_progress":
        problem = _validate(files, batch)
        if problem is None and batch["_failure"] is not None:
            message = f"The batch failed: {batch['_failure']}."
            problem = {"code": batch["_failure"], "message": message, "line": None}
        if problem is not None:
            batch["status"] = "failed"
            batch["errors"] = {"object": "list", "data": [problem]}
            return
    if following == "completed":
        _run(files, batch, answer_line)
        return
    batch["status"] = following


def _lines(files: FilesState, batch: dict[str, Any]) -> list[bytes]:
    with files.lock:
        content = files.files[batch["input_file_id"]].content
    return [line for line in content.splitlines() if line.strip()]


def _validate(files: FilesState, batch: dict[str, Any]) -> dict[str, Any] | None:
    lines = _lines(files, batch)
    for number, line in enumerate(lines, 1):
        try:
            request = json.loads(line)
            url, _, _ = request["url"], request["custom_id"], request["body"]
        except (ValueError, KeyError, TypeError):
            return {"code": "invalid_json_line", "message": "Not a request.", "line": number}
        if url != batch["endpoint"]:
            message = f"The url {url!r} does not match the batch's endpoint."
            return {"code": "mismatched_endpoint", "message": message, "line": number}
    batch["request_counts"] = _counts(len(lines), 0, 0)
    return None


def _run(files: FilesState, batch: dict[str, Any], answer_line: AnswerLine) -> None:
    output: list[bytes] = []
    errors: list[bytes] = []
    expiry = batch.get("_expiry")
    expired = False
    for number, line in enumerate(_lines(files, batch)):
        request = json.loads(line)
        record: dict[str, Any] = {"id": new_id("batch_req_"), "custom_id": request["custom_id"]}
        if expiry is not None and number >= expiry:
            record["response"] = None
            record["error"] = {"code": "batch_expired", "message": "This request expired."}
            errors.append(dumps(record))
            expired = True
            continue
        status, body, request_id = answer_line(request["method"], request["url"], request["body"])
        record["response"] = {"status_code": status, "request_id": request_id, "body": body}
        record["error"] = None
        (output if status < 400 else errors).append(dumps(record))
    with files.lock:
        for kind, lines in (("output", output), ("error", errors)):
            if lines:
                content = b"\n".join(lines) + b"\n"
                file = _File(new_id("file-"), f"batch_{kind}.jsonl", f"batch_{kind}", content, None)
                files.files[file.id] = file
                batch[f"{kind}_file_id"] = file.id
    batch["request_counts"] = _counts(len(output) + len(errors), len(output), len(errors))
    batch["status"] = "expired" if expired else "completed"
