"""The core of Responses WebSocket lanes: routing, budgets, outcomes, the accumulator."""

from __future__ import annotations

from typing import Any

import pytest

from oxide_proto.sessions._responses_lanes import (
    LaneRouter,
    ResponsesWebSocketAccumulator,
    ResponsesWebSocketBufferError,
    ResponsesWebSocketError,
    ResponsesWebSocketLimits,
    lane_command,
)

LIMITS = ResponsesWebSocketLimits(
    max_lanes=3, max_events_per_lane=12, max_events=20, max_bytes_per_lane=1000, max_bytes=2000
)


def response(rid: str, status: str, output: list[Any] | None = None) -> dict[str, Any]:
    return {
        "id": rid,
        "object": "response",
        "created_at": 1,
        "model": "m",
        "status": status,
        "output": output or [],
    }


MESSAGE = {
    "type": "message",
    "id": "msg_1",
    "role": "assistant",
    "status": "completed",
    "content": [{"type": "output_text", "text": "Hello there", "annotations": []}],
}


def turn(
    stream_id: str | None, rid: str = "resp_1", *, whole_end: bool = False
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": response(rid, "in_progress")},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**MESSAGE, "content": []},
        },
        {
            "type": "response.output_text.delta",
            "output_index": 0,
            "content_index": 0,
            "item_id": "msg_1",
            "delta": "Hello",
        },
        {
            "type": "response.output_text.delta",
            "output_index": 0,
            "content_index": 0,
            "item_id": "msg_1",
            "delta": " there",
        },
        {"type": "response.output_item.done", "output_index": 0, "item": MESSAGE},
        # The ending event without the output: the finished items fill it in.
        {
            "type": "response.completed",
            "response": response(rid, "completed", [MESSAGE] if whole_end else []),
        },
    ]
    if stream_id is not None:
        for event in events:
            event["stream_id"] = stream_id
    return events


def test_limits_are_positive_integers() -> None:
    with pytest.raises(ValueError, match="max_events"):
        ResponsesWebSocketLimits(1, 1, 0, 1, 1)
    with pytest.raises(ResponsesWebSocketBufferError):
        LaneRouter(ResponsesWebSocketLimits(1, 1, 1, 1, 1)).register("second")
    with pytest.raises(ValueError, match="max_lanes"):
        ResponsesWebSocketLimits(True, 1, 1, 1, 1)
    with pytest.raises(ValueError, match="max_response_bytes"):
        ResponsesWebSocketLimits(1, 1, 1, 1, 1, max_response_bytes=-1)


def test_events_go_to_their_lane_and_the_outcome_is_built() -> None:
    router: LaneRouter[str] = LaneRouter(LIMITS)
    a = router.register("a")
    router.prepare(a, creates=True)
    for index, event in enumerate(turn("a") + turn(None, "resp_d") + turn("zzz", "resp_z")):
        router.dispatch(f"event {index}", event, 10)
    assert len(a.queue) == 6 and len(router.default.queue) == 12
    assert router.events == 18 and router.size == 180
    read = []
    while (got := router.pop(a)) is not None:
        read.append(got)
    assert read == [f"event {i}" for i in range(6)]
    assert a.turn.final is not None and a.turn.final.output_text == "Hello there"
    assert not a.in_flight
    while router.pop(router.default) is not None:
        pass
    # The stray stream's events were shown to the default lane and left its outcome alone.
    final = router.default.turn.final
    assert final is not None and final.id == "resp_d"
    router.finish()
    with pytest.raises(EOFError):
        router.pop(a)


def test_one_create_at_a_time_per_lane() -> None:
    router: LaneRouter[str] = LaneRouter(LIMITS)
    router.prepare(router.default, creates=True)
    with pytest.raises(RuntimeError, match="still running"):
        router.prepare(router.default, creates=True)
    router.prepare(router.default, creates=False)  # other client events go
    router.dispatch("e", {"type": "error", "error": {"message": "bad model"}}, 5)
    assert router.pop(router.default) == "e"
    assert isinstance(router.default.turn.error, ResponsesWebSocketError)
    assert "bad model" in str(router.default.turn.error)
    router.prepare(router.default, creates=True)
    assert router.default.turn.error is None


