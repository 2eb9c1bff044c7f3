"""The Responses stream accumulator, fed real streams from the embedded server."""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from oxide_io.testing import MockServer, Reply, ToolCall, ToolCalls
from oxide_proto import (
    NEED_DATA,
    InvalidToolArgumentsError,
    OpenAIStreamDecoder,
    RemoteProtocolError,
    ResponseCompletedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    ResponseStreamAccumulator,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
    StreamEvent,
    UnknownModel,
    decode,
    decode_response_stream_event,
    parse_response,
    responses_function_tool,
)
from oxide_proto.types import responses as rt
from tests.splits import fixed_feeds


@dataclasses.dataclass
class Weather:
    city: str
    days: list[int]


@dataclasses.dataclass
class Verdict:
    answer: str
    score: float


WEATHER = responses_function_tool(Weather, name="get_weather")
STRICT = {"type": "function", "name": "lookup", "strict": True, "parameters": {}}


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


def post(server: MockServer, **body: Any) -> bytes:
    request = urllib.request.Request(
        server.base_url + "/responses",
        data=json.dumps({"model": "gpt-4o-mini", "input": "hi", **body}).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer sk-test"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        data: bytes = response.read()
    return data


def events_of(pieces: list[bytes]) -> list[Any]:
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
            out.append(decode_response_stream_event(event.data))
    return out


def run(events: list[Any], **options: Any) -> tuple[list[Any], ResponseStreamAccumulator[Any]]:
    accumulator: ResponseStreamAccumulator[Any] = ResponseStreamAccumulator(**options)
    return [out for event in events for out in accumulator.handle_event(event)], accumulator


def test_text_stream(server: MockServer) -> None:
    text = "Some words, streamed one by one."
    server.enqueue(Reply(text))
    body = post(server, stream=True)
    runs = [run(events_of(pieces)) for _, pieces in fixed_feeds(body)]
    finals = [accumulator.get_final_response() for _, accumulator in runs]
    assert finals[0] == finals[1]
    out, _ = runs[0]
    deltas = [e for e in out if isinstance(e, ResponseTextDeltaEvent)]
    joined = ""
    for event in deltas:
        joined += event.delta
        assert event.snapshot == joined
        assert isinstance(event, rt.ResponseTextDeltaEvent)  # still the raw event
    assert joined == text
    final = finals[0]
    assert final.output_text == text and final.output_parsed is None
    completed = out[-1]
    assert isinstance(completed, ResponseCompletedEvent) and completed.response == final
    # Equal to the `response.completed` payload, parsed the same way.
    raw = json.loads(body.decode().split("event: response.completed\ndata: ")[1])
    assert final == parse_response(decode(rt.Response, raw["response"]))
    assert final.usage is not None and final.usage.total_tokens > 0


def test_output_rebuilt_without_completed_event_equals_completed(server: MockServer) -> None:
    server.enqueue(ToolCalls([ToolCall("get_weather", {"city": "Oslo", "days": [2]}, id="c1")]))
    events = events_of([post(server, stream=True)])
    completed = events[-1]
    assert isinstance(completed, rt.ResponseCompletedEvent)
    _, accumulator = run(events[:-1], tools=[WEATHER])
    rebuilt = accumulator.get_final_response()
    expected: Any = parse_response(completed.response, tools=[WEATHER])
    assert rebuilt.output == expected.output
    assert rebuilt.id == expected.id


def test_function_calls_parsed_when_done(server: MockServer) -> None:
    calls = [
        ToolCall("get_weather", {"city": "Paris", "days": [1, 2]}, id="call_1"),
        ToolCall("lookup", {"q": "x"}, id="call_2"),
    ]
    server.enqueue(ToolCalls(calls))
    out, accumulator = run(events_of([post(server, stream=True)]), tools=[WEATHER, STRICT])
    done = [e for e in out if isinstance(e, ResponseFunctionCallArgumentsDoneEvent)]
    assert [e.parsed_arguments for e in done] == [Weather("Paris", [1, 2]), {"q": "x"}]
    first_done = out.index(done[0])
    later = [e for e in out[first_done:] if isinstance(e, ResponseFunctionCallArgumentsDeltaEvent)]
    assert later  # the second call was still streaming when the first was ready
    snapshots = [e.snapshot for e in out if isinstance(e, ResponseFunctionCallArgumentsDeltaEvent)]
    assert calls[0].arguments in snapshots
    final = accumulator.get_final_response()
    assert [getattr(item, "parsed_arguments", None) for item in final.output] == [
        Weather("Paris", [1, 2]),
        {"q": "x"},
    ]


def test_malformed_arguments_name_the_call(server: MockServer) -> None:
    server.enqueue(ToolCalls([ToolCall("lookup", "{nope", id="call_bad")]))
    with pytest.raises(InvalidToolArgumentsError) as info:
        run(events_of([post(server, stream=True)]), tools=[STRICT])
    assert (info.value.call_id, info.value.name, info.value.index) == ("call_bad", "lookup", 0)


def test_text_format(server: MockServer) -> None:
    server.enqueue(Reply(json.dumps({"answer": "yes", "score": 1})))
    out, accumulator = run(events_of([post(server, stream=True)]), text_format=Verdict)
    (done,) = [e for e in out if isinstance(e, ResponseTextDoneEvent)]
    assert done.parsed == Verdict("yes", 1.0)
    assert accumulator.get_final_response().output_parsed == Verdict("yes", 1.0)


def test_unknown_events_pass_through(server: MockServer) -> None:
    server.enqueue(Reply("hi"))
    events = events_of([post(server, stream=True)])
    novel = decode_response_stream_event({"type": "response.novel_thing", "x": 1})
    assert isinstance(novel, UnknownModel)
    out, _ = run([events[0], novel, *events[1:]])
    assert out[1] is novel


def test_content_before_its_item_is_a_protocol_error() -> None:
    delta = decode_response_stream_event(
        {
            "type": "response.output_text.delta",
            "item_id": "m",
            "output_index": 3,
            "content_index": 0,
            "delta": "x",
            "sequence_number": 1,
            "logprobs": [],
        }
    )
    with pytest.raises(RemoteProtocolError):
        run([delta])


def test_text_before_its_content_part_is_a_protocol_error() -> None:
    added = decode_response_stream_event(
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "sequence_number": 0,
            "item": {
                "type": "message",
                "id": "m",
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            },
        }
    )
    delta = decode_response_stream_event(
        {
            "type": "response.output_text.delta",
            "item_id": "m",
            "output_index": 0,
            "content_index": 0,
            "delta": "x",
            "sequence_number": 1,
            "logprobs": [],
        }
    )
    with pytest.raises(RemoteProtocolError, match=r"content_part\.added"):
        run([added, delta])
