"""Strict decoding (a client's `_strict_response_validation`): what it refuses, and
that lenient decoding of the same data is unchanged."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from oxide_proto import APIResponseValidationError, decode
from oxide_proto.types.chat import ChatCompletion, ChatCompletionChunk
from oxide_proto.types.models import Model

COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "finish_reason": "stop",
            "logprobs": None,
            "message": {"role": "assistant", "content": "hi", "refusal": None},
        }
    ],
}


def _changed(path: list[str | int], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(COMPLETION)
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()


def test_a_complete_answer_passes() -> None:
    strict = decode(ChatCompletion, COMPLETION, strict=True)
    assert strict.choices[0].message.content == "hi"
    assert strict.to_dict() == decode(ChatCompletion, COMPLETION).to_dict()


@pytest.mark.parametrize(
    ("path", "value", "where", "message"),
    [
        (["id"], _DELETE, "id", "required field is missing"),
        (["choices", 0, "message", "role"], _DELETE, "choices[0].message.role", "missing"),
        (["created"], None, "created", "expected an integer, got null"),
        (["model"], 5, "model", "expected a string, got an integer"),
        (["choices", 0, "finish_reason"], "paused", "choices[0].finish_reason", "one of"),
        (["choices"], {}, "choices", "expected an array"),
        (["object"], "chat.completion.chunk", "object", "one of 'chat.completion'"),
    ],
)
def test_strict_refuses(path: list[str | int], value: Any, where: str, message: str) -> None:
    data = _changed(path, value)
    with pytest.raises(APIResponseValidationError, match=message) as caught:
        decode(ChatCompletion, data, strict=True)
    assert caught.value.path == where
    assert caught.value.body is data
    # Lenient decoding keeps tolerating what the API may send.
    if not isinstance(value, int) and not isinstance(value, dict):
        decode(ChatCompletion, data)


def test_strict_refuses_an_empty_object_and_non_objects() -> None:
    samples: list[object] = [{}, None, [], "text"]
    for data in samples:
        with pytest.raises(APIResponseValidationError):
            decode(ChatCompletion, data, strict=True)
    assert decode(ChatCompletion, {}).id is None


def test_optional_fields_may_be_absent_or_null() -> None:
    data = _changed(["system_fingerprint"], None)
    data.pop("usage", None)
    assert decode(ChatCompletion, data, strict=True).usage is None


def test_booleans_are_not_integers() -> None:
    with pytest.raises(APIResponseValidationError, match="integer"):
        decode(ChatCompletion, _changed(["created"], True), strict=True)


def test_lists_and_other_models() -> None:
    chunk = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": None}],
    }
    assert decode(ChatCompletionChunk, chunk, strict=True).choices[0].delta.content == "x"
    models = [{"id": "a", "object": "model", "created": 1, "owned_by": "o"}]
    assert decode(list[Model], models, strict=True)[0].id == "a"
    with pytest.raises(APIResponseValidationError) as caught:
        decode(list[Model], [*models, {"id": "b"}], strict=True)
    assert caught.value.path == "[1].created"
