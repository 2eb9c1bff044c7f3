"""Decoding API payloads into the generated models, and back.

Payloads come from the spec's own examples (`x-oaiMeta`) where it has them, plus
hand-written ones for tool calls, logprobs and usage. The rules under test are
the forward-compatibility ones: new fields, enum values and variants decode;
only a value of the wrong JSON kind fails, with a path naming it.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import pathlib
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import oxide_proto
from oxide_proto import (
    APIResponseValidationError,
    BaseModel,
    Headers,
    ResponseInfo,
    UnknownModel,
    decode,
    decode_response_stream_event,
)
from oxide_proto.types import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    ChatCompletionMessageCustomToolCall,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionTokenLogprob,
    ChoiceDeltaToolCall,
    CompletionUsage,
    CreateChatCompletionStreamResponse,
    CreateEmbeddingResponse,
    Embedding,
    Eval,
    EvalCustomDataSourceConfig,
    EvalList,
    Model,
    ModelList,
    Response,
    ResponseFunctionToolCall,
    ResponseOutputItem,
    ResponseOutputMessage,
    ResponseReasoningItem,
    ResponseStreamEvent,
    ResponseTextDeltaEvent,
)

SPEC = pathlib.Path(__file__).resolve().parents[2] / "spec"
SPEC_JSON = SPEC / "openai-openapi.prism.json"
needs_spec = pytest.mark.skipif(not SPEC_JSON.exists(), reason="OpenAPI spec not available")


@functools.cache
def _spec() -> dict[str, Any]:
    return json.loads(SPEC_JSON.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _examples(path: str, method: str) -> list[tuple[str, str]]:
    if not SPEC_JSON.exists():
        return []
    meta = _spec()["paths"][path][method]["x-oaiMeta"]
    examples = meta.get("examples", [])
    if isinstance(examples, dict):
        examples = [examples]
    return [(e.get("title") or "default", e["response"]) for e in examples if "response" in e]


def _json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects of an example stream (`data: {...}` lines or bare lines)."""
    out = []
    for line in text.splitlines():
        line = line.removeprefix("data:").strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


CHAT_EXAMPLES = _examples("/chat/completions", "post")
RESPONSE_EXAMPLES = _examples("/responses", "post")


# -- chat completions --------------------------------------------------------

CHUNK: dict[str, Any] = {
    "id": "chatcmpl-123",
    "object": "chat.completion.chunk",
    "created": 1694268190,
    "model": "gpt-4o-mini",
    "system_fingerprint": "fp_44709d6fcb",
    "service_tier": "default",
    "choices": [
        {"index": 0, "delta": {"role": "assistant", "content": "Hel"}, "finish_reason": None}
    ],
}

TOOL_COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-abc123",
    "object": "chat.completion",
    "created": 1699896916,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "tool_calls": [
                    {
                        "id": "call_abc123",
                        "type": "function",
                        "function": {
                            "name": "get_current_weather",
                            "arguments": '{\n"location": "Boston, MA"\n}',
                        },
                    },
                    {"id": "call_def", "type": "custom", "custom": {"name": "sql", "input": "x"}},
                ],
            },
            "logprobs": {
                "content": [
                    {
                        "token": "Hi",
                        "logprob": -0.25,
                        "bytes": [72, 105],
                        "top_logprobs": [{"token": "Hi", "logprob": -0.25, "bytes": [72, 105]}],
                    }
                ],
                "refusal": None,
            },
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {
        "prompt_tokens": 82,
        "completion_tokens": 17,
        "total_tokens": 99,
        "completion_tokens_details": {"reasoning_tokens": 0, "accepted_prediction_tokens": 0},
    },
}


