"""Bulk jobs against the mock server enforcing a scripted rate limit, on every runtime.

The server (`MockServer(rate_limit=...)`) admits so many requests and tokens per
window and answers with the API's x-ratelimit-* headers and 429s; tests add
scripted 429s and 5xx on top. What is checked is what the server and the
output file saw: every line answered exactly once, few requests over the
limit, input errors before any request, and a job killed part-way (SIGKILL or
Ctrl-C, in a child process) finishing on the rerun with nothing lost or
repeated. Jobs are small (at most a few hundred lines) and every wait bounded.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

import oxide_io._bulk_files as files
from oxide_io import AsyncClient, Client, bulk
from oxide_io.testing import Fail, MockServer, RateLimit
from oxide_proto import IdIndex, result_line
from tests.io.conftest import KEY

pytestmark = pytest.mark.anyio

ROOT = pathlib.Path(__file__).resolve().parents[2]


class Stop(Exception):
    """Raised from a progress callback: a caller's own error, from inside the run."""


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(api_key=KEY, http2=True) as server:
        yield server


def _line(number: int, **body: Any) -> dict[str, Any]:
    return {
        "custom_id": f"req-{number}",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": f"question {number}"}],
            **body,
        },
    }


def _write_input(path: pathlib.Path, count: int, **body: Any) -> pathlib.Path:
    with path.open("w") as file:
        for number in range(count):
            file.write(json.dumps(_line(number, **body)) + "\n")
    return path


