"""The chat stream accumulator, fed real streams from the embedded server and hand-built chunks.

The server's bytes go through `OpenAIStreamDecoder` whole, byte by byte and at
Hypothesis-chosen split points; every way must give the same helper events and
the same final completion, which must equal the non-streamed reply for the same
content (through the same `parse_chat_completion`).
"""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from collections.abc import Iterator
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletionChunk as SDKChunk

from oxide_io.testing import MockServer, Reply, ToolCall, ToolCalls
from oxide_proto import (
    NEED_DATA,
    ChatCompletionAccumulator,
    ChoiceDoneEvent,
    ChunkEvent,
    ContentDeltaEvent,
    ContentDoneEvent,
    ContentFilterFinishReasonError,
    FunctionToolCallArgumentsDeltaEvent,
    FunctionToolCallArgumentsDoneEvent,
    InvalidToolArgumentsError,
    LengthFinishReasonError,
    LogprobsContentDeltaEvent,
    LogprobsContentDoneEvent,
    OpenAIStreamDecoder,
    OutputValidationError,
    RefusalDeltaEvent,
    RefusalDoneEvent,
    StreamEvent,
    decode,
    function_tool,
    parse_chat_completion,
)
from oxide_proto.types.chat import ChatCompletion, ChatCompletionChunk
from tests.proto.test_partial_json import consistent
from tests.splits import fixed_feeds, split_at, split_points


@dataclasses.dataclass
class Weather:
    """Look up the weather."""

    city: str
    days: list[int]


@dataclasses.dataclass
class Answer:
    verdict: Literal["yes", "no"]
    reasons: list[str]


WEATHER = function_tool(Weather, name="get_weather")
STRICT = {
    "type": "function",
    "function": {"name": "lookup", "strict": True, "parameters": {"type": "object"}},
}
LOOSE = {"type": "function", "function": {"name": "loose", "parameters": {"type": "object"}}}
TOOLS = [WEATHER, STRICT, LOOSE]
CALLS = [
    ToolCall("get_weather", {"city": "Paris", "days": [1, 2, 3]}, id="call_a"),
    ToolCall("lookup", {"query": 'a "quoted" thing', "n": 2.5}, id="call_b"),
    ToolCall("loose", {"x": None}, id="call_c"),
]
ANSWER = json.dumps({"verdict": "yes", "reasons": ["it is sunny", "naïve → ok"]})


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


