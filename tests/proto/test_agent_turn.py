"""Following one agent session turn from its events, without a connection."""

from __future__ import annotations

from typing import Any

import pytest

from oxide_proto import (
    AgentTurnCollector,
    AgentTurnResultError,
    AgentTurnTracker,
    agent_input_event,
    agent_tool_arguments,
    agent_tool_call,
    agent_tool_result_event,
    is_pending_tool_call_race,
)
from oxide_proto.api._decode import decode
from oxide_proto.types import AgentSessionEvent


def event(kind: str, event_id: str, **fields: Any) -> Any:
    decoded: Any = decode(AgentSessionEvent, {"type": kind, "event_id": event_id, **fields})
    return decoded


def turn(status: str, subagent: str | None = None) -> dict[str, Any]:
    return {
        "id": "t1" if subagent is None else "t2",
        "session_id": "s1",
        "status": status,
        "subagent_id": subagent,
    }


def session(status: str, **fields: Any) -> dict[str, Any]:
    return {"id": "s1", "status": status, **fields}


def test_the_tracker_ends_at_idle_after_our_turn_and_drops_repeats() -> None:
    tracker = AgentTurnTracker()
    early_idle = event("agent.session.idle", "e0", session=session("idle"))
    assert tracker.accept(early_idle) and not tracker.terminal(early_idle, "s1")
    sub = event(
        "agent.session.turn.created",
        "e1",
        turn_id="t2",
        session_id="s1",
        turn=turn("in_progress", "sub"),
    )
    assert tracker.accept(sub) and tracker.turn_id is None  # a subagent's turn is not ours
    created = event(
        "agent.session.turn.created", "e2", turn_id="t1", session_id="s1", turn=turn("in_progress")
    )
    assert tracker.accept(created) and tracker.turn_id == "t1"
    assert not tracker.accept(created)
    done = event(
        "agent.session.turn.completed", "e3", turn_id="t1", session_id="s1", turn=turn("completed")
    )
    assert tracker.accept(done) and tracker.turn_ended
    idle = event("agent.session.idle", "e4", session=session("idle"))
    assert tracker.terminal(idle, "s1")
    failed = event("agent.session.failed", "e5", session=session("failed"))
    assert AgentTurnTracker().terminal(failed, "s1")


def test_tool_calls_are_taken_once_and_their_arguments_checked() -> None:
    call = {
        "type": "function_call",
        "id": "i1",
        "call_id": "c1",
        "name": "add",
        "arguments": '{"a": 1}',
        "status": "completed",
        "turn_id": "t1",
    }
    added = event("agent.session.turn.item.added", "e1", session_id="s1", item=call)
    handled: set[tuple[str, str]] = set()
    assert agent_tool_call(added, {"other"}, handled) is None
    taken = agent_tool_call(added, {"add"}, handled)
    assert taken is not None and agent_tool_arguments(taken) == {"a": 1}
    assert agent_tool_call(added, {"add"}, handled) is None
    assert agent_tool_result_event(taken, {"b": [1, 2]})["output"] == '{"b":[1,2]}'
    taken.arguments = '{"a": NaN}'
    with pytest.raises(ValueError, match="finite"):
        agent_tool_arguments(taken)
    taken.arguments = "[1]"
    with pytest.raises(ValueError, match="JSON object"):
        agent_tool_arguments(taken)
    assert is_pending_tool_call_race(
        {"code": "invalid_request_error", "message": "Unknown pending tool call: c1"}, "c1"
    )
    assert not is_pending_tool_call_race({"code": "invalid_request_error"}, "c1")


@pytest.mark.parametrize(
    ("events", "handled", "reason"),
    [
        ([("agent.session.turn.failed", turn("failed"))], (), "failed"),
        ([("agent.session.turn.cancelled", turn("cancelled"))], (), "cancelled"),
        ([("requires_action", {"type": "function_call", "name": "lookup"})], (), "requires_action"),
        ([("requires_action", {"type": "function_call", "name": "lookup"})], ("lookup",), None),
    ],
)
def test_the_collector_says_why_there_is_no_result(
    events: list[tuple[str, Any]], handled: tuple[str, ...], reason: str | None
) -> None:
    collector = AgentTurnCollector("s1", lambda result: result)
    created = event(
        "agent.session.turn.created", "e1", turn_id="t1", session_id="s1", turn=turn("in_progress")
    )
    collector.accept(created)
    for n, (kind, payload) in enumerate(events):
        if kind == "requires_action":
            collector.accept(
                event(
                    "agent.session.requires_action",
                    f"r{n}",
                    session=session("requires_action", required_actions=[payload]),
                )
            )
        else:
            collector.accept(event(kind, f"x{n}", turn_id="t1", session_id="s1", turn=payload))
    if reason is None:
        collector.check_outcome(handled)  # a handler answers it: the turn goes on
        collector.accept(event("agent.session.in_progress", "p1", session=session("in_progress")))
        with pytest.raises(AgentTurnResultError) as caught:
            collector.result()  # not over yet
        assert caught.value.reason == "incomplete"
    else:
        with pytest.raises(AgentTurnResultError) as caught:
            collector.check_outcome(handled)
        assert caught.value.reason == reason
        assert caught.value.turn_id == "t1"


def test_input_is_text_or_messages_never_empty() -> None:
    assert agent_input_event("hi")["input"][0]["content"] == [{"type": "input_text", "text": "hi"}]
    assert agent_input_event([{"role": "user", "content": []}])["input"] == [
        {"role": "user", "content": []}
    ]
    for empty in ("", []):
        with pytest.raises(ValueError, match="empty"):
            agent_input_event(empty)