def _results(path: pathlib.Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def _run(runtime: str, server: MockServer, source: Any, output: Any, **options: Any) -> Any:
    """`bulk.run` with a blocking Client, or `bulk.arun` with an AsyncClient."""
    options.setdefault("job_file", False)
    if runtime == "sync":
        with Client(base_url=server.base_url, api_key=KEY) as client:
            return bulk.run(client, source, output, **options)
    async with AsyncClient(base_url=server.base_url, api_key=KEY) as client:
        return await bulk.arun(client, source, output, **options)


async def test_every_line_once_under_a_rate_limit_with_faults(
    runtime: str, server: MockServer, tmp_path: pathlib.Path
) -> None:
    server.rate_limit = RateLimit(requests=60, window=1.0)
    server.enqueue(Fail(500, times=3), Fail(429, retry_after_ms=50, times=2), Fail(503, times=2))
    source = _write_input(tmp_path / "in.jsonl", 150)
    output = tmp_path / "out.jsonl"
    summary = await _run(runtime, server, source, output)
    results = _results(output)
    assert sorted(r["custom_id"] for r in results) == sorted(f"req-{n}" for n in range(150))
    assert all(r["response"]["status_code"] == 200 and r["error"] is None for r in results)
    assert all(r["response"]["request_id"] and r["id"].startswith("bulk_req_") for r in results)
    assert summary.done == summary.total == 150 and summary.failed == 0
    assert summary.retries >= 7  # the scripted faults, each retried
    limiter = server.limiter
    assert limiter is not None
    # The stated margin: the first window (4 requests before any header) plus 5 %.
    assert limiter.rejected <= 4 + 0.05 * 150
    assert len(server.requests) == summary.sent


async def test_token_budget_is_respected(
    runtime: str, server: MockServer, tmp_path: pathlib.Path
) -> None:
    # 100 tokens a request (max_tokens 96 and a short prompt): 20 a second fit.
    server.rate_limit = RateLimit(tokens=2_000, window=1.0)
    source = _write_input(tmp_path / "in.jsonl", 60, max_tokens=96)
    output = tmp_path / "out.jsonl"
    summary = await _run(runtime, server, source, output, count_tokens=False)
    assert summary.done == 60 and summary.failed == 0
    assert server.limiter is not None and server.limiter.rejected <= 4 + 3


async def test_requests_per_minute_cap_paces_the_job(
    runtime: str, server: MockServer, tmp_path: pathlib.Path
) -> None:
    server.rate_limit = RateLimit(requests=10_000, window=60.0)  # only to record arrivals
    source = _write_input(tmp_path / "in.jsonl", 45)
    summary = await _run(runtime, server, source, tmp_path / "out.jsonl", requests_per_minute=600)
    assert summary.done == 45
    # 600 a minute is 10 a second, with a burst of 6 s worth (60): no second
    # may see more than the burst plus what the rate refilled, however slow
    # the machine is (slowness only spreads requests out).
    arrivals = server.limiter.arrivals if server.limiter else []
    first = arrivals[0]
    for count, moment in enumerate(arrivals, 1):
        assert count <= 60 + 10 * (moment - first) + 1


async def test_failures_are_recorded_not_fatal(
    runtime: str, server: MockServer, tmp_path: pathlib.Path
) -> None:
    lines = [_line(n) for n in range(5)]
    lines[1]["url"] = "/v1/no-such-endpoint"
    lines[3]["body"].pop("messages")  # 400: missing parameter
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    server.enqueue(Fail(500, times=None, path="/v1/chat/completions"))
    output = tmp_path / "out.jsonl"
    # Every chat request fails with 500, retried twice; the others are final at once.
    summary = await _run(runtime, server, source, output, max_retries=2)
    results = {r["custom_id"]: r for r in _results(output)}
    assert len(results) == 5 and summary.done == 5 and summary.failed == 5
    assert results["req-1"]["response"]["status_code"] == 404
    assert results["req-0"]["response"]["status_code"] == 500
    assert results["req-0"]["response"]["body"]["error"]["message"]
    server.clear()
    # A rerun skips what is in the output, failures included.
    again = await _run(runtime, server, source, output)
    assert again.skipped == 5 and again.sent == 0 and server.requests == []


async def test_connection_failure_is_an_error_result(runtime: str, tmp_path: pathlib.Path) -> None:
    with MockServer() as gone:
        base_url = gone.base_url
    source = _write_input(tmp_path / "in.jsonl", 2)
    output = tmp_path / "out.jsonl"
    if runtime == "sync":
        with Client(base_url=base_url, api_key=KEY) as client:
            summary = bulk.run(client, source, output, max_retries=1, job_file=False)
    else:
        async with AsyncClient(base_url=base_url, api_key=KEY) as client:
            summary = await bulk.arun(client, source, output, max_retries=1, job_file=False)
    results = _results(output)
    assert summary.failed == 2 and len(results) == 2
    assert all(r["response"] is None and r["error"]["code"] == "request_failed" for r in results)


async def test_bad_input_is_refused_before_any_request(
    runtime: str, server: MockServer, tmp_path: pathlib.Path
) -> None:
    good = json.dumps(_line(0))
    source = tmp_path / "in.jsonl"
    source.write_text(
        "\n".join(
            [
                good,
                "{not json",
                json.dumps({**_line(1), "boddy": {}}),
                "",
                json.dumps({**_line(2), "method": "PUT"}),
                good,  # repeats line 1's custom_id
                json.dumps({**_line(3), "url": "chat/completions"}),
            ]
        )
        + "\n"
    )
    output = tmp_path / "out.jsonl"
    with pytest.raises(bulk.BulkInputError) as caught:
        await _run(runtime, server, source, output)
    problems = [(p.line, p.reason.split(" (")[0]) for p in caught.value.problems]
    assert [line for line, _ in problems] == [2, 3, 5, 6, 7]
    assert "repeats line 1" in caught.value.problems[3].reason
    assert "unknown field(s) 'boddy'" in caught.value.problems[1].reason
    assert server.requests == []
    assert not output.exists() or output.read_text() == ""


async def test_iterable_input_progress_and_partial_output(
    runtime: str, server: MockServer, tmp_path: pathlib.Path
) -> None:
    output = tmp_path / "out.jsonl"
    # What an earlier run left: two results and one cut short by a kill.
    earlier = [
        {"id": "x", "custom_id": f"req-{n}", "response": {"status_code": 200}, "error": None}
        for n in (0, 1)
    ]
    output.write_text("".join(json.dumps(r) + "\n" for r in earlier) + '{"id": "y", "cus')
    seen: list[bulk.BulkProgress] = []
    summary = await _run(
        runtime,
        server,
        (_line(n) for n in range(20)),
        output,
        on_progress=seen.append,
        job_file=tmp_path / "job.json",
    )
    assert summary.skipped == 2 and summary.sent == 18 and summary.done == 20
    ids = [r["custom_id"] for r in _results(output)]
    assert sorted(ids) == sorted(f"req-{n}" for n in range(20))
    assert seen and seen[-1].done == 20 and seen[-1].total == 20 and seen[-1].in_flight == 0
    job = bulk.JobFile.load(str(tmp_path / "job.json"))
    assert (job.state, job.done, job.total) == ("done", 20, 20)
    assert list(tmp_path.glob(".oxide-bulk-*")) == []  # the spooled input is gone


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
async def test_killed_job_resumes_with_nothing_lost_or_repeated(
    runtime: str, how: str, server: MockServer, tmp_path: pathlib.Path
) -> None:
    server.rate_limit = RateLimit(requests=40, window=1.0)
    source = _write_input(tmp_path / "in.jsonl", 120)
    output = tmp_path / "out.jsonl"
    stop_after = random.Random(f"{runtime}-{how}").randint(3, 60)
    arguments = [runtime, server.base_url, str(source), str(output)]
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.io.bulk_child", *arguments],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == b"started\n"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and child.poll() is None:
            if output.exists() and output.read_bytes().count(b"\n") >= stop_after:
                break
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL if how == "SIGKILL" else signal.SIGINT)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    before = output.read_bytes().count(b"\n") if output.exists() else 0
    assert stop_after <= before < 120  # stopped part-way
    if how == "SIGINT":
        job = bulk.JobFile.load(str(output) + ".job.json")
        assert job.state in ("interrupted", "done") and job.done == before
    server.rate_limit = None
    summary = await _run(runtime, server, source, output)
    ids = [r["custom_id"] for r in _results(output)]
    assert sorted(ids) == sorted(f"req-{n}" for n in range(120))  # each exactly once
    assert summary.skipped == before and summary.done == 120


