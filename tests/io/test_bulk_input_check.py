"""The bulk input check on files: repeats confirmed by the ids, collisions cleared.

The digests are made to collide (every id hashes alike, or in a few classes)
and the suspects are confirmed a few at a time, so the second reading's
batching and its stop at the report's limit are exercised on small files.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

import oxide_io._bulk_files as files
from oxide_io.bulk import BulkInputError
from oxide_proto import IdDigests, RepeatCheck


def _write(path: Path, ids: list[str]) -> str:
    lines = [
        json.dumps({"custom_id": key, "method": "POST", "url": "/v1/x", "body": {}}) for key in ids
    ]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _digest_in(classes: int, key: str) -> int:
    return sum(key.encode()) % classes


@pytest.fixture(params=[1, 3], ids=["all-collide", "three-classes"])
def colliding(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    digest = functools.partial(_digest_in, request.param)
    monkeypatch.setattr(files, "IdDigests", functools.partial(IdDigests, digest=digest, run=4))
    monkeypatch.setattr(files, "RepeatCheck", functools.partial(RepeatCheck, digest=digest))
    monkeypatch.setattr(files, "_SUSPECTS_A_READING", 1)


@pytest.mark.usefixtures("colliding")
def test_colliding_ids_are_not_repeats(tmp_path: Path) -> None:
    ids = [f"id-{number}" for number in range(40)]
    total, digests = files.checked_input(_write(tmp_path / "in.jsonl", ids))
    assert total == 40 and len(digests) == 40


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