def post(server: MockServer, **body: Any) -> bytes:
    request = urllib.request.Request(
        server.base_url + "/chat/completions",
        data=json.dumps({"model": "gpt-4o-mini", "messages": [], **body}).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer sk-test"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        data: bytes = response.read()
    return data


def chunks_of(pieces: list[bytes]) -> list[ChatCompletionChunk]:
    decoder = OpenAIStreamDecoder()
    out = []
    for piece in [*pieces, None]:
        if piece is None:
            decoder.receive_eof()
        else:
            decoder.receive_data(piece)
        while True:
            event = decoder.next_event()
            if event is NEED_DATA or not isinstance(event, StreamEvent):
                break
            out.append(decode(ChatCompletionChunk, event.data))
    return out


def run(chunks: list[ChatCompletionChunk], **options: Any) -> tuple[list[Any], Any]:
    accumulator: ChatCompletionAccumulator[Any] = ChatCompletionAccumulator(**options)
    events = [event for chunk in chunks for event in accumulator.handle_chunk(chunk)]
    return events, accumulator.get_final_completion()


def summary(events: list[Any]) -> list[tuple[Any, ...]]:
    """Events without their (identity-compared) chunk and snapshot objects."""
    out: list[tuple[Any, ...]] = []
    for event in events:
        if isinstance(event, ChunkEvent):
            out.append(("chunk", event.chunk.to_dict()))
        else:
            out.append((type(event).__name__, *(repr(v) for v in dataclass_values(event))))
    return out


def dataclass_values(event: Any) -> list[Any]:
    return [getattr(event, name) for name in event.__slots__ if not name.startswith("__")]


def same_reply(final: Any, plain: bytes, **options: Any) -> Any:
    """The non-streamed reply, parsed, with the id and timestamp of the streamed one.

    Each request gets a fresh id (and may straddle a second): those are the only
    fields that differ between two requests for the same content.
    """
    completion = decode(ChatCompletion, json.loads(plain))
    completion.id, completion.created = final.id, final.created
    return parse_chat_completion(completion, **options)


def test_text_stream_equals_non_streamed_reply(server: MockServer) -> None:
    text = "Hello there, this is a reply with some words in it."
    server.enqueue(Reply(text, times=2))
    body = post(server, stream=True, stream_options={"include_usage": True})
    plain = post(server)
    results = [run(chunks_of(pieces)) for _, pieces in fixed_feeds(body)]
    (events, final), (other_events, other_final) = results
    assert summary(events) == summary(other_events) and final == other_final
    deltas = [e for e in events if isinstance(e, ContentDeltaEvent)]
    joined = ""
    for event in deltas:
        joined += event.delta
        assert event.snapshot == joined
    assert joined == text
    assert [e for e in events if isinstance(e, ContentDoneEvent)] == [ContentDoneEvent(text)]
    assert events[-2] == ChoiceDoneEvent("stop", 0)  # then the usage chunk
    assert final.usage is not None and final.usage.total_tokens > 0
    assert final == same_reply(final, plain)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(points=split_points())
def test_tool_call_stream_split_anywhere(server: MockServer, points: list[int]) -> None:
    server.enqueue(ToolCalls(CALLS))
    body = post(server, stream=True)
    whole = run(chunks_of([body]), tools=TOOLS)
    split = run(chunks_of(split_at(body, points)), tools=TOOLS)
    assert summary(whole[0]) == summary(split[0])
    assert whole[1] == split[1]


def test_tool_calls_reassemble_and_finish_early(server: MockServer) -> None:
    server.enqueue(ToolCalls(CALLS, times=2))
    body = post(server, stream=True, stream_options={"include_usage": True})
    plain = post(server)
    chunks = chunks_of([body])
    accumulator: ChatCompletionAccumulator[Any] = ChatCompletionAccumulator(tools=TOOLS)
    per_chunk = [accumulator.handle_chunk(chunk) for chunk in chunks]
    events = [event for batch in per_chunk for event in batch]
    done = [e for e in events if isinstance(e, FunctionToolCallArgumentsDoneEvent)]
    assert [(e.index, e.call_id, e.name) for e in done] == [
        (0, "call_a", "get_weather"),
        (1, "call_b", "lookup"),
        (2, "call_c", "loose"),
    ]
    assert done[0].parsed_arguments == Weather("Paris", [1, 2, 3])
    assert done[1].parsed_arguments == {"query": 'a "quoted" thing', "n": 2.5}
    assert done[2].parsed_arguments is None  # not strict, not typed: nothing to parse
    # Each call is done in the chunk where the next one starts, long before the end.
    for index in (0, 1):
        when = next(i for i, batch in enumerate(per_chunk) if done[index] in batch)
        starts = next(
            i
            for i, batch in enumerate(per_chunk)
            if any(
                isinstance(e, FunctionToolCallArgumentsDeltaEvent) and e.index == index + 1
                for e in batch
            )
        )
        assert when == starts < len(chunks) - 1
    # The arguments reassemble from their pieces; partial values grow toward the final one.
    deltas = [e for e in events if isinstance(e, FunctionToolCallArgumentsDeltaEvent)]
    for index, call in enumerate(CALLS):
        mine = [e for e in deltas if e.index == index]
        assert len(mine) > 3
        assert "".join(e.arguments_delta for e in mine) == call.arguments == mine[-1].arguments
    partial = [e.parsed_arguments for e in deltas if e.index == 0]
    assert partial[-1] == {"city": "Paris", "days": [1, 2, 3]}
    assert {"city": "Paris"} in partial or {"city": "Par"} in partial
    final = accumulator.get_final_completion()
    message = final.choices[0].message
    assert message.tool_calls is not None
    assert [c.function.parsed_arguments for c in message.tool_calls] == [  # type: ignore[union-attr]
        e.parsed_arguments for e in done
    ]
    assert final == same_reply(final, plain, tools=TOOLS)


def test_malformed_tool_arguments_name_the_call(server: MockServer) -> None:
    server.enqueue(ToolCalls([ToolCall("lookup", '{"query": "x",, }', id="call_bad")]))
    chunks = chunks_of([post(server, stream=True)])
    accumulator: ChatCompletionAccumulator[Any] = ChatCompletionAccumulator(tools=TOOLS)
    with pytest.raises(InvalidToolArgumentsError) as info:
        for chunk in chunks:
            accumulator.handle_chunk(chunk)
    error = info.value
    assert (error.index, error.call_id, error.name) == (0, "call_bad", "lookup")
    assert error.arguments == '{"query": "x",, }'
    assert "call_bad" in str(error) and "lookup" in str(error)


def test_typed_arguments_of_the_wrong_shape_name_the_call(server: MockServer) -> None:
    server.enqueue(ToolCalls([ToolCall("get_weather", {"city": 3, "days": []}, id="call_x")]))
    accumulator: ChatCompletionAccumulator[Any] = ChatCompletionAccumulator(tools=TOOLS)
    with pytest.raises(InvalidToolArgumentsError) as info:
        for chunk in chunks_of([post(server, stream=True)]):
            accumulator.handle_chunk(chunk)
    assert info.value.call_id == "call_x"
    assert isinstance(info.value.__cause__, OutputValidationError)
    assert info.value.__cause__.path == "Weather.city"


def test_structured_content_with_partial_values(server: MockServer) -> None:
    server.enqueue(Reply(ANSWER, times=2))
    body = post(server, stream=True, stream_options={"include_usage": True})
    plain = post(server)
    events, final = run(chunks_of([body]), response_format=Answer)
    partial: list[Any] = [e.parsed for e in events if isinstance(e, ContentDeltaEvent)]
    assert partial[-1] == {"verdict": "yes", "reasons": ["it is sunny", "naïve → ok"]}
    assert all(consistent(value, partial[-1]) for value in partial[1:])
    assert any(value and len(value.get("reasons", ())) == 1 for value in partial)
    (done,) = [e for e in events if isinstance(e, ContentDoneEvent)]
    assert done.parsed == Answer("yes", ["it is sunny", "naïve → ok"])
    assert final.choices[0].message.parsed == done.parsed
    assert final == same_reply(final, plain, response_format=Answer)


def test_several_choices_stay_apart(server: MockServer) -> None:
    server.enqueue(Reply("one two three", times=1))
    events, final = run(chunks_of([post(server, stream=True, n=3)]))
    for index in range(3):
        mine = [e for e in events if isinstance(e, ContentDeltaEvent) and e.choice_index == index]
        assert mine[-1].snapshot == "one two three"
        assert ContentDoneEvent("one two three", None, index) in events
        assert ChoiceDoneEvent("stop", index) in events
    assert [c.index for c in final.choices] == [0, 1, 2]
    assert {c.message.content for c in final.choices} == {"one two three"}


# --- hand-built chunks --------------------------------------------------------------


def chunk(choices: list[dict[str, Any]], **extra: Any) -> ChatCompletionChunk:
    data = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": choices,
        **extra,
    }
    return decode(ChatCompletionChunk, data)