@pytest.mark.parametrize(
    ("point", "how"),
    [
        ("partial", "raise"),
        ("written", "raise"),
        ("counted", "raise"),
        ("written", "signal"),
        ("counted", "signal"),
    ],
)
async def test_an_interrupt_at_any_point_of_writing_a_result_keeps_the_counts_exact(
    runtime: str, point: str, how: str, server: MockServer, tmp_path: pathlib.Path
) -> None:
    """Ctrl-C lands while the 5th result is being written and counted: after
    half the line, after the whole line, or after the writer before the
    runner's count (a KeyboardInterrupt raised right there, or a real SIGINT,
    in a child process; chosen by count, not by time). The job file then
    counts exactly the results in the output, none of them cut short, and
    the rerun sends exactly the rest."""
    server.enqueue(Fail(400, times=6, path="/v1/chat/completions"))  # some results fail
    source = _write_input(tmp_path / "in.jsonl", 40)
    output = tmp_path / "out.jsonl"
    arguments = [runtime, server.base_url, str(source), str(output), f"interrupt:5:{point}:{how}"]
    child = subprocess.run(
        [sys.executable, "-m", "tests.io.bulk_child", *arguments],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout.decode().split() == ["started", "KeyboardInterrupt"], child.stderr.decode()
    assert output.read_bytes().endswith(b"\n")  # a line cut short is cut off
    results = _results(output)
    assert 4 <= len(results) < 40
    failed = sum(r["response"]["status_code"] >= 400 for r in results)
    job = bulk.JobFile.load(str(output) + ".job.json")
    assert (job.state, job.done, job.failed) == ("interrupted", len(results), failed)
    summary = await _run(runtime, server, source, output)
    assert (summary.skipped, summary.sent, summary.done) == (len(results), 40 - len(results), 40)
    assert _each_once(output, 40)


def _cut_write(monkeypatch: pytest.MonkeyPatch, keep: int | None) -> None:
    """The next write puts `keep` bytes of its line in the file (None: all of
    them), then a KeyboardInterrupt stops it; the writes after it are whole."""
    system_write = files.ResultWriter._os_write
    armed = [True]

    def cut(fd: int, data: Any) -> int:
        if not armed:
            return system_write(fd, data)
        armed.clear()
        system_write(fd, data if keep is None else data[:keep])
        raise KeyboardInterrupt

    monkeypatch.setattr(files.ResultWriter, "_os_write", staticmethod(cut))


def test_a_write_stopped_after_its_line_is_counted_from_the_file(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.jsonl"
    earlier = result_line(id="x", custom_id="a", status_code=200)
    path.write_bytes(earlier)  # an earlier run's: not this writer's
    writer = files.ResultWriter(str(path))
    writer.write(result_line(id="x", custom_id="b", status_code=200), False)
    _cut_write(monkeypatch, None)
    with pytest.raises(KeyboardInterrupt):
        writer.write(result_line(id="x", custom_id="c", status_code=429), True)
    assert writer.counts == (1, 0)  # the write did not get to count it
    writer.close()
    assert writer.counts == (2, 1)  # the file has it whole: counted, as failed
    assert [r["custom_id"] for r in _results(path)] == ["a", "b", "c"]


def test_a_line_cut_short_is_cut_off_before_the_next_write(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.jsonl"
    writer = files.ResultWriter(str(path))
    writer.write(result_line(id="x", custom_id="a", status_code=200))
    _cut_write(monkeypatch, 20)
    with pytest.raises(KeyboardInterrupt):
        writer.write(result_line(id="x", custom_id="b", status_code=200))
    assert path.read_bytes().count(b"\n") == 1 and not path.read_bytes().endswith(b"\n")
    writer.write(result_line(id="x", custom_id="c", status_code=500), True)
    writer.close()
    assert writer.counts == (2, 1)
    assert [r["custom_id"] for r in _results(path)] == ["a", "c"]


def test_a_shared_output_takes_no_line_after_one_cut_short(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process may have appended since: the part written cannot be told
    # from theirs, so nothing is appended after it (a resume cuts it off).
    path = tmp_path / "out.jsonl"
    writer = files.ResultWriter(str(path), exclusive=False)
    _cut_write(monkeypatch, 20)
    with pytest.raises(KeyboardInterrupt):
        writer.write(result_line(id="x", custom_id="a", status_code=200))
    with pytest.raises(OSError) as raised:
        writer.write(result_line(id="x", custom_id="b", status_code=200))
    assert raised.value.errno == errno.EIO and "cut short" in str(raised.value)
    writer.close()
    assert writer.counts == (0, 0) and len(path.read_bytes()) == 20


def test_on_trio_writing_and_counting_a_result_is_one_step_ctrl_c_waits_for() -> None:
    # Trio raises a KeyboardInterrupt between any two bytecodes of unprotected
    # code; inside the runner's write-and-count it waits for the next checkpoint.
    import trio

    from oxide_io._async._bulk import _ki_protected

    seen: list[bool] = []

    def record(line: bytes, failed: bool) -> None:
        seen.append(trio.lowlevel.currently_ki_protected())

    async def main() -> None:
        seen.append(trio.lowlevel.currently_ki_protected())
        _ki_protected(record)(b"", False)

    trio.run(main)
    assert seen == [False, True]


async def test_a_resume_under_colliding_digests_sends_exactly_what_is_missing(
    runtime: str, server: MockServer, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every custom_id's digest alike: each result in the output is matched to
    its input line by reading the line again, so a result for an id that is
    not in the input marks nothing done, and nothing is skipped or sent twice."""
    monkeypatch.setattr(files, "IdIndex", functools.partial(IdIndex, digest=lambda key: 0))
    source = _write_input(tmp_path / "in.jsonl", 60)
    output = tmp_path / "out.jsonl"
    answered = random.Random(runtime).sample(range(60), 25)
    output.write_bytes(
        b"".join(result_line(id="old", custom_id=f"req-{n}", status_code=200) for n in answered)
        + result_line(id="old", custom_id="req-60", status_code=200)  # not in the input
    )
    summary = await _run(runtime, server, source, output)
    ids = [r["custom_id"] for r in _results(output)]
    assert sorted(ids) == sorted([*(f"req-{n}" for n in range(60)), "req-60"])
    assert (summary.skipped, summary.done, summary.total) == (25, 60, 60)
    sent = [r for r in server.requests if r.path == "/v1/chat/completions"]
    assert len(sent) == summary.sent == 35


async def test_progress_display_and_token_counter(
    runtime: str, server: MockServer, tmp_path: pathlib.Path
) -> None:
    from oxide_io._bulk_display import BulkDisplay, describe
    from oxide_io._bulk_files import token_counter

    state = bulk.BulkProgress(
        total=10, done=4, failed=1, in_flight=2, retries=0, rate=2.0, elapsed=2.0, eta=3725.0
    )
    assert describe(state) == "4/10 done, 1 failed, 2 in flight, 2.0/s, ETA 1:02:05"
    display = BulkDisplay.open("test")
    assert display is not None  # rich is installed with the test tools
    display(state)
    display.close()
    try:
        import tiktoken  # noqa: F401
    except ImportError:
        assert token_counter() is None  # the estimate is used instead
    source = _write_input(tmp_path / "in.jsonl", 5)
    summary = await _run(runtime, server, source, tmp_path / "out.jsonl", progress=True)
    assert summary.done == 5


def _each_once(path: pathlib.Path, count: int) -> bool:
    ids = [r["custom_id"] for r in _results(path)]
    return sorted(ids) == sorted(f"req-{n}" for n in range(count))


async def test_an_error_of_the_callers_is_raised_as_itself(
    runtime: str, server: MockServer, tmp_path: pathlib.Path
) -> None:
    # A fatal error inside the run (here the caller's progress callback) comes
    # out of `run` and `arun` alike as itself: `except Stop` catches it.
    source = _write_input(tmp_path / "in.jsonl", 40)
    output = tmp_path / "out.jsonl"
    calls: list[int] = []

    def stop(progress: bulk.BulkProgress) -> None:
        calls.append(progress.done)
        if len(calls) == 1:
            raise Stop

    with pytest.raises(Stop):
        await _run(runtime, server, source, output, on_progress=stop, job_file=tmp_path / "j")
    assert bulk.JobFile.load(str(tmp_path / "j")).state == "interrupted"
    summary = await _run(runtime, server, source, output)
    assert summary.done == 40 and summary.skipped >= 1 and _each_once(output, 40)


async def test_an_unwritable_output_is_an_oserror(
    runtime: str, server: MockServer, tmp_path: pathlib.Path
) -> None:
    # The output stops taking writes part-way (the OS refuses to grow the file,
    # as on a full disk): the job raises the OSError itself (the child process
    # catches it with `except OSError`), keeps what it wrote, and the rerun,
    # with room again, finishes it with every line once.
    source = _write_input(tmp_path / "in.jsonl", 60)
    output = tmp_path / "out.jsonl"
    arguments = [runtime, server.base_url, str(source), str(output), "4096"]
    child = subprocess.run(
        [sys.executable, "-m", "tests.io.bulk_child", *arguments],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert child.returncode == 3, child.stderr.decode()
    assert child.stdout.decode().split() == ["started", "OSError", str(errno.EFBIG)]
    written = output.read_bytes()
    assert len(written) <= 4096 and 0 < written.count(b"\n") < 60
    assert bulk.JobFile.load(str(output) + ".job.json").state == "interrupted"
    summary = await _run(runtime, server, source, output)
    assert summary.done == 60 and summary.skipped == written.count(b"\n")
    assert _each_once(output, 60)


@pytest.mark.parametrize("runtime", ["asyncio", "trio"])
async def test_cancelling_arun_raises_the_runtimes_cancellation(
    runtime: str, server: MockServer, tmp_path: pathlib.Path
) -> None:
    # Cancelled from outside (a timeout, a shutdown), `arun` ends with the
    # runtime's own cancellation, which the cancelling scope absorbs; an
    # exception group around it would escape the scope.
    server.rate_limit = RateLimit(requests=20, window=1.0)  # 100 lines take 4 s at least
    source = _write_input(tmp_path / "in.jsonl", 100)
    output = tmp_path / "out.jsonl"
    raised: list[BaseException] = []
    with anyio.CancelScope() as scope:

        def cancel(progress: bulk.BulkProgress) -> None:
            if progress.done >= 5:
                scope.cancel()

        try:
            await _run(runtime, server, source, output, on_progress=cancel, job_file=tmp_path / "j")
        except BaseException as exc:
            raised.append(exc)
            raise
    assert scope.cancelled_caught
    assert [type(exc) for exc in raised] == [anyio.get_cancelled_exc_class()]
    assert bulk.JobFile.load(str(tmp_path / "j")).state == "interrupted"
    before = output.read_bytes().count(b"\n")
    assert 5 <= before < 100
    server.rate_limit = None
    summary = await _run(runtime, server, source, output)
    assert summary.done == 100 and summary.skipped == before and _each_once(output, 100)
