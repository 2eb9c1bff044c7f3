"""The partial-JSON parser: every prefix gives a value consistent with the final one.

"Prefix-consistent" (the parser's contract): for the value `v` of a prefix and
the final value `f`,
- a string `v` is a prefix of `f`;
- numbers, booleans and null are equal (they appear only once complete);
- a list `v` is no longer than `f`, all its items but the last equal `f`'s, and
  the last is prefix-consistent with `f`'s item at that position;
- an object `v` has keys that are the first keys of `f` in order, all values but
  the last equal, the last prefix-consistent.
At the full text `finish()` equals `json.loads`, and the value never depends on
how the text was split into pieces.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxide_proto import InvalidJSONError, PartialJSONParser, parse_partial_json

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=5)
    ),
    max_leaves=20,
)


def consistent(value: Any, final: Any) -> bool:
    if isinstance(final, str):
        return isinstance(value, str) and final.startswith(value)
    if isinstance(final, list):
        if not isinstance(value, list) or len(value) > len(final):
            return False
        if not value:
            return True
        return value[:-1] == final[: len(value) - 1] and consistent(
            value[-1], final[len(value) - 1]
        )
    if isinstance(final, dict):
        if not isinstance(value, dict):
            return False
        keys, final_keys = list(value), list(final)
        if keys != final_keys[: len(keys)]:
            return False
        if not keys:
            return True
        if any(value[k] != final[k] for k in keys[:-1]):
            return False
        return consistent(value[keys[-1]], final[keys[-1]])
    return type(value) is type(final) and value == final


@settings(max_examples=150, deadline=None)
@given(json_values, st.booleans(), st.integers(min_value=0, max_value=2), st.data())
def test_every_prefix_is_consistent(final: Any, ascii_only: bool, indent: int, data: Any) -> None:
    text = json.dumps(final, ensure_ascii=ascii_only, indent=indent or None)
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=8).map(sorted))
    parser = PartialJSONParser()
    last = 0
    for cut in [*cuts, len(text)]:
        parser.feed(text[last:cut])
        last = cut
        value = parser.value
        whole = parse_partial_json(text[:cut])
        assert value == whole or (value != value and whole != whole)  # split-independent
        if value is None and not isinstance(final, type(None)):
            continue  # nothing started yet, or a top-level number still open
        assert consistent(value, final), (text[:cut], value)
    assert parser.finish() == json.loads(text)


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_bytewise_feed_gives_every_prefix(final: Any) -> None:
    text = json.dumps(final)
    parser = PartialJSONParser()
    for index, char in enumerate(text):
        parser.feed(char)
        value = parser.value
        if value is not None or final is None:
            assert consistent(value, final), (text[: index + 1], value)
    assert parser.finish() == json.loads(text)


def test_values_already_returned_do_not_change() -> None:
    parser = PartialJSONParser()
    parser.feed('{"items": [{"name": "a')
    first = parser.value
    assert first == {"items": [{"name": "a"}]}
    parser.feed('bc"}, {"name": "d"}]}')
    assert first == {"items": [{"name": "a"}]}
    assert parser.finish() == {"items": [{"name": "abc"}, {"name": "d"}]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("  ", None),
        ('"ab', "ab"),
        ('{"a": 12', {}),
        ('{"a": 12,', {"a": 12}),
        ('{"a": tr', {}),
        ('{"a": true', {"a": True}),
        ('{"a"', {}),
        ('{"a": "x\\', {"a": "x"}),
        ('{"a": "x\\u00', {"a": "x"}),
        ('["\\ud83d', [""]),
        ('["\\ud83d\\ude00', ["\U0001f600"]),
        ('["\\ud83dz', ["\ud83dz"]),
        ("[1, [2, [3", [1, [2, []]]),
        ("[[], {}", [[], {}]),
    ],
)
def test_examples(text: str, expected: Any) -> None:
    assert parse_partial_json(text) == expected


@pytest.mark.parametrize(
    ("text", "position"),
    [("[1,,", 3), ('{"a" 1', 5), ("[tx", 1), ("[01,", 1), ('"a\x01', 2), ("{} x", 3), ('"\\q', 1)],
)
def test_malformed_text_names_the_position(text: str, position: int) -> None:
    parser = PartialJSONParser()
    with pytest.raises(InvalidJSONError) as info:
        for char in text:
            parser.feed(char)
    assert info.value.position == position
    with pytest.raises(InvalidJSONError):
        parser.feed("1")


@pytest.mark.parametrize("text", ["", "[1", '{"a": 1', "tru", '"abc'])
def test_finish_refuses_an_unfinished_document(text: str) -> None:
    parser = PartialJSONParser()
    parser.feed(text)
    with pytest.raises(InvalidJSONError):
        parser.finish()


def test_top_level_number_completes_at_finish() -> None:
    parser = PartialJSONParser()
    parser.feed("-12.5e")
    parser.feed("3")
    assert parser.value is None
    assert parser.finish() == -12.5e3
