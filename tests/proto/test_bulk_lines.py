"""Bulk input and output lines, token estimates, the id index and the done lines (pure)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxide_proto import (
    BulkInputError,
    BulkLineError,
    DoneLines,
    IdIndex,
    InputProblem,
    api_path,
    estimate_tokens,
    id_digest,
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


def _confirmed(index: IdIndex, lines: dict[int, str], key: str) -> list[int]:
    """What a reader of the file does with `find`: the candidates whose id is `key`."""
    return [line for line in index.find(key) if lines[line] == key]


def _tiny(bits: int) -> Callable[[str], int]:
    """A digest of `bits` bits (at the top of the 64), so that ids collide often."""
    return lambda key: (id_digest(key) >> (64 - bits)) << (64 - bits)


@settings(max_examples=60)
@given(
    st.lists(st.text(max_size=6), max_size=300),
    st.sampled_from([0, 1, 2, 64]),
    st.sampled_from([1, 300, 10**6, 2**40]),
)
def test_id_index_candidates_hold_every_match(keys: list[str], bits: int, bound: int) -> None:
    """Whatever the digest's width (none at all: every id collides), the index
    gives each id's line among its candidates, confirming them finds exactly the
    lines the id is on, and the repeated groups hold every real repeat."""
    index = IdIndex(max(bound, len(keys) + 1), digest=_tiny(bits) if bits < 64 else id_digest)
    lines = {line: key for line, key in enumerate(keys, 1)}
    for line, key in lines.items():
        index.add(key, line)
    assert len(index) == len(keys)
    for key in {*keys, "absent", ""}:
        assert _confirmed(index, lines, key) == [n for n, k in lines.items() if k == key]
    groups = list(index.repeated())
    assert all(len(group) > 1 and group == sorted(group) for group in groups)
    in_groups = sorted(line for group in groups for line in group)
    assert len(in_groups) == len(set(in_groups))  # each line in one group at most
    repeats = {line for line, key in lines.items() if keys.count(key) > 1}
    assert repeats <= set(in_groups)
    if bits == 0:  # every id collides with every other: one group of all
        assert groups == ([list(lines)] if len(keys) > 1 else [])


def test_id_index_adds_after_a_look_up() -> None:
    index = IdIndex(100)
    index.add("a", 5)
    assert index.find("a") == [5] and index.find("b") == []
    index.add("b", 2)  # into a bucket already sorted
    index.add("a", 1)
    assert index.find("a") == [1, 5] and index.find("b") == [2]
    assert list(index.repeated()) == [[1, 5]]


def test_id_index_refuses_lines_out_of_its_bound() -> None:
    index = IdIndex(7)  # three bits of line number
    index.add("x", 7)
    with pytest.raises(ValueError, match="beyond"):
        index.add("y", 8)
    with pytest.raises(ValueError, match="beyond"):
        index.add("y", 0)
    with pytest.raises(ValueError, match="at least 1"):
        IdIndex(0)


def test_id_index_takes_eight_bytes_an_id() -> None:
    size = 50_000 * 48  # an input of 50,000 lines of 48 bytes: the bound is its size
    index = IdIndex(size)
    for number in range(1, 50_001):
        index.add(f"request-{number:08}", number)
    assert list(index.repeated()) == []
    assert all(index.find(f"request-{number:08}") == [number] for number in (1, 777, 50_000))
    words = sum(len(bucket) for bucket in index._buckets)
    assert words == 50_000 and all(bucket.itemsize == 8 for bucket in index._buckets)
    assert 16 <= len(index._buckets) <= 64  # a few thousand ids a bucket at most


@settings(max_examples=50)
@given(st.lists(st.integers(0, 5000), max_size=300))
def test_done_lines_is_a_set_of_line_numbers(lines: list[int]) -> None:
    done = DoneLines()
    reference: set[int] = set()
    for line in lines:
        assert done.add(line) == (line not in reference)
        reference.add(line)
    assert len(done) == len(reference)
    assert all((n in done) == (n in reference) for n in range(5010))
    assert "1" not in done and -1 not in done
    with pytest.raises(ValueError):
        done.add(-1)


def test_done_lines_take_a_bit_a_line() -> None:
    done = DoneLines()
    for line in range(1, 80_001):
        done.add(line)
    assert len(done) == 80_000 and len(done._bits) <= 80_000 // 8 * 2


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
