"""`oxide bulk run` and `oxide bulk status`, as processes against a rate-limited MockServer."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from oxide_io.bulk import JobFile
from oxide_io.testing import MockServer, RateLimit
from tests.cli.test_cli import KEY, one_error_line, oxide


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(api_key=KEY, rate_limit=RateLimit(requests=50, window=1.0)) as running:
        yield running


def _input(path: pathlib.Path, count: int) -> pathlib.Path:
    lines = (
        {
            "custom_id": f"q{n}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": str(n)}]},
        }
        for n in range(count)
    )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_run_then_status(server: MockServer, tmp_path: pathlib.Path) -> None:
    source = _input(tmp_path / "in.jsonl", 30)
    output = tmp_path / "out.jsonl"
    result = oxide("bulk", "run", str(source), "-o", str(output), "--rpm", "6000", server=server)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("30/30 done (0 failed, 0 from an earlier run), 30 requests")
    ids = sorted(json.loads(line)["custom_id"] for line in output.read_text().splitlines())
    assert ids == sorted(f"q{n}" for n in range(30))
    status = oxide("bulk", "status", f"{output}.job.json")
    assert status.returncode == 0, status.stderr
    fields = dict(line.split(":", 1) for line in status.stdout.splitlines())
    assert fields["state"].strip() == "done"
    assert (fields["total"].strip(), fields["done"].strip(), fields["remaining"].strip()) == (
        "30",
        "30",
        "0",
    )


def test_bad_input_is_one_error_line(server: MockServer, tmp_path: pathlib.Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"custom_id": "a"}\n')
    result = oxide("bulk", "run", str(source), "-o", str(tmp_path / "out.jsonl"), server=server)
    line = one_error_line(result)
    assert "BulkInputError" in line and "line 1: missing field(s) 'method', 'url'" in line
    assert server.requests == []


def test_status_of_a_file_that_is_not_a_job(tmp_path: pathlib.Path) -> None:
    (tmp_path / "job.json").write_text("[]")
    assert "not a bulk job file" in one_error_line(
        oxide("bulk", "status", str(tmp_path / "job.json"))
    )


@pytest.mark.parametrize(("how", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_keeps_what_was_written_and_the_rerun_finishes(
    how: signal.Signals, status: int, server: MockServer, tmp_path: pathlib.Path
) -> None:
    # SIGTERM (kill, a container stopping) stops the job as Ctrl-C does: the
    # job file says "interrupted" with exactly the output's counts.
    source = _input(tmp_path / "in.jsonl", 150)
    output = tmp_path / "out.jsonl"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "OXIDE_"))}
    environment.update(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=server.base_url)
    command = [sys.executable, "-m", "oxide_io", "bulk", "run", str(source), "-o", str(output)]
    child = subprocess.Popen(command, env=environment, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and child.poll() is None:
            if output.exists() and output.read_bytes().count(b"\n") >= 20:
                break
            time.sleep(0.01)
        child.send_signal(how)
        _, errors = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == status, errors
    assert "Traceback" not in errors
    kept = output.read_bytes().count(b"\n")
    assert 20 <= kept < 150
    job = JobFile.load(f"{output}.job.json")
    assert (job.state, job.done) == ("interrupted", kept)
    shown = oxide("bulk", "status", f"{output}.job.json")
    assert "interrupted" in shown.stdout and f"done:      {kept}" in shown.stdout
    again = oxide("bulk", "run", str(source), "-o", str(output), server=server)
    assert again.returncode == 0, again.stderr
    assert again.stderr.startswith(f"150/150 done (0 failed, {kept} from an earlier run)")
    ids = [json.loads(line)["custom_id"] for line in output.read_text().splitlines()]
    assert sorted(ids) == sorted(f"q{n}" for n in range(150))


def test_batch_api_run_then_status(tmp_path: pathlib.Path) -> None:
    source = _input(tmp_path / "in.jsonl", 12)
    output = tmp_path / "out.jsonl"
    with MockServer(api_key=KEY) as plain:
        result = oxide(
            "bulk",
            "run",
            str(source),
            "-o",
            str(output),
            "--batch-api",
            "--poll-interval",
            "0",
            server=plain,
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr.startswith("12/12 done (0 failed, 0 from an earlier run) through")
        batches = [r for r in plain.requests if r.method == "POST" and r.path == "/v1/batches"]
        assert len(batches) == 1
    ids = [json.loads(line)["custom_id"] for line in output.read_text().splitlines()]
    assert ids == [f"q{n}" for n in range(12)]
    status = oxide("bulk", "status", f"{output}.job.json")
    assert "part 0:    12 lines, merged, batch batch_" in status.stdout
    assert "(completed)" in status.stdout