def test_chat_completion_with_tool_calls_logprobs_usage() -> None:
    completion = decode(ChatCompletion, TOOL_COMPLETION)
    assert isinstance(completion, ChatCompletion)
    message = completion.choices[0].message
    assert isinstance(message, ChatCompletionMessage)
    assert message.content is None
    assert message.tool_calls is not None
    function_call, custom_call = message.tool_calls
    assert isinstance(function_call, ChatCompletionMessageFunctionToolCall)
    assert function_call.function.name == "get_current_weather"
    assert isinstance(custom_call, ChatCompletionMessageCustomToolCall)
    assert custom_call.custom.input == "x"
    logprobs = completion.choices[0].logprobs
    assert logprobs is not None and logprobs.content is not None
    assert isinstance(logprobs.content[0], ChatCompletionTokenLogprob)
    assert logprobs.content[0].top_logprobs[0].bytes == [72, 105]
    assert isinstance(completion.usage, CompletionUsage)
    assert completion.usage.total_tokens == 99
    assert completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens == 0
    assert completion.to_dict() == TOOL_COMPLETION


def test_chat_chunk_with_tool_call_delta_and_usage() -> None:
    data = copy.deepcopy(CHUNK)
    data["choices"][0]["delta"] = {
        "tool_calls": [
            {"index": 0, "id": "call_1", "type": "function", "function": {"arguments": '{"a'}}
        ]
    }
    data["usage"] = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    chunk = decode(ChatCompletionChunk, data)
    assert chunk.choices[0].delta.tool_calls is not None
    call = chunk.choices[0].delta.tool_calls[0]
    assert isinstance(call, ChoiceDeltaToolCall)
    assert call.function is not None and call.function.arguments == '{"a'
    assert chunk.usage is not None and chunk.usage.total_tokens == 3
    assert chunk.choices[0].finish_reason is None
    assert chunk.to_dict() == data


def test_spec_name_is_an_alias() -> None:
    assert CreateChatCompletionStreamResponse is ChatCompletionChunk


@needs_spec
@pytest.mark.parametrize(("title", "text"), CHAT_EXAMPLES, ids=[t for t, _ in CHAT_EXAMPLES])
def test_chat_spec_examples(title: str, text: str) -> None:
    if title == "Streaming":
        chunks = _json_lines(text)
        assert chunks
        for data in chunks:
            chunk = decode(ChatCompletionChunk, data)
            assert isinstance(chunk, ChatCompletionChunk)
            assert chunk.to_dict() == data
        return
    data = json.loads(text)
    completion = decode(ChatCompletion, data)
    assert isinstance(completion.choices[0].message, ChatCompletionMessage)
    assert completion.to_dict() == data
    assert json.loads(completion.to_json()) == data


# -- Responses API -----------------------------------------------------------


@needs_spec
@pytest.mark.parametrize(
    ("title", "text"), RESPONSE_EXAMPLES, ids=[t for t, _ in RESPONSE_EXAMPLES]
)
def test_responses_spec_examples(title: str, text: str) -> None:
    if title == "Streaming":
        events = _json_lines(text)
        assert events
        for data in events:
            event = decode_response_stream_event(data)
            assert not isinstance(event, UnknownModel), data["type"]
            assert event.type == data["type"]
            assert event.to_dict() == data
        return
    data = json.loads(text)
    response = decode(Response, data)
    assert isinstance(response, Response)
    assert response.output
    assert not any(isinstance(item, UnknownModel) for item in response.output)
    assert response.to_dict() == data


# Spec examples that contradict their own schema (`created_at` as a date string
# where the schema, and the API, say integer).
BROKEN_EXAMPLES = {"ResponseQueuedEvent"}


