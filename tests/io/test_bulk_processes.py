"""One bulk job across worker processes, against the rate-limited mock server.

`bulk.run_processes` is blocking only (each worker runs the blocking runner,
itself tested on every runtime in test_bulk.py); what is checked here is the
split: every line once across the workers, and their shares of the server's
budget adding up to no more than the limit.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator

import pytest

from oxide_io import Client, bulk
from oxide_io.testing import MockServer, RateLimit
from tests.io.conftest import KEY


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(api_key=KEY, rate_limit=RateLimit(requests=60, window=1.0)) as server:
        yield server


def test_workers_share_the_job_and_the_limit(server: MockServer, tmp_path: pathlib.Path) -> None:
    source = tmp_path / "in.jsonl"
    lines = (
        {
            "custom_id": f"p{n}",
            "method": "POST",
            "url": "/v1/embeddings",
            "body": {"model": "text-embedding-3-small", "input": f"text {n}"},
        }
        for n in range(150)
    )
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    output = tmp_path / "out.jsonl"
    output.write_text(  # done by an earlier run: lines of each worker's share
        "".join(
            json.dumps(
                {"id": "x", "custom_id": key, "response": {"status_code": 200}, "error": None}
            )
            + "\n"
            for key in ("p0", "p4", "p77")
        )
    )
    seen: list[bulk.BulkProgress] = []
    with Client(base_url=server.base_url, api_key=KEY) as client:
        summary = bulk.run_processes(
            client, source, output, processes=3, concurrency=12, on_progress=seen.append
        )
    ids = [json.loads(line)["custom_id"] for line in output.read_text().splitlines()]
    assert sorted(ids) == sorted(f"p{n}" for n in range(150))  # each exactly once
    assert summary.done == 150 and summary.skipped == 3 and summary.failed == 0
    assert summary.sent == 147 + summary.retries
    assert seen[-1].done == 150
    limiter = server.limiter
    assert limiter is not None
    # Three first windows of 4 before any header, plus 5 %.
    assert limiter.rejected <= 3 * 4 + 0.05 * 150


def test_processes_must_be_positive(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="processes must be at least 1"):
        bulk.run_processes(Client(api_key=KEY), tmp_path / "in.jsonl", tmp_path / "o", processes=0)
