"""OpenAIStreamDecoder: JSON payloads, `[DONE]`, error events, both Responses framings.

Every stream runs fed whole, byte by byte and split at Hypothesis-chosen points.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings

from oxide_proto import (
    NEED_DATA,
    URL,
    APIError,
    Headers,
    LimitExceededError,
    LocalProtocolError,
    MalformedEventError,
    OpenAIStreamDecoder,
    Request,
    StreamEnd,
    StreamEvent,
)
from tests.splits import fixed_feeds, split_at, split_points


def sse(data: object, event: str | None = None) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {text}\n\n".encode()


def run(chunks: list[bytes], **options: Any) -> tuple[list[StreamEvent], StreamEnd]:
    decoder = OpenAIStreamDecoder(**options)
    items: list[StreamEvent] = []
    for chunk in [*chunks, None]:
        if chunk is None:
            decoder.receive_eof()
        else:
            decoder.receive_data(chunk)
        while (item := decoder.next_event()) is not NEED_DATA:
            if isinstance(item, StreamEnd):
                assert decoder.next_event() is item  # the end repeats
                return items, item
            items.append(item)
    raise AssertionError("no StreamEnd after EOF")


def run_all_feeds(stream: bytes, **options: Any) -> tuple[list[StreamEvent], StreamEnd]:
    results = [run(chunks, **options) for _, chunks in fixed_feeds(stream)]
    assert results[0] == results[1]
    return results[0]


def raises_all_feeds(stream: bytes, error: type[Exception], **options: Any) -> Exception:
    caught = []
    for how, chunks in fixed_feeds(stream):
        decoder = OpenAIStreamDecoder(**options)
        with pytest.raises(error) as info:
            for chunk in chunks:
                decoder.receive_data(chunk)
                while decoder.next_event() is not NEED_DATA:
                    pass
            decoder.receive_eof()
            decoder.next_event()
        with pytest.raises(error):
            decoder.next_event()  # the error sticks
        caught.append((how, info.value))
    assert str(caught[0][1]) == str(caught[1][1])
    return caught[0][1]


CHUNK = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "gpt-4.1",
    "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}],
}
CHAT = sse(CHUNK) + sse({**CHUNK, "choices": []}) + b"data: [DONE]\n\n"

DELTAS = [
    {"type": "response.created", "sequence_number": 0, "response": {"id": "resp_1"}},
    {"type": "response.output_text.delta", "sequence_number": 1, "delta": "Hel"},
    {"type": "response.output_text.delta", "sequence_number": 2, "delta": "lo"},
    {"type": "response.completed", "sequence_number": 3, "response": {"id": "resp_1"}},
]
RESPONSES_EVENT_LINES = b"".join(sse(d, d["type"]) for d in DELTAS)
RESPONSES_DATA_ONLY = b"".join(sse(d) for d in DELTAS) + b"data: [DONE]\n\n"


def test_chat_stream_ends_at_done() -> None:
    items, end = run_all_feeds(CHAT + b"data: ignored after done\n\n")
    assert end == StreamEnd(done=True)
    assert [i.data for i in items] == [CHUNK, {**CHUNK, "choices": []}]
    assert all(i.event is None for i in items)


def test_chat_stream_without_done_is_reported() -> None:
    _, end = run_all_feeds(sse(CHUNK))
    assert end == StreamEnd(done=False)


def test_both_responses_framings_give_the_same_payloads() -> None:
    with_names, end_names = run_all_feeds(RESPONSES_EVENT_LINES)
    data_only, end_data = run_all_feeds(RESPONSES_DATA_ONLY)
    assert [i.data for i in with_names] == [i.data for i in data_only] == DELTAS
    assert (
        [i.type for i in with_names] == [i.type for i in data_only] == [d["type"] for d in DELTAS]
    )
    assert [i.event for i in with_names] == [d["type"] for d in DELTAS]
    assert end_names == StreamEnd(done=False)
    assert end_data == StreamEnd(done=True)


@settings(max_examples=100, deadline=None)
@given(points=split_points())
def test_split_anywhere(points: list[int]) -> None:
    for stream in (CHAT, RESPONSES_EVENT_LINES, RESPONSES_DATA_ONLY):
        assert run(split_at(stream, points)) == run([stream])


def test_done_prefix_ends_the_stream_like_the_sdk() -> None:
    _, end = run_all_feeds(b"data: [DONE] bye\n\n")
    assert end.done


def test_data_after_done_is_ignored() -> None:
    decoder = OpenAIStreamDecoder()
    decoder.receive_data(b"data: [DONE]\n\n")
    assert decoder.next_event() == StreamEnd(done=True)
    assert decoder.done
    decoder.receive_data(b"data: {not json\n\n")
    decoder.receive_eof()
    assert decoder.next_event() == StreamEnd(done=True)


def test_data_after_eof_is_misuse() -> None:
    decoder = OpenAIStreamDecoder()
    decoder.receive_eof()
    assert decoder.next_event() == StreamEnd(done=False)
    with pytest.raises(LocalProtocolError):
        decoder.receive_data(b"data: {}\n\n")


def test_blocks_without_data_are_skipped() -> None:
    # retry-only and comment blocks dispatch nothing (the SDK would try to parse "").
    items, _ = run_all_feeds(b": ping\n\nretry: 100\n\nid: 3\n\n" + CHAT)
    assert len(items) == 2


def test_unfinished_event_at_eof_is_dropped() -> None:
    items, end = run_all_feeds(sse(CHUNK) + b'data: {"id": "half"}\n')
    assert len(items) == 1
    assert end == StreamEnd(done=False)


def test_whitespace_around_json() -> None:
    items, _ = run_all_feeds(b'data:   {"a": 1} \t\n\ndata:\t[1]\n\n')
    assert [i.data for i in items] == [{"a": 1}, [1]]


def test_non_object_payloads_pass_through() -> None:
    items, _ = run_all_feeds(b'data: [1, 2]\n\ndata: "text"\n\ndata: null\n\n')
    assert [i.data for i in items] == [[1, 2], "text", None]
    assert [i.type for i in items] == [None, None, None]


# -- errors -------------------------------------------------------------------------------


def test_top_level_error_object_raises() -> None:
    error = {"message": "The server had an error", "type": "server_error", "code": "boom"}
    exc = raises_all_feeds(sse(CHUNK) + sse({"error": error}), APIError)
    assert type(exc) is APIError
    assert exc.message == "The server had an error"
    assert exc.body == error
    assert (exc.code, exc.type) == ("boom", "server_error")


def test_error_without_message_gets_a_default() -> None:
    exc = raises_all_feeds(sse({"error": {"code": 500}}), APIError)
    assert str(exc) == "An error occurred during streaming"
    assert exc.body == {"code": 500}


def test_error_that_is_not_an_object() -> None:
    exc = raises_all_feeds(sse({"error": "overloaded"}), APIError)
    assert exc.body == "overloaded"
    assert exc.message == "An error occurred during streaming"


def test_falsy_error_is_not_an_error() -> None:
    items, _ = run_all_feeds(sse({"error": None, "x": 1}) + sse({"error": {}}))
    assert len(items) == 2


RESPONSES_ERROR = {
    "type": "error",
    "code": "rate_limit_exceeded",
    "message": "Slow down",
    "param": None,
    "sequence_number": 4,
}


@pytest.mark.parametrize("event", ["error", None], ids=["event-line", "data-only"])
def test_responses_error_event_raises_in_both_framings(event: str | None) -> None:
    exc = raises_all_feeds(RESPONSES_EVENT_LINES + sse(RESPONSES_ERROR, event), APIError)
    assert exc.message == "Slow down"
    assert exc.body == RESPONSES_ERROR
    assert exc.code == "rate_limit_exceeded"


def test_error_event_wrapping_an_error_object() -> None:
    exc = raises_all_feeds(sse({"error": {"message": "bad"}}, "error"), APIError)
    assert exc.body == {"message": "bad"}


def test_error_event_with_non_object_data() -> None:
    exc = raises_all_feeds(sse('"gone"', "error"), APIError)
    assert exc.body == "gone"


def test_raise_errors_false_yields_error_payloads() -> None:
    stream = sse(RESPONSES_ERROR, "error") + sse({"error": {"message": "x"}})
    items, _ = run_all_feeds(stream, raise_errors=False)
    assert [i.data for i in items] == [RESPONSES_ERROR, {"error": {"message": "x"}}]
    assert [(i.event, i.type) for i in items] == [("error", "error"), (None, None)]


def test_assistants_thread_events_are_never_errors() -> None:
    # As in the SDK: thread.* payloads are objects of their own (`last_error` on a
    # failed run); only the SSE event name says what they are.
    run_failed = {"id": "run_1", "object": "thread.run", "status": "failed", "error": "x"}
    items, _ = run_all_feeds(sse(run_failed, "thread.run.failed"))
    assert items == [StreamEvent("thread.run.failed", run_failed)]
    assert items[0].type == "thread.run.failed"


def test_errors_carry_the_request() -> None:
    request = Request("POST", URL("http", "127.0.0.1", 80, "/v1/responses"), Headers())
    decoder = OpenAIStreamDecoder(request=request)
    decoder.receive_data(sse({"error": {"message": "no"}}))
    with pytest.raises(APIError) as info:
        decoder.next_event()
    assert info.value.request is request


DEEP = "[" * 100_000


@pytest.mark.parametrize(
    ("event", "data"),
    [
        (None, "{not json}"),
        ("response.output_text.delta", '{"type": '),
        (None, "{} {}"),
        (None, ""),
        (None, DEEP),
    ],
    ids=["garbage", "truncated", "extra-data", "empty", "too-deep"],
)
def test_malformed_json(event: str | None, data: str) -> None:
    exc = raises_all_feeds(sse(CHUNK) + sse(data, event), MalformedEventError)
    assert isinstance(exc, MalformedEventError)
    assert (exc.event, exc.data) == (event, data)
    assert repr(event or "message") in str(exc)
    assert repr(data[:20])[1:-1] in str(exc)
    assert len(str(exc)) < 400  # a prefix of the data, not all of it


def test_limits_pass_through() -> None:
    raises_all_feeds(sse("x" * 100), LimitExceededError, max_line_size=50)
    raises_all_feeds(sse("1") + b"data: 1\n" * 20 + b"\n", LimitExceededError, max_event_size=16)


def test_last_event_id() -> None:
    decoder = OpenAIStreamDecoder()
    decoder.receive_data(b"id: 42\ndata: {}\n\n")
    assert decoder.next_event() == StreamEvent(None, {})
    assert decoder.last_event_id == "42"