@needs_spec
def test_every_stream_event_example_decodes_to_its_class() -> None:
    spec = _spec()
    schemas = spec["components"]["schemas"]
    variants = [v["$ref"].rsplit("/", 1)[1] for v in schemas["ResponseStreamEvent"]["anyOf"]]
    seen = 0
    for name in variants:
        example = schemas[name].get("x-oaiMeta", {}).get("example")
        if not example:
            continue
        try:
            data = json.loads(example)
        except ValueError:
            continue  # a few spec examples are not valid JSON
        if name in BROKEN_EXAMPLES:
            with pytest.raises(APIResponseValidationError):
                decode(ResponseStreamEvent, data)
            continue
        event = decode(ResponseStreamEvent, data)
        assert type(event).__name__ == name
        assert event.to_dict() == data
        seen += 1
    assert seen > 40


def test_response_output_items_dispatch_on_type() -> None:
    data = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1741476542,
        "status": "completed",
        "model": "gpt-4.1",
        "output": [
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {
                "type": "function_call",
                "id": "fc_1",
                "call_id": "call_1",
                "name": "get_weather",
                "arguments": "{}",
                "status": "completed",
            },
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Hi", "annotations": []}],
            },
        ],
        "usage": {
            "input_tokens": 36,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 87,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 123,
        },
    }
    response = Response.from_dict(data)
    kinds = [type(item) for item in response.output]
    assert kinds == [ResponseReasoningItem, ResponseFunctionToolCall, ResponseOutputMessage]
    message = response.output[2]
    assert isinstance(message, ResponseOutputMessage)
    assert message.content[0].text == "Hi"  # type: ignore[union-attr]
    assert response.usage is not None and response.usage.total_tokens == 123
    assert response.to_dict() == data


def test_stream_event_union_and_helper_agree() -> None:
    data = {
        "type": "response.output_text.delta",
        "item_id": "msg_123",
        "output_index": 0,
        "content_index": 0,
        "delta": "In",
        "sequence_number": 1,
        "logprobs": [],
    }
    event = decode_response_stream_event(data)
    assert isinstance(event, ResponseTextDeltaEvent)
    assert event.delta == "In"
    assert decode(ResponseStreamEvent, data) == event


# -- models, embeddings ------------------------------------------------------


def test_models_and_embeddings() -> None:
    listing = {
        "object": "list",
        "data": [
            {"id": "gpt-4o", "object": "model", "created": 1686935002, "owned_by": "openai"},
            {"id": "ft:x", "object": "model", "created": 1, "owned_by": "org"},
        ],
    }
    models = decode(ModelList, listing)
    assert [type(m) for m in models.data] == [Model, Model]
    assert models.data[0].owned_by == "openai"
    assert models.to_dict() == listing
    embeddings = {
        "object": "list",
        "data": [{"object": "embedding", "embedding": [0.0023064255, -0.009327292], "index": 0}],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 8, "total_tokens": 8},
    }
    result = decode(CreateEmbeddingResponse, embeddings)
    assert isinstance(result.data[0], Embedding)
    assert result.data[0].embedding == [0.0023064255, -0.009327292]
    assert result.usage.total_tokens == 8
    assert result.to_dict() == embeddings


@needs_spec
@pytest.mark.parametrize(
    ("path", "method", "tp"),
    [
        ("/models", "get", ModelList),
        ("/models/{model}", "get", Model),
        ("/embeddings", "post", CreateEmbeddingResponse),
    ],
)
def test_models_embeddings_spec_examples(path: str, method: str, tp: type[BaseModel]) -> None:
    for _, text in _examples(path, method):
        try:
            data = json.loads(text)
        except ValueError:
            pytest.skip("the spec example elides values (`...`)")
        assert decode(tp, data).to_dict() == data


# -- forward compatibility ---------------------------------------------------