def choice(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "finish_reason": finish, **extra}


def logprob(token: str) -> dict[str, Any]:
    return {"token": token, "logprob": -0.5, "bytes": None, "top_logprobs": []}


def test_refusal_and_logprobs() -> None:
    chunks = [
        chunk([choice({"role": "assistant", "refusal": "I can"})]),
        chunk([choice({"refusal": "not."}, logprobs={"content": None, "refusal": [logprob("x")]})]),
        chunk([choice({}, "stop")]),
    ]
    events, final = run(chunks, response_format=Answer)
    assert [e for e in events if isinstance(e, RefusalDeltaEvent)] == [
        RefusalDeltaEvent("I can", "I can"),
        RefusalDeltaEvent("not.", "I cannot."),
    ]
    assert RefusalDoneEvent("I cannot.") in events
    assert final.choices[0].message.parsed is None  # a refusal is not parsed
    assert final.choices[0].message.refusal == "I cannot."
    assert final.choices[0].logprobs is not None

    content_chunks = [
        chunk([choice({"content": "a"}, logprobs={"content": [logprob("a")], "refusal": None})]),
        chunk([choice({"content": "b"}, logprobs={"content": [logprob("b")], "refusal": None})]),
        chunk([choice({}, "stop")]),
    ]
    events, final = run(content_chunks)
    deltas = [e for e in events if isinstance(e, LogprobsContentDeltaEvent)]
    assert [[t.token for t in e.content] for e in deltas] == [["a"], ["b"]]
    (done,) = [e for e in events if isinstance(e, LogprobsContentDoneEvent)]
    assert [t.token for t in done.content] == ["a", "b"]