def test_over_a_budget_the_session_ends() -> None:
    router: LaneRouter[str] = LaneRouter(LIMITS)
    with pytest.raises(ResponsesWebSocketBufferError):
        router.dispatch("big", {"type": "x"}, 1001)
    for stream in ("a", "b"):
        router.register(stream)
    with pytest.raises(ResponsesWebSocketBufferError, match="max_lanes"):
        router.register("c")
    with pytest.raises(ValueError):
        router.register("a")


def test_isolated_overflow_fails_the_fullest_lane() -> None:
    limits = ResponsesWebSocketLimits(3, 5, 6, 1000, 1000)
    router: LaneRouter[str] = LaneRouter(limits, isolate_lane_overflow=True)
    a, b = router.register("a"), router.register("b")
    for i in range(4):
        router.dispatch(f"a{i}", {"type": "x", "stream_id": "a"}, 1)
    router.dispatch("b0", {"type": "x", "stream_id": "b"}, 1)
    router.dispatch("b1", {"type": "x", "stream_id": "b"}, 1)
    router.dispatch("b2", {"type": "x", "stream_id": "b"}, 1)  # seven held: a holds most
    assert a.failure is not None and b.failure is None
    assert router.events == 3
    with pytest.raises(ResponsesWebSocketBufferError, match="'a'"):
        router.pop(a)
    assert router.dispatch("a9", {"type": "x", "stream_id": "a"}, 1) is None
    assert [router.pop(b) for _ in range(3)] == ["b0", "b1", "b2"]


def test_max_response_bytes_fails_the_response() -> None:
    limits = ResponsesWebSocketLimits(2, 10, 10, 1000, 1000, max_response_bytes=25)
    router: LaneRouter[str] = LaneRouter(limits)
    for event in turn(None):
        router.dispatch("e", event, 10)
    while router.pop(router.default) is not None:
        pass
    assert isinstance(router.default.turn.error, ResponsesWebSocketBufferError)


def test_lane_command() -> None:
    payload, creates = lane_command({"type": "response.create", "model": "m"}, "lane-1")
    assert creates and payload == {"type": "response.create", "model": "m", "stream_id": "lane-1"}
    assert lane_command({"type": "response.steer"}, "x") == ({"type": "response.steer"}, False)
    with pytest.raises(ValueError, match="lane-2"):
        lane_command({"type": "response.create", "stream_id": "lane-2"}, "lane-1")
    with pytest.raises(TypeError):
        lane_command(42, None)


@pytest.mark.parametrize("whole", [True, False], ids=["whole", "one_by_one"])
def test_accumulator_snapshot_and_final(whole: bool) -> None:
    accumulator = ResponsesWebSocketAccumulator()
    events = turn("s", whole_end=True)
    snapshots = []
    for event in events:
        accumulator.add_event(event)
        if not whole:
            snapshots.append(accumulator.snapshot())
    snapshot = accumulator.snapshot()
    assert snapshot.stream_id == "s" and snapshot.response_id == "resp_1"
    assert snapshot.terminal_type == "response.completed"
    assert snapshot.output_text == "Hello there"
    assert snapshot.output[0].item_id == "msg_1" and snapshot.output[0].type == "message"
    if not whole:
        assert [s.output_text for s in snapshots][2:4] == ["Hello", "Hello there"]
        assert snapshots[0].terminal_type is None
    assert accumulator.get_final_response().status == "completed"
    with pytest.raises(RuntimeError, match="reset"):
        accumulator.add_event(events[0])
    accumulator.reset()
    with pytest.raises(RuntimeError, match="not ended"):
        accumulator.get_final_response()
    # A response's own output list, even an empty one, is what it holds.
    for event in turn("s"):
        accumulator.add_event(event)
    assert accumulator.snapshot().output == ()


def test_accumulator_refuses_other_lanes_and_raises_errors() -> None:
    accumulator = ResponsesWebSocketAccumulator()
    accumulator.add_event(turn("a")[0])
    with pytest.raises(ValueError, match="'b'"):
        accumulator.add_event(turn("b")[1])
    accumulator.add_event({"type": "response.unknown", "stream_id": "a"})  # ignored
    with pytest.raises(ResponsesWebSocketError):
        accumulator.add_event({"type": "error", "stream_id": "a", "error": {"message": "no"}})
    with pytest.raises(ResponsesWebSocketError):
        accumulator.get_final_response()
    fresh = ResponsesWebSocketAccumulator()
    with pytest.raises(ValueError, match="output_index"):
        fresh.add_event({"type": "response.output_text.delta", "delta": "x"})