def test_unknown_fields_are_kept_and_round_trip() -> None:
    data = copy.deepcopy(CHUNK)
    data["brand_new"] = {"nested": [1, 2]}
    data["choices"][0]["delta"]["future"] = "x"
    chunk = decode(ChatCompletionChunk, data)
    assert chunk.brand_new == {"nested": [1, 2]}  # type: ignore[attr-defined]
    assert chunk.choices[0].delta.future == "x"  # type: ignore[attr-defined]
    assert chunk.model_extra == {"brand_new": {"nested": [1, 2]}}
    assert chunk.to_dict() == data
    assert json.loads(chunk.to_json()) == data
    # Also in a dump of every declared field, however few keys the payload had.
    dumped: Any = chunk.model_dump()
    assert dumped["brand_new"] == {"nested": [1, 2]}
    assert dumped["choices"][0]["delta"]["future"] == "x"
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        chunk.missing  # type: ignore[attr-defined]  # noqa: B018


def test_unknown_enum_values_pass_through() -> None:
    data = copy.deepcopy(CHUNK)
    data["service_tier"] = "galactic"
    data["choices"][0]["finish_reason"] = "new_reason"
    data["choices"][0]["delta"]["role"] = "narrator"
    chunk = decode(ChatCompletionChunk, data)
    assert chunk.service_tier == "galactic"
    assert chunk.choices[0].finish_reason == "new_reason"
    assert chunk.choices[0].delta.role == "narrator"


def test_unknown_union_variant_becomes_unknown_model() -> None:
    item = {"type": "hologram_call", "id": "hc_1", "payload": {"x": 1}}
    response = decode(Response, {"id": "r", "object": "response", "output": [item]})
    unknown = response.output[0]
    assert isinstance(unknown, UnknownModel)
    assert unknown.type == "hologram_call"
    assert unknown.id == "hc_1"  # type: ignore[attr-defined]
    assert unknown.payload == {"x": 1}  # type: ignore[attr-defined]
    assert unknown.raw == item
    assert unknown.to_dict() == item
    assert decode(ResponseOutputItem, item) == unknown


def test_unknown_event_type_becomes_unknown_model() -> None:
    data = {"type": "response.teleport.started", "sequence_number": 9, "where": "mars"}
    event = decode_response_stream_event(data)
    assert isinstance(event, UnknownModel)
    assert event.type == "response.teleport.started"
    assert event.where == "mars"  # type: ignore[attr-defined]
    assert event.to_dict() == data


def test_missing_fields_decode_to_none() -> None:
    chunk = decode(ChatCompletionChunk, {"choices": [{"delta": {}}]})
    assert chunk.id is None  # required in the spec, tolerated like the official SDK
    assert chunk.usage is None
    assert chunk.choices[0].delta.content is None
    assert chunk.to_dict() == {"choices": [{"delta": {}}]}


def test_tool_call_without_known_tag_is_unknown() -> None:
    data = copy.deepcopy(TOOL_COMPLETION)
    data["choices"][0]["message"]["tool_calls"] = [{"id": "c", "type": "telepathy"}]
    completion = decode(ChatCompletion, data)
    assert completion.choices[0].message.tool_calls is not None
    assert isinstance(completion.choices[0].message.tool_calls[0], UnknownModel)


# -- ill-typed payloads ------------------------------------------------------


def _set(data: dict[str, Any], path: list[Any], value: object) -> dict[str, Any]:
    data = copy.deepcopy(data)
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("tp", "base", "where", "value", "path"),
    [
        (ChatCompletion, TOOL_COMPLETION, ["choices", 0, "message", "content"], {"a": 1},
         "choices[0].message.content"),
        (ChatCompletion, TOOL_COMPLETION, ["choices"], "many", "choices"),
        (ChatCompletion, TOOL_COMPLETION, ["choices", 0, "index"], "0", "choices[0].index"),
        (ChatCompletion, TOOL_COMPLETION, ["created"], 1.5, "created"),
        (ChatCompletion, TOOL_COMPLETION, ["usage", "total_tokens"], True, "usage.total_tokens"),
        (ChatCompletion, TOOL_COMPLETION,
         ["choices", 0, "message", "tool_calls", 0, "function", "arguments"], [],
         "choices[0].message.tool_calls[0].function.arguments"),
        (ChatCompletion, TOOL_COMPLETION,
         ["choices", 0, "logprobs", "content", 0, "top_logprobs", 0, "logprob"], "low",
         "choices[0].logprobs.content[0].top_logprobs[0].logprob"),
        (ChatCompletionChunk, CHUNK, ["choices", 0, "delta"], "text", "choices[0].delta"),
        (ChatCompletionChunk, CHUNK, ["model"], ["gpt"], "model"),
    ],
)  # fmt: skip
def test_wrong_kind_names_the_path(
    tp: type[BaseModel], base: dict[str, Any], where: list[Any], value: object, path: str
) -> None:
    data = _set(base, where, value)
    info = ResponseInfo(status_code=200, headers=Headers([("x-request-id", "req_1")]))
    with pytest.raises(APIResponseValidationError) as caught:
        decode(tp, data, response=info)
    assert caught.value.path == path
    assert caught.value.body is data
    assert caught.value.response is info
    assert caught.value.request_id == "req_1"
    assert path in str(caught.value)


