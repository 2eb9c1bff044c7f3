"""Bulk input and output lines, token estimates and the digest id sets (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxide_proto import (
    BulkInputError,
    BulkLineError,
    IdDigests,
    IdSet,
    InputProblem,
    RepeatCheck,
    api_path,
    estimate_tokens,
    parse_request_line,
    parse_result_line,
    result_line,
)

GOOD = {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"x": 1}}


def test_a_request_line_parses() -> None:
    request = parse_request_line(json.dumps(GOOD).encode(), 7)
    assert request is not None
    assert (request.custom_id, request.method, request.url, request.line) == (
        "a",
        "POST",
        "/v1/chat/completions",
        7,
    )
    assert request.body == {"x": 1}
    assert parse_request_line(b"  \r\n", 3) is None
    get = parse_request_line(json.dumps({**GOOD, "method": "GET", "body": None}), 1)
    assert get is not None and get.body is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"\xff{}", "not UTF-8"),
        (b"{", "not JSON"),
        (b"[1]", "a JSON list, not an object"),
        (json.dumps({**GOOD, "extra": 1}).encode(), "unknown field(s) 'extra'"),
        (json.dumps({"custom_id": "a"}).encode(), "missing field(s) 'method', 'url'"),
        (json.dumps({**GOOD, "custom_id": ""}).encode(), "custom_id must be a non-empty string"),
        (json.dumps({**GOOD, "custom_id": 5}).encode(), "custom_id must be a non-empty string"),
        (json.dumps({**GOOD, "method": "post"}).encode(), "method must be one of"),
        (json.dumps({**GOOD, "url": "/chat/completions"}).encode(), "url must be a path"),
        (json.dumps({**GOOD, "url": "/v1/a b"}).encode(), "url must be a path"),
        (json.dumps({**GOOD, "body": [1]}).encode(), "body must be a JSON object"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "body"}).encode(), "body must be"),
    ],
)
def test_bad_request_lines_say_why(line: bytes, reason: str) -> None:
    with pytest.raises(BulkLineError) as caught:
        parse_request_line(line, 12)
    assert caught.value.problem.line == 12
    assert reason in caught.value.problem.reason
    assert str(caught.value).startswith("line 12: ")


def test_input_error_lists_problems() -> None:
    error = BulkInputError(
        "in.jsonl", [InputProblem(2, "not JSON"), InputProblem(5, "x")], more=True
    )
    assert str(error) == "in.jsonl: 2+ problems: line 2: not JSON; line 5: x; and more"
    assert isinstance(error, ValueError)


def test_api_path_is_relative_to_the_base_url() -> None:
    assert api_path("/v1/chat/completions") == "/chat/completions"
    assert api_path("/v1/") == "/"


def test_token_estimate() -> None:
    body = {
        "model": "gpt-4o-mini-long-name",
        "messages": [
            {"role": "system", "content": "x" * 40},
            {"role": "user", "content": [{"type": "text", "text": "y" * 8}]},
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:..."}}]},
        ],
        "max_completion_tokens": 50,
        "n": 2,
    }
    assert estimate_tokens(body) == 10 + 2 + 100
    assert estimate_tokens(body, count=lambda text: 1) == 2 + 100
    assert estimate_tokens(None) == 1
    assert estimate_tokens({"input": "abcd", "max_output_tokens": True}) == 1


def test_result_lines_round_trip() -> None:
    ok = result_line(id="i", custom_id="c\u2028", status_code=200, request_id="r", body={"a": "é"})
    assert ok.endswith(b"\n") and ok.count(b"\n") == 1 and ok.isascii()
    record = json.loads(ok)
    assert record == {
        "id": "i",
        "custom_id": "c\u2028",
        "response": {"status_code": 200, "request_id": "r", "body": {"a": "é"}},
        "error": None,
    }
    assert parse_result_line(ok) == ("c\u2028", False)
    failed = result_line(id="i", custom_id="d", status_code=429, body={"error": {}})
    assert parse_result_line(failed) == ("d", True)
    error = result_line(id="i", custom_id="e", error_code="timeout", error_message="slow")
    assert json.loads(error)["error"] == {"code": "timeout", "message": "slow"}
    assert parse_result_line(error) == ("e", True)
    with pytest.raises(ValueError, match="not a result line"):
        parse_result_line(b'{"id": 1}')


@settings(max_examples=50)
@given(st.lists(st.text(max_size=20), max_size=400))
def test_id_set_is_a_set(keys: list[str]) -> None:
    ids = IdSet(capacity=4)
    reference: set[str] = set()
    for key in keys:
        assert ids.add(key) == (key not in reference)
        reference.add(key)
    assert len(ids) == len(reference)
    assert all(key in ids for key in reference)
    assert all(((key + "\x00") in ids) == ((key + "\x00") in reference) for key in keys)
    assert 5 not in ids


def test_id_set_stays_small() -> None:
    ids = IdSet()
    for number in range(50_000):
        ids.add(f"request-{number:08}")
    assert len(ids._table) <= 50_000 * 48


@settings(max_examples=50)
@given(st.lists(st.text(max_size=6), max_size=300), st.integers(1, 40))
def test_id_digests_find_every_repeat(keys: list[str], run: int) -> None:
    ids = IdDigests(run=run)
    for key in keys:
        ids.add(key)
    assert len(ids) == len(keys)
    repeated = {key for key in keys if keys.count(key) > 1}
    assert list(ids.repeated()) == sorted({ids._digest(key) for key in repeated})
    assert all(key in ids for key in keys)
    assert 5 not in ids
    ids.add("one more")  # adding after a look-up starts a new run
    assert "one more" in ids


def test_id_digests_take_eight_bytes_an_id() -> None:
    ids = IdDigests(run=1000)
    for number in range(50_000):
        ids.add(f"request-{number:08}")
    assert list(ids.repeated()) == []
    assert ids._digests.itemsize * len(ids._digests) == 8 * 50_000


def _colliding(key: str) -> int:
    """A digest under which every id collides with every other."""
    return 0


def test_a_digest_collision_is_not_a_repeat() -> None:
    ids = IdDigests(digest=_colliding, run=2)
    keys = ["a", "b", "c", "b", "d"]
    for key in keys:
        ids.add(key)
    suspects = list(ids.repeated())
    assert suspects == [0]  # by digest, all five ids look alike
    check = RepeatCheck(suspects, digest=_colliding, limit=10)
    for line, key in enumerate(keys, 1):
        check.feed(line, key)
    assert check.repeats == [InputProblem(4, "custom_id 'b' repeats line 2")]
    assert not check.more


def test_repeat_check_stops_listing_at_its_limit() -> None:
    check = RepeatCheck([0], digest=_colliding, limit=2)
    for line in range(1, 6):
        check.feed(line, "same")
    assert [problem.line for problem in check.repeats] == [2, 3]
    assert check.more
    clear = RepeatCheck([1], digest=_colliding, limit=2)
    clear.feed(1, "x")
    clear.feed(2, "x")  # digest 0 is not a suspect: nothing kept
    assert clear.repeats == [] and not clear.more


def _problem_lines(lines: list[Any]) -> list[int]:
    out = []
    for number, line in enumerate(lines, 1):
        try:
            parse_request_line(json.dumps(line), number)
        except BulkLineError as exc:
            out.append(exc.problem.line)
    return out


@given(st.lists(st.dictionaries(st.sampled_from([*GOOD, "other"]), st.just("v"))))
def test_any_object_parses_or_raises_the_typed_error(lines: list[dict[str, str]]) -> None:
    assert _problem_lines(lines) == list(range(1, len(lines) + 1))  # "v" fits no field
