"""`to_dict()`, `to_json()`, `model_dump()`, `model_dump_json()` against the official SDK's models.

The same payload goes into an oxide model and the official one; every common
argument combination must give the same data. The JSON text must be written
exactly as the official model writes it (indent 2 by default for `to_json`,
compact without spaces for `model_dump_json`, text not escaped to ASCII, floats
as pydantic-core writes them): checked on `Model`, whose fields both declare in
the same order, with Hypothesis-drawn extra keys of any JSON value.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxide_proto import UnknownModel, decode
from oxide_proto.types import chat, models

openai_types = pytest.importorskip("openai.types")
openai_chat = pytest.importorskip("openai.types.chat")
pydantic_core = pytest.importorskip("pydantic_core")

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def extras(reserved: set[str]) -> st.SearchStrategy[dict[str, Any]]:
    keys = TEXT.filter(lambda key: key not in reserved and not key.startswith("_"))
    return st.dictionaries(keys, JSON, max_size=4)


MODEL_FIELDS = {"id", "created", "object", "owned_by", "shutdown_date"}


@settings(max_examples=200, deadline=None)
@given(
    owned_by=TEXT,
    created=st.integers(min_value=0, max_value=2**40),
    extra=extras(MODEL_FIELDS),
    indent=st.sampled_from([None, 0, 1, 2, 4]),
)
def test_json_text_is_the_official_models_text(
    owned_by: str, created: int, extra: dict[str, Any], indent: int | None
) -> None:
    payload = {"id": "gpt-4o", "created": created, "object": "model", "owned_by": owned_by}
    payload.update(extra)
    ours = decode(models.Model, payload)
    theirs = openai_types.Model.model_validate(payload)
    assert ours.to_json() == theirs.to_json()
    assert ours.to_json(indent=indent) == theirs.to_json(indent=indent)
    assert ours.model_dump_json() == theirs.model_dump_json()
    assert ours.model_dump_json(indent=indent) == theirs.model_dump_json(indent=indent)
    assert ours.model_dump_json(exclude_unset=True) == theirs.model_dump_json(exclude_unset=True)


@settings(max_examples=200, deadline=None)
@given(value=JSON | st.floats(), indent=st.sampled_from([None, 0, 2]))
def test_any_json_value_is_written_as_pydantic_core_writes_it(
    value: object, indent: int | None
) -> None:
    # Inside an object this package does not know: every value is written back.
    ours = decode(UnknownModel, {"type": "x", "value": value})
    expected = pydantic_core.to_json(
        {"type": "x", "value": value}, indent=indent, inf_nan_mode="null"
    ).decode()
    assert ours.to_json(indent=indent) == expected
    assert ours.model_dump_json(indent=indent) == expected


def test_floats_in_every_notation() -> None:
    values = [1e-05, 1.2345e-05, -3e-05, 1e-07, 2.5e-06, 1e16, 1.2345e16, 1e22, 0.1, -0.0]
    values += [123456789.0, 5e-324, 1.7976931348623157e308, float("nan"), float("-inf")]
    for value in values:
        ours = decode(UnknownModel, {"type": "x", "v": value}).model_dump_json()
        assert (
            ours == pydantic_core.to_json({"type": "x", "v": value}, inf_nan_mode="null").decode()
        ), value


FINISH = st.sampled_from(["stop", "length", "tool_calls", "content_filter"])
MESSAGE: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {"role": st.just("assistant"), "content": st.none() | TEXT},
    optional={"refusal": st.none() | TEXT, "annotations": st.just([])},
)
CHOICE = st.fixed_dictionaries(
    {"index": st.integers(0, 8), "finish_reason": FINISH, "message": MESSAGE},
    optional={"logprobs": st.none()},
)
USAGE = st.fixed_dictionaries(
    {
        "prompt_tokens": st.integers(0, 10**6),
        "completion_tokens": st.integers(0, 10**6),
        "total_tokens": st.integers(0, 10**6),
    }
)
COMPLETION = st.fixed_dictionaries(
    {
        "id": TEXT,
        "object": st.just("chat.completion"),
        "created": st.integers(0, 2**40),
        "model": TEXT,
        "choices": st.lists(CHOICE, max_size=3),
    },
    optional={
        "usage": st.none() | USAGE,
        "system_fingerprint": st.none() | TEXT,
        "service_tier": st.none() | st.sampled_from(["default", "flex", "priority"]),
    },
)
COMPLETION_FIELDS = {
    "id",
    "object",
    "created",
    "model",
    "choices",
    "usage",
    "system_fingerprint",
    "service_tier",
    "metadata",
    "moderation",
}

TO_DICT: list[dict[str, Any]] = [
    {},
    {"use_api_names": False},
    {"exclude_unset": False},
    {"exclude_none": True},
    {"exclude_defaults": True},
    {"exclude_unset": False, "exclude_none": True},
    {"mode": "json"},
]
MODEL_DUMP: list[dict[str, Any]] = [
    {},
    {"exclude_unset": True},
    {"by_alias": True},
    {"exclude_none": True},
    {"exclude_defaults": True},
    {"mode": "json", "exclude_unset": True, "exclude_none": True},
    {"include": {"id", "choices"}},
    {"exclude": {"choices", "usage"}},
    {"include": {"id": True, "usage": True}, "exclude_unset": True},
]


@settings(max_examples=150, deadline=None)
@given(payload=COMPLETION, extra=extras(COMPLETION_FIELDS))
def test_dumps_agree_with_the_official_models(
    payload: dict[str, Any], extra: dict[str, Any]
) -> None:
    payload = {**payload, **extra}
    ours = decode(chat.ChatCompletion, payload)
    theirs = openai_chat.ChatCompletion.model_validate(payload)
    for kwargs in TO_DICT:
        assert ours.to_dict(**kwargs) == theirs.to_dict(**kwargs), kwargs
    for kwargs in MODEL_DUMP:
        assert ours.model_dump(**kwargs) == theirs.model_dump(**kwargs), kwargs
    # Key order follows each package's field order; the data is the same.
    assert json.loads(ours.to_json()) == json.loads(theirs.to_json())
    assert json.loads(ours.model_dump_json()) == json.loads(theirs.model_dump_json())
    assert json.loads(ours.to_json(use_api_names=False, exclude_unset=False)) == json.loads(
        theirs.to_json(use_api_names=False, exclude_unset=False)
    )
    assert ours.to_dict() == payload


def test_unsupported_arguments_are_refused_clearly() -> None:
    completion = decode(
        chat.ChatCompletion,
        {"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": []},
    )
    with pytest.raises(TypeError, match="nested selection"):
        completion.model_dump(include={"choices": {0: True}})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="mode"):
        completion.model_dump(mode="xml")
    with pytest.raises(ValueError, match="mode"):
        completion.to_dict(mode="xml")  # type: ignore[arg-type]