def test_wrong_kind_inside_a_response_output_item() -> None:
    data = {
        "id": "r",
        "output": [
            {
                "type": "message",
                "id": "m",
                "role": "assistant",
                "content": [{"type": "output_text", "text": 5}],
            }
        ],
    }
    with pytest.raises(APIResponseValidationError) as caught:
        decode(Response, data)
    assert caught.value.path == "output[0].content[0].text"


EVAL = {
    "object": "eval",
    "id": "eval_1",
    "name": "e",
    "data_source_config": {"type": "custom", "schema": {"type": "object"}},
    "testing_criteria": [],
    "created_at": 1,
    "metadata": {"k": "v"},
}


def test_free_form_json_keeps_a_string_as_it_came() -> None:
    # An answer that carries the object serialized: kept (the official SDK's
    # default), not refused; nothing is lost on the way back.
    serialized = '{"type": "object", "properties": {}}'
    data = _set(EVAL, ["data_source_config", "schema"], serialized)
    found = decode(Eval, data)
    assert isinstance(found.data_source_config, EvalCustomDataSourceConfig)
    assert found.data_source_config.schema == serialized
    assert found.to_dict() == data
    listed = decode(EvalList, {"object": "list", "data": [data], "has_more": False})
    assert listed.data[0].data_source_config.schema == serialized  # type: ignore[union-attr]
    # Strict mode still names it.
    refused = "expected an object, got a string"
    with pytest.raises(APIResponseValidationError, match=refused) as caught:
        decode(Eval, data, strict=True)
    assert caught.value.path == "data_source_config.schema"


@pytest.mark.parametrize(
    "where,value,expected",
    [
        (["data_source_config", "schema"], 5, "expected an object, got an integer"),
        (["data_source_config", "schema"], ["a"], "expected an object, got an array"),
        (["data_source_config", "schema"], True, "expected an object, got a boolean"),
        # A map of typed values is not free-form: a string there is still refused.
        (["metadata"], "{}", "expected an object, got a string"),
    ],
)
def test_other_kinds_in_an_object_field_are_refused(
    where: list[Any], value: object, expected: str
) -> None:
    data = _set(EVAL, where, value)
    for strict in (False, True):
        with pytest.raises(APIResponseValidationError, match=expected) as caught:
            decode(Eval, data, strict=strict)
        assert caught.value.path == ".".join(where)


def test_top_level_not_an_object() -> None:
    with pytest.raises(APIResponseValidationError, match="expected an object, got an array"):
        decode(ChatCompletionChunk, [])
    with pytest.raises(APIResponseValidationError) as caught:
        decode_response_stream_event("nope")  # type: ignore[arg-type]
    assert caught.value.path == ""


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: object, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_substitution_decodes_or_raises_the_documented_error(data: st.DataObject) -> None:
    """Whatever value replaces whatever field: a model or APIResponseValidationError."""
    base = data.draw(st.sampled_from([TOOL_COMPLETION, CHUNK]))
    tp = ChatCompletion if base is TOOL_COMPLETION else ChatCompletionChunk
    where = data.draw(st.sampled_from(_paths(base)))
    payload = _set(base, list(where), data.draw(JSON))
    try:
        result = decode(tp, payload)
    except APIResponseValidationError as exc:
        assert isinstance(exc.path, str)
    else:
        assert isinstance(result, tp)
        assert result.to_dict() == payload


