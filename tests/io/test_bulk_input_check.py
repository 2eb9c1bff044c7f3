"""The bulk input check and the resume scan on files: digest matches confirmed by the ids.

The digests are made to collide (every id hashes alike, or in a few classes),
so every repeat and every done request is found among candidates that are
read again from the file and compared: a collision is never a repeat, and a
result in the output never marks done a request it does not answer.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

import oxide_io._bulk_files as files
from oxide_io.bulk import BulkInputError
from oxide_proto import IdIndex, result_line


def _write(path: Path, ids: list[str]) -> str:
    lines = [
        json.dumps({"custom_id": key, "method": "POST", "url": "/v1/x", "body": {}}) for key in ids
    ]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _digest_in(classes: int, key: str) -> int:
    return (sum(key.encode()) % classes) << 60


@pytest.fixture(params=[1, 3], ids=["all-collide", "three-classes"])
def colliding(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    digest = functools.partial(_digest_in, request.param)
    monkeypatch.setattr(files, "IdIndex", functools.partial(IdIndex, digest=digest))


@pytest.mark.usefixtures("colliding")
def test_colliding_ids_are_not_repeats(tmp_path: Path) -> None:
    ids = [f"id-{number}" for number in range(40)]
    total, digests = files.checked_input(_write(tmp_path / "in.jsonl", ids))
    assert total == 40 and len(digests) == 40
    assert [digests.line_of(key) for key in ids] == list(range(1, 41))
    assert digests.line_of("id-40") is None


@pytest.mark.usefixtures("colliding")
def test_repeats_among_collisions_are_reported_exactly(tmp_path: Path) -> None:
    ids = [f"id-{number}" for number in range(30)] + ["id-7", "id-12", "id-7"]
    with pytest.raises(BulkInputError) as caught:
        files.checked_input(_write(tmp_path / "in.jsonl", ids))
    assert [(problem.line, problem.reason) for problem in caught.value.problems] == [
        (31, "custom_id 'id-7' repeats line 8"),
        (32, "custom_id 'id-12' repeats line 13"),
        (33, "custom_id 'id-7' repeats line 8"),
    ]
    assert not caught.value.more


def test_many_repeats_fill_the_report_and_say_more(tmp_path: Path) -> None:
    ids = [f"id-{number}" for number in range(50)] * 2
    with pytest.raises(BulkInputError) as caught:
        files.checked_input(_write(tmp_path / "in.jsonl", ids))
    problems = caught.value.problems
    assert len(problems) == 20 and caught.value.more
    assert all(problem.line > 50 and "repeats line" in problem.reason for problem in problems)


@pytest.mark.usefixtures("colliding")
def test_blank_and_long_lines_are_read_again_by_number(tmp_path: Path) -> None:
    """Lines are numbered as the file's lines, blank ones too, and an id read
    again is the one on that line however far from a recorded start it is."""
    path = tmp_path / "in.jsonl"
    lines = []
    for number in range(70):
        lines.append(
            ""
            if number % 7 == 3
            else json.dumps(
                {
                    "custom_id": f"r{number}",
                    "method": "POST",
                    "url": "/v1/x",
                    "body": {"t": "x" * number},
                }
            )
        )
    path.write_text("\n".join(lines) + "\n")
    total, ids = files.checked_input(str(path))
    assert total == 60
    wanted = {f"r{number}": number + 1 for number in range(70) if number % 7 != 3}
    for key in [*wanted, *reversed(wanted)]:  # forwards, then backwards through the file
        assert ids.line_of(key) == wanted[key]
    ids.close()


def _result(custom_id: str, status: int = 200) -> bytes:
    return result_line(id="x", custom_id=custom_id, status_code=status, body={})


@pytest.mark.usefixtures("colliding")
def test_a_resume_skips_exactly_the_requests_answered(tmp_path: Path) -> None:
    """Every digest collides, and the output has results for ids not in the
    input, a result twice, and a last line cut short: only the input's lines
    with a whole result are done, each once, and the rest are read to send."""
    ids = [f"id-{number}" for number in range(40)]
    source = _write(tmp_path / "in.jsonl", ids)
    output = tmp_path / "out.jsonl"
    answered = [3, 0, 17, 39, 8]
    output.write_bytes(
        b"".join(_result(ids[n], 500 if n == 17 else 200) for n in answered)
        + _result("id-40")  # not in the input: shares every digest, answers nothing
        + _result("id-3", 429)  # a second result for line 4: the first counts
        + _result("other")
        + _result("id-5")[:20]  # cut short by a kill: removed, id-5 is sent again
    )
    total, digests = files.checked_input(source)
    done, count, failed = files.resume_output(str(output), digests)
    assert (total, count, failed, len(done)) == (40, 5, 1, 5)
    assert sorted(done_line for done_line in range(1, 41) if done_line in done) == sorted(
        n + 1 for n in answered
    )
    kept = output.read_bytes()  # the partial line is gone, the rest kept
    assert kept.endswith(b"\n") and kept.count(b"\n") == 8 and b'"id-5"' not in kept
    to_send = [request.custom_id for request in files.read_input(source, skip=done)]
    assert to_send == [key for n, key in enumerate(ids) if n not in answered]


@pytest.mark.usefixtures("colliding")
def test_a_resume_of_a_foreign_output_skips_nothing(tmp_path: Path) -> None:
    source = _write(tmp_path / "in.jsonl", [f"id-{number}" for number in range(12)])
    output = tmp_path / "out.jsonl"
    output.write_bytes(b"".join(_result(f"ID-{number}") for number in range(12)))
    total, digests = files.checked_input(source)
    done, count, failed = files.resume_output(str(output), digests)
    assert (count, failed, len(done)) == (0, 0, 0)
    assert len(list(files.read_input(source, skip=done))) == total == 12


@pytest.mark.usefixtures("colliding")
def test_done_ids_claim_each_request_once(tmp_path: Path) -> None:
    """What a Batch API merge asks: is this custom_id's result already written?"""
    source = _write(tmp_path / "in.jsonl", [f"id-{number}" for number in range(10)])
    output = tmp_path / "out.jsonl"
    output.write_bytes(_result("id-4"))
    _total, digests = files.checked_input(source)
    done, _count, _failed = files.resume_output(str(output), digests)
    claims = files.DoneIds(digests, done)
    assert not claims.claim("id-4")  # written by an earlier run
    assert claims.claim("id-5") and not claims.claim("id-5")
    assert claims.claim("not-in-the-input") and claims.claim("not-in-the-input")
    assert len(done) == 2
    digests.close()


@pytest.mark.usefixtures("colliding")
def test_results_are_counted_once_each_by_their_first(tmp_path: Path) -> None:
    """`count_results` (the status of a job, the total of one split across
    processes): a custom_id with several results counts once, as its first
    result says; ids that only share a digest count apart."""
    output = tmp_path / "out.jsonl"
    output.write_bytes(
        _result("a")
        + _result("b", 500)
        + _result("a", 500)  # a later result for "a": not counted
        + _result("c", 429)
        + _result("b")  # nor this one for "b": "b" stays failed
        + _result("d")
        + _result("c", 429)
        + _result("e")[:9]  # being written: not counted yet
    )
    assert files.count_results(str(output)) == (4, 2)
