"""Bulk jobs through the Batch API, against the mock server's files and batches, on every runtime.

The mock's batches move one state on at each retrieval (validating, in_progress,
finalizing, completed) and answer their lines through the server's own routes,
so scripted failures land in the error file; `batch_expiry` makes them expire.
"""

from __future__ import annotations

import errno
import functools
import json
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

import oxide_io._bulk_files as files
from oxide_io import AsyncClient, Client, bulk
from oxide_io.testing import Fail, MockServer
from oxide_proto import IdIndex
from tests.io.conftest import KEY

pytestmark = pytest.mark.anyio


class Stop(Exception):
    """Raised from a progress callback: the run is interrupted there."""


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(api_key=KEY) as server:
        yield server


def _line(number: int, url: str = "/v1/chat/completions") -> dict[str, Any]:
    if url == "/v1/embeddings":
        body: dict[str, Any] = {"model": "text-embedding-3-small", "input": f"text {number}"}
    else:
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"q {number}"}]}
    return {"custom_id": f"req-{number}", "method": "POST", "url": url, "body": body}


def _write(path: pathlib.Path, lines: list[dict[str, Any]]) -> pathlib.Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _results(path: pathlib.Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _posts(server: MockServer, path: str) -> int:
    return sum(1 for r in server.requests if r.method == "POST" and r.path == path)


async def _run(runtime: str, server: MockServer, source: Any, output: Any, **options: Any) -> Any:
    options.setdefault("poll_interval", 0.001)
    if runtime == "sync":
        with Client(base_url=server.base_url, api_key=KEY) as client:
            return bulk.run_batches(client, source, output, **options)
    async with AsyncClient(base_url=server.base_url, api_key=KEY) as client:
        return await bulk.arun_batches(client, source, output, **options)


async def test_split_upload_poll_merge_in_input_order(
    runtime: str, server: MockServer, tmp_path: pathlib.Path
) -> None:
    source = _write(tmp_path / "in.jsonl", [_line(n) for n in range(7)])
    output = tmp_path / "out.jsonl"
    server.enqueue(Fail(500, path="/v1/chat/completions"))  # the first line answered fails
    summary = await _run(runtime, server, source, output, max_lines=3)
    results = _results(output)
    assert [r["custom_id"] for r in results] == [f"req-{n}" for n in range(7)]
    assert results[0]["response"]["status_code"] == 500  # from the error file
    assert all(r["response"]["status_code"] == 200 for r in results[1:])
    assert (summary.done, summary.failed, summary.total) == (7, 1, 7)
    assert _posts(server, "/v1/files") == _posts(server, "/v1/batches") == 3
    job = bulk.JobFile.load(f"{output}.job.json")
    assert job.state == "done" and [p["lines"] for p in job.batches] == [3, 3, 1]
    assert {p["stage"] for p in job.batches} == {"merged"}
    assert not (tmp_path / "out.jsonl.batches").exists()  # the part files are gone


async def test_one_endpoint_per_file(
    runtime: str, server: MockServer, tmp_path: pathlib.Path
) -> None:
    lines = [_line(n, "/v1/embeddings" if n % 2 else "/v1/chat/completions") for n in range(6)]
    source = _write(tmp_path / "in.jsonl", lines)
    output = tmp_path / "out.jsonl"
    summary = await _run(runtime, server, source, output)
    assert summary.done == 6 and summary.failed == 0
    job = bulk.JobFile.load(f"{output}.job.json")
    assert sorted(p["endpoint"] for p in job.batches) == ["/v1/chat/completions", "/v1/embeddings"]
    by_id = {r["custom_id"]: r for r in _results(output)}
    assert by_id["req-1"]["response"]["body"]["object"] == "list"  # an embedding


async def test_expired_lines_are_error_results(
    runtime: str, server: MockServer, tmp_path: pathlib.Path
) -> None:
    server.batch_expiry = 2
    source = _write(tmp_path / "in.jsonl", [_line(n) for n in range(5)])
    output = tmp_path / "out.jsonl"
    summary = await _run(runtime, server, source, output)
    results = _results(output)
    assert [r["custom_id"] for r in results] == [f"req-{n}" for n in range(5)]
    assert [r["error"]["code"] if r["error"] else None for r in results] == [
        None,
        None,
        "batch_expired",
        "batch_expired",
        "batch_expired",
    ]
    assert summary.failed == 3
    # Expired lines are results like any other: a rerun sends nothing.
    again = await _run(runtime, server, source, output)
    assert again.skipped == 5 and again.sent == 5 and _posts(server, "/v1/batches") == 1
    assert len(_results(output)) == 5


async def test_interrupted_job_resumes_without_new_batches(
    runtime: str, server: MockServer, tmp_path: pathlib.Path
) -> None:
    source = _write(tmp_path / "in.jsonl", [_line(n) for n in range(8)])
    output = tmp_path / "out.jsonl"

    def stop(progress: bulk.BulkProgress) -> None:
        raise Stop

    with pytest.raises(Stop):
        await _run(runtime, server, source, output, max_lines=3, on_progress=stop)
    job = bulk.JobFile.load(f"{output}.job.json")
    assert job.state == "interrupted" and all(p["batch_id"] for p in job.batches)
    # A batch created by a run that died before recording it is found by its metadata.
    job.batches[1]["batch_id"], job.batches[1]["stage"] = None, "uploaded"
    job.save()
    summary = await _run(runtime, server, source, output, max_lines=3)
    assert [r["custom_id"] for r in _results(output)] == [f"req-{n}" for n in range(8)]
    assert summary.done == 8 and summary.skipped == 0
    assert _posts(server, "/v1/files") == _posts(server, "/v1/batches") == 3
    # Done is done: a third run sends nothing.
    again = await _run(runtime, server, source, output, max_lines=3)
    assert again.skipped == 8 and _posts(server, "/v1/batches") == 3


async def test_a_merge_cut_short_is_finished_not_repeated(
    runtime: str, server: MockServer, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The output fills up part-way through merging a batch; the rerun writes
    the rest of it. Every custom_id's digest is alike, so each "already
    written?" is answered by reading the input line again."""
    monkeypatch.setattr(files, "IdIndex", functools.partial(IdIndex, digest=lambda key: 0))
    source = _write(tmp_path / "in.jsonl", [_line(n) for n in range(9)])
    output = tmp_path / "out.jsonl"
    write = files.ResultWriter.write
    writes = 0

    def fill_up(writer: files.ResultWriter, line: bytes, failed: bool = False) -> None:
        nonlocal writes
        writes += 1
        if writes > 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        write(writer, line, failed)

    monkeypatch.setattr(files.ResultWriter, "write", fill_up)
    with pytest.raises(OSError):
        await _run(runtime, server, source, output, max_lines=4)
    assert [r["custom_id"] for r in _results(output)] == [f"req-{n}" for n in range(5)]
    job = bulk.JobFile.load(f"{output}.job.json")
    assert [p["stage"] for p in job.batches] == ["merged", "created", "created"]
    monkeypatch.setattr(files.ResultWriter, "write", write)
    summary = await _run(runtime, server, source, output, max_lines=4)
    assert [r["custom_id"] for r in _results(output)] == [f"req-{n}" for n in range(9)]
    assert (summary.skipped, summary.done) == (5, 9)
    assert _posts(server, "/v1/batches") == 3


async def test_failed_batches_lines_are_error_results_and_retried_when_removed(
    runtime: str, server: MockServer, tmp_path: pathlib.Path
) -> None:
    server.batch_failure = "token_limit_exceeded"
    source = _write(tmp_path / "in.jsonl", [_line(n) for n in range(5)])
    output = tmp_path / "out.jsonl"
    summary = await _run(runtime, server, source, output, max_lines=3)
    results = _results(output)
    assert [r["custom_id"] for r in results] == [f"req-{n}" for n in range(5)]
    assert all(r["response"] is None for r in results)
    assert {r["error"]["code"] for r in results} == {"batch_failed"}
    job = bulk.JobFile.load(f"{output}.job.json")
    for result in results:  # the message names the batch and the API's reason
        message = result["error"]["message"]
        assert "token_limit_exceeded" in message and "ended failed" in message
    assert {results[0]["error"]["message"], results[3]["error"]["message"]} == {
        f"batch {part['batch_id']} ended failed without answering this request "
        "(token_limit_exceeded: The batch failed: token_limit_exceeded.)"
        for part in job.batches
    }
    assert (summary.done, summary.failed) == (5, 5)
    assert job.state == "done" and (job.done, job.failed) == (5, 5)
    assert [(p["stage"], p["status"]) for p in job.batches] == [("merged", "failed")] * 2
    # A failed line is a result: a rerun sends nothing...
    again = await _run(runtime, server, source, output, max_lines=3)
    assert again.skipped == 5 and _posts(server, "/v1/batches") == 2
    # ...until its line is taken out of the output: then it is run again.
    server.batch_failure = None
    output.write_text("".join(json.dumps(r) + "\n" for r in results if r["custom_id"] != "req-3"))
    retried = await _run(runtime, server, source, output, max_lines=3)
    assert (retried.skipped, retried.sent, retried.done, retried.failed) == (4, 1, 5, 4)
    assert _posts(server, "/v1/files") == _posts(server, "/v1/batches") == 3
    by_id = {r["custom_id"]: r for r in _results(output)}
    assert len(by_id) == 5 and by_id["req-3"]["response"]["status_code"] == 200
    job = bulk.JobFile.load(f"{output}.job.json")
    assert [(p["stage"], p["status"], p["lines"]) for p in job.batches] == [
        ("merged", "completed", 1)
    ]


async def test_batch_cancelled_elsewhere_is_merged_by_the_rerun(
    runtime: str, server: MockServer, tmp_path: pathlib.Path
) -> None:
    # The second part's batch is cancelled from outside while the first still
    # runs; the run is stopped before merging it (parts merge in order). The
    # job file says where each part stood, and the rerun merges both without
    # creating a batch: the first's answers, then `batch_cancelled` results.
    source = _write(tmp_path / "in.jsonl", [_line(n) for n in range(6)])
    output = tmp_path / "out.jsonl"
    job_path = f"{output}.job.json"
    polls: list[int] = []

    def cancel_then_stop(progress: bulk.BulkProgress) -> None:
        polls.append(progress.done)
        if len(polls) == 1:
            batch_id = bulk.JobFile.load(job_path).batches[1]["batch_id"]
            with Client(base_url=server.base_url, api_key=KEY) as other:
                assert other.batches.cancel(batch_id).status == "cancelling"
        else:
            raise Stop

    with pytest.raises(Stop):
        await _run(runtime, server, source, output, max_lines=3, on_progress=cancel_then_stop)
    job = bulk.JobFile.load(job_path)
    assert job.state == "interrupted" and not output.read_text()
    assert [(p["stage"], p["status"]) for p in job.batches] == [
        ("created", "finalizing"),
        ("created", "cancelled"),
    ]
    summary = await _run(runtime, server, source, output, max_lines=3)
    results = _results(output)
    assert [r["custom_id"] for r in results] == [f"req-{n}" for n in range(6)]
    assert [r["response"]["status_code"] for r in results[:3]] == [200] * 3
    assert [r["error"]["code"] for r in results[3:]] == ["batch_cancelled"] * 3
    assert (summary.done, summary.failed, summary.skipped) == (6, 3, 0)
    assert _posts(server, "/v1/files") == _posts(server, "/v1/batches") == 2
    job = bulk.JobFile.load(job_path)
    assert job.state == "done" and [p["status"] for p in job.batches] == ["completed", "cancelled"]