@pytest.mark.parametrize(
    ("reason", "error"),
    [("length", LengthFinishReasonError), ("content_filter", ContentFilterFinishReasonError)],
)
def test_cut_short_structured_reply_raises(reason: str, error: type[Exception]) -> None:
    chunks = [chunk([choice({"content": '{"verdict": '})]), chunk([choice({}, reason)])]
    with pytest.raises(error):
        run(chunks, response_format=Answer)
    _, final = run(chunks)  # nothing to parse: no error
    assert final.choices[0].finish_reason == reason


def test_foreign_objects_are_skipped_and_snapshot_tracks_usage() -> None:
    accumulator: ChatCompletionAccumulator[Any] = ChatCompletionAccumulator()
    with pytest.raises(LookupError):
        accumulator.current_completion_snapshot  # noqa: B018
    assert (
        accumulator.handle_chunk(decode(ChatCompletionChunk, {"object": "", "choices": []})) == []
    )
    accumulator.handle_chunk(chunk([choice({"role": "assistant", "content": "hi"})]))
    snapshot = accumulator.current_completion_snapshot
    assert snapshot.choices[0].message.content == "hi"
    assert snapshot.choices[0].finish_reason is None
    accumulator.handle_chunk(chunk([choice({}, "stop")]))
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    accumulator.handle_chunk(chunk([], usage=usage))
    assert snapshot.usage is not None and snapshot.usage.total_tokens == 3
    assert accumulator.get_final_completion().choices[0].message.annotations == []


# --- the official SDK's state machine, fed the same chunks ----------------------------


def sdk_types(chunks: list[ChatCompletionChunk], tools: list[Any]) -> list[str]:
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState(
        input_tools=[dict(t) for t in tools]  # type: ignore[misc]
    )
    names: list[str] = []
    for item in chunks:
        names += [e.type for e in state.handle_chunk(SDKChunk.model_validate(item.to_dict()))]
    return names


def test_event_order_matches_the_official_sdk(server: MockServer) -> None:
    server.enqueue(ToolCalls(CALLS[1:]))
    server.enqueue(Reply("Some words here."))
    for body in (post(server, stream=True), post(server, stream=True)):
        chunks = chunks_of([body])
        events, _ = run(chunks, tools=[STRICT, LOOSE])
        ours = [e.type for e in events if not isinstance(e, ChoiceDoneEvent)]
        assert ours == sdk_types(chunks, [STRICT, LOOSE])
