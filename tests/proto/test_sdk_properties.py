"""SDK-only properties: `Response.output_text`, computed as the official SDK computes it.

The spec lists `output_text` among a response's properties but the API never
sends it; the generated `Response` and `BetaResponse` compute it from `output`.
Checked against the official SDK's value for the same JSON, decoded the way its
client decodes a server's answer, and through the stream accumulator with the
stream fed whole, byte by byte and at Hypothesis-chosen split points.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai._models import construct_type
from openai.types.responses import Response as SDKResponse

from oxide_io.testing import MockServer, Reply
from oxide_proto import (
    BaseModel,
    OpenAIStreamDecoder,
    ParsedResponse,
    ResponseStreamAccumulator,
    StreamEvent,
    decode,
    decode_response_stream_event,
    parse_response,
)
from oxide_proto.api._model import model_fields
from oxide_proto.types import responses as rt
from tests.splits import fixed_feeds, split_at, split_points


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def refusal(text: str) -> dict[str, Any]:
    return {"type": "refusal", "refusal": text}


def message(*parts: dict[str, Any], id: str = "msg_1") -> dict[str, Any]:
    return {
        "type": "message",
        "id": id,
        "role": "assistant",
        "status": "completed",
        "content": list(parts),
    }


REASONING = {"type": "reasoning", "id": "rs_1", "summary": []}
CALL = {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"}
# A content part and an output item of types this package has never seen.
AUDIO_PART = {"type": "output_audio", "data": "AAAA", "transcript": "not text"}
FUTURE_ITEM = {"type": "future_item", "id": "fi_1", "content": [text_part("not a message")]}


def response_json(output: list[Any] | None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1700000000,
        "model": "gpt-4o",
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "parallel_tool_calls": True,
        "temperature": None,
        "top_p": None,
        "tool_choice": "auto",
        "tools": [],
        **extra,
    }
    if output is not None:
        data["output"] = output
    return data


def sdk_output_text(data: dict[str, Any]) -> str:
    """The SDK's value, decoded as its client decodes a server's JSON (leniently)."""
    value: str = construct_type(type_=SDKResponse, value=data).output_text
    return value


CASES = {
    "one part": ([message(text_part("Hello"))], "Hello"),
    "several messages, several parts": (
        [
            message(text_part("One. "), text_part("Two. "), id="msg_1"),
            REASONING,
            message(text_part("Three."), id="msg_2"),
        ],
        "One. Two. Three.",
    ),
    "refusals skipped": (
        [message(refusal("No."), text_part("But this."), refusal("Nor that."))],
        "But this.",
    ),
    "non-text parts and items skipped": (
        [CALL, message(AUDIO_PART, text_part("text")), FUTURE_ITEM, REASONING],
        "text",
    ),
    "empty texts": ([message(text_part(""), text_part(""))], ""),
    "no messages": ([REASONING, CALL], ""),
    "only a refusal": ([message(refusal("I can't help with that."))], ""),
    "empty output": ([], ""),
    "no output key": (None, ""),
}


@pytest.mark.parametrize("case", list(CASES))
def test_output_text_of_a_decoded_response(case: str) -> None:
    output, expected = CASES[case]
    data = response_json(output)
    response = decode(rt.Response, data)
    assert response.output_text == expected
    assert decode(rt.BetaResponse, data).output_text == expected
    assert parse_response(response).output_text == expected
    if output is not None:  # the SDK's property needs `output`
        assert sdk_output_text(data) == expected


_PARTS = st.one_of(
    st.text(max_size=8).map(text_part),
    st.text(max_size=8).map(refusal),
    st.just(AUDIO_PART),
)
_ITEMS = st.one_of(
    st.lists(_PARTS, max_size=4).map(lambda parts: message(*parts)),
    st.sampled_from([REASONING, CALL, FUTURE_ITEM]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_ITEMS, max_size=5))
def test_output_text_equals_the_sdk(output: list[dict[str, Any]]) -> None:
    data = response_json(output)
    assert decode(rt.Response, data).output_text == sdk_output_text(data)


def test_is_a_computed_property_not_a_field() -> None:
    for cls in (rt.Response, rt.BetaResponse):
        assert isinstance(vars(cls)["output_text"], property)
        assert "output_text" not in model_fields(cls)
    response = decode(rt.Response, response_json([message(text_part("Hi"))]))
    assert "output_text" not in response.to_dict()
    assert "output_text" not in response.model_dump()
    assert "output_text" not in json.loads(response.to_json())
    assert "output_text" not in response.model_fields_set
    assert "output_text=" not in repr(response)
    # Read-only, as in the SDK (a property without a setter there too).
    with pytest.raises(AttributeError):
        response.output_text = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        rt.Response(output_text="x", **_required_fields())  # type: ignore[call-arg]
    sdk = construct_type(type_=SDKResponse, value=response_json([message(text_part("Hi"))]))
    assert "output_text" not in sdk.model_dump()


def _required_fields() -> dict[str, Any]:
    response = decode(rt.Response, response_json([]))
    return {name: getattr(response, name) for name in rt.Response._required}


def test_output_text_key_from_the_server_is_an_extra_key_as_in_the_sdk() -> None:
    """A payload carrying `output_text` does not override the computation; like any
    undeclared key it stays in `model_extra` and is dumped back."""
    data = response_json([message(text_part("computed"))], output_text="sent by the server")
    response = decode(rt.Response, data)
    sdk = construct_type(type_=SDKResponse, value=data)
    assert response.output_text == sdk.output_text == "computed"
    assert response.model_extra == sdk.model_extra == {"output_text": "sent by the server"}
    assert response.to_dict()["output_text"] == "sent by the server"
    assert response.model_dump()["output_text"] == sdk.model_dump()["output_text"]
    assert response.to_dict() == data


def test_output_text_follows_changes_to_output() -> None:
    response = decode(rt.Response, response_json([message(text_part("before"))]))
    response.output = [decode(rt.ResponseOutputMessage, message(text_part("after")))]
    assert response.output_text == "after"
    response.output = []
    assert response.output_text == ""


def test_parsed_response_output_text_is_the_inherited_property() -> None:
    data = response_json([message(text_part('{"a": '), text_part("1}"))])
    parsed = parse_response(decode(rt.Response, data))
    assert isinstance(parsed, ParsedResponse) and isinstance(parsed, BaseModel)
    assert "output_text" not in vars(ParsedResponse)
    assert parsed.output_text == '{"a": 1}' == sdk_output_text(data)
    assert "output_text" not in parsed.to_dict()


# -- the final response of a stream -------------------------------------------

TEXT = "Streamed, in several pieces: the final response joins them."


@pytest.fixture(scope="module")
def stream_body() -> Iterator[bytes]:
    with MockServer() as server:
        server.enqueue(Reply(TEXT))
        request = urllib.request.Request(
            server.base_url + "/responses",
            data=json.dumps({"model": "gpt-4o", "input": "hi", "stream": True}).encode(),
            headers={"Content-Type": "application/json", "Authorization": "Bearer sk-test"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            yield bytes(answer.read())


def final_output_texts(pieces: list[bytes]) -> tuple[str, str, str]:
    """The final response's `output_text`, the `response.completed` payload's, and the
    one rebuilt from the events when `response.completed` is left out."""
    decoder = OpenAIStreamDecoder()
    events = []
    for piece in [*pieces, None]:
        if piece is None:
            decoder.receive_eof()
        else:
            decoder.receive_data(piece)
        while isinstance(event := decoder.next_event(), StreamEvent):
            events.append(decode_response_stream_event(event.data))
    completed = events[-1]
    assert isinstance(completed, rt.ResponseCompletedEvent)
    whole: ResponseStreamAccumulator[Any] = ResponseStreamAccumulator()
    cut: ResponseStreamAccumulator[Any] = ResponseStreamAccumulator()
    for event in events:
        whole.handle_event(event)
    for event in events[:-1]:
        cut.handle_event(event)
    return (
        whole.get_final_response().output_text,
        completed.response.output_text,
        cut.get_final_response().output_text,
    )


def test_stream_final_response_fed_whole_and_byte_by_byte(stream_body: bytes) -> None:
    for _, pieces in fixed_feeds(stream_body):
        assert final_output_texts(pieces) == (TEXT, TEXT, TEXT)


@settings(max_examples=50, deadline=None)
@given(points=split_points())
def test_stream_final_response_split_anywhere(stream_body: bytes, points: list[int]) -> None:
    assert final_output_texts(split_at(stream_body, points)) == (TEXT, TEXT, TEXT)