# -- dumping, building -------------------------------------------------------


def test_model_dump_spellings() -> None:
    chunk = decode(ChatCompletionChunk, CHUNK)
    full = chunk.model_dump()
    assert full["usage"] is None and full["id"] == "chatcmpl-123"
    assert chunk.model_dump(exclude_unset=True) == CHUNK
    assert "usage" not in chunk.model_dump(exclude_none=True)
    assert json.loads(chunk.model_dump_json()) == full
    assert chunk.model_dump_json(indent=2).startswith("{\n  ")
    assert chunk.to_dict(exclude_unset=False) == full
    assert chunk.model_fields_set >= {"id", "choices", "model"}
    assert "usage" not in chunk.model_fields_set


def test_renamed_fields_use_api_names_by_alias() -> None:
    from oxide_proto.types import moderations

    renamed = [
        cls
        for cls in vars(moderations).values()
        if isinstance(cls, type) and issubclass(cls, BaseModel) and cls._json_names
    ]
    assert renamed
    cls = renamed[0]
    python_name, key = next(iter(cls._json_names.items()))
    obj = cls.from_dict({key: True})
    assert getattr(obj, python_name) is True
    assert obj.to_dict() == {key: True}
    assert obj.model_dump(exclude_unset=True) == {python_name: True}
    assert obj.model_dump(exclude_unset=True, by_alias=True) == {key: True}


def test_built_by_hand() -> None:
    message = ChatCompletionMessage(role="assistant", content="hi", refusal=None)
    assert message.to_dict() == {"role": "assistant", "content": "hi"}
    assert message.model_extra == {}
    with pytest.raises(AttributeError):
        message.nothing  # type: ignore[attr-defined]  # noqa: B018
    message.content = "changed"
    assert message.to_dict()["content"] == "changed"
    assert ChatCompletionMessage.model_validate({"role": "assistant"}).role == "assistant"


def test_every_generated_type_decodes_an_empty_object() -> None:
    """Builds every decoder once: no schema in the spec breaks decoder construction."""
    import importlib

    from oxide_proto import types

    count = 0
    for name, module_name in sorted(types._MODULES.items()):
        module = importlib.import_module(f"oxide_proto.types.{module_name}")
        value = getattr(module, name)
        if isinstance(value, type) and issubclass(value, BaseModel):
            assert isinstance(decode(value, {}), value)
            count += 1
        else:
            # An alias of a scalar or a list rejects an object.
            with contextlib.suppress(APIResponseValidationError):
                decode(value, {})
    assert count > 1000


# -- lazy loading ------------------------------------------------------------


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {name for name in out.split() if name.startswith("oxide_proto")}


def test_import_oxide_proto_does_not_load_types() -> None:
    loaded = _modules_after("import oxide_proto")
    assert not any(name.startswith("oxide_proto.types") for name in loaded)


def test_chat_types_load_only_chat_and_shared() -> None:
    loaded = _modules_after("from oxide_proto.types import ChatCompletionChunk")
    types_loaded = {name for name in loaded if name.startswith("oxide_proto.types.")}
    assert types_loaded == {"oxide_proto.types.chat", "oxide_proto.types.shared"}


def test_public_runtime_names() -> None:
    for name in ("BaseModel", "UnknownModel", "decode", "decode_response_stream_event"):
        assert hasattr(oxide_proto, name)
    assert not hasattr(oxide_proto, "ChatCompletionChunk")
