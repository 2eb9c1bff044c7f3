"""The computer-use decisions of the core: request checks, call validation, outputs, history."""

from __future__ import annotations

from typing import Any

import pytest

from oxide_proto.helpers._computer import (
    ComputerRun,
    ComputerUseError,
    computer_actions,
    computer_call_output,
    owned_computer_call,
)
from oxide_proto.types.responses import Response, ResponseComputerToolCall


def _call(**fields: Any) -> ResponseComputerToolCall:
    data = {
        "type": "computer_call",
        "id": "cu_1",
        "call_id": "call_1",
        "pending_safety_checks": [],
        "status": "completed",
        "actions": [{"type": "click", "button": "left", "x": 1, "y": 2}],
        **fields,
    }
    return ResponseComputerToolCall.from_dict({k: v for k, v in data.items() if v is not None})


def _message(text: str = "done", ident: str = "msg_1", **fields: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "id": ident,
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
        **fields,
    }


def _response(*items: dict[str, Any], status: str = "completed") -> Response:
    return Response.from_dict(
        {
            "id": "resp_1",
            "object": "response",
            "created_at": 1,
            "status": status,
            "model": "m",
            "output": list(items),
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "error": None,
            "incomplete_details": None,
            "instructions": None,
            "metadata": {},
            "temperature": None,
            "top_p": None,
        }
    )


def _call_item(call_id: str = "call_1", ident: str = "cu_1", **fields: Any) -> dict[str, Any]:
    return {
        "type": "computer_call",
        "id": ident,
        "call_id": call_id,
        "pending_safety_checks": [],
        "status": "completed",
        "actions": [{"type": "type", "text": "hi"}],
        **fields,
    }


SHOT = {"type": "computer_screenshot", "image_url": "data:image/png;base64,AA=="}


def test_actions_get_a_final_screenshot_unless_they_end_with_one() -> None:
    assert [a.type for a in computer_actions(_call())] == ["click", "screenshot"]
    ending = _call(actions=[{"type": "wait"}, {"type": "screenshot"}])
    assert [a.type for a in computer_actions(ending)] == ["wait", "screenshot"]
    legacy = _call(actions=None, action={"type": "keypress", "keys": ["A"]})
    assert [a.type for a in computer_actions(legacy)] == ["keypress", "screenshot"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"action": {"type": "wait"}}, "exactly one of action or actions"),
        ({"actions": None}, "exactly one of action or actions"),
        ({"actions": []}, "no actions"),
        ({"status": "in_progress"}, "did not complete"),
        ({"actions": [{"type": "click", "button": "middle", "x": 1, "y": 1}]}, "invalid action"),
        ({"actions": [{"type": "teleport"}]}, "invalid action"),
    ],
)
def test_malformed_calls_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ComputerUseError, match=message):
        computer_actions(_call(**fields))


@pytest.mark.parametrize(
    ("action", "field", "value"),
    [
        ({"type": "click", "button": "left", "x": 1, "y": 1}, "x", 1.5),
        ({"type": "click", "button": "left", "x": 1, "y": 1}, "y", True),
        ({"type": "scroll", "x": 1, "y": 1, "scroll_x": 0, "scroll_y": 1}, "scroll_y", None),
        ({"type": "drag", "path": [{"x": 1, "y": 1}]}, "path", [{"x": 1}]),
        ({"type": "keypress", "keys": ["A"]}, "keys", [1]),
        ({"type": "type", "text": "a"}, "text", b"a"),
        ({"type": "move", "x": 1, "y": 1}, "keys", "ctrl"),
    ],
)
def test_actions_changed_after_decoding_are_checked(
    action: dict[str, Any], field: str, value: object
) -> None:
    # A call built or changed by the application, not decoded, is checked the same way.
    call = _call(actions=[action])
    assert call.actions is not None
    setattr(call.actions[0], field, value)
    with pytest.raises(ComputerUseError, match="invalid action"):
        computer_actions(call)


def test_malformed_safety_checks_are_refused() -> None:
    call = _call(pending_safety_checks=[{"id": "sc"}])
    call.pending_safety_checks[0].id = 5  # type: ignore[assignment]
    with pytest.raises(ComputerUseError, match="malformed safety checks"):
        computer_actions(call)
    call.pending_safety_checks = "sc"  # type: ignore[assignment]
    with pytest.raises(ComputerUseError, match="malformed safety checks"):
        computer_actions(call)
    legacy = _call(actions=None, action={"type": "wait"})
    legacy.pending_safety_checks = None  # type: ignore[assignment]
    with pytest.raises(ComputerUseError, match="missing its safety checks"):
        computer_actions(legacy)


def test_output_acknowledges_safety_checks_and_checks_the_screenshot() -> None:
    check = {"id": "sc_1", "code": "c", "message": "m"}
    call = _call(pending_safety_checks=[check])
    output = computer_call_output(call, {**SHOT, "file_id": "file_1"})
    assert output == {
        "type": "computer_call_output",
        "call_id": "call_1",
        "output": {**SHOT, "file_id": "file_1"},
        "acknowledged_safety_checks": [check],
    }
    for bad in (
        None,
        {"type": "input_image", "image_url": "x"},
        {"type": "computer_screenshot"},
        {"type": "computer_screenshot", "image_url": "  "},
        {"type": "computer_screenshot", "file_id": 3},
    ):
        with pytest.raises(ComputerUseError, match="computer_screenshot"):
            computer_call_output(call, bad)


def test_owned_call_is_a_detached_copy() -> None:
    call = _call()
    copy = owned_computer_call(call)
    assert copy.to_dict() == call.to_dict()
    assert copy.actions is not None and call.actions is not None
    copy.actions[0].x = 99  # type: ignore[union-attr]
    assert call.actions[0].x == 1  # type: ignore[union-attr]
    with pytest.raises(ComputerUseError):
        owned_computer_call({"type": "computer_call"})  # type: ignore[arg-type]


def test_the_run_prepares_the_request_once_and_never_changes_the_params() -> None:
    params: dict[str, Any] = {
        "model": "m",
        "input": "go",
        "include": ["message.output_text.logprobs"],
    }
    run = ComputerRun(params, 3)
    first = run.request()
    assert first == {
        "model": "m",
        "input": [{"role": "user", "content": "go"}],
        "include": ["message.output_text.logprobs", "reasoning.encrypted_content"],
        "tools": [{"type": "computer"}],
        "stream": False,
    }
    first["input"].append("mutated")
    assert run.request()["input"] == [{"role": "user", "content": "go"}]
    assert params == {"model": "m", "input": "go", "include": ["message.output_text.logprobs"]}


def test_history_grows_with_items_and_outputs() -> None:
    run = ComputerRun({"model": "m", "input": "go", "tool_choice": {"type": "computer"}}, 5)
    reasoning = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "x"}
    response = _response(reasoning, _call_item())
    calls = run.calls(response)
    assert [c.call_id for c in calls] == ["call_1"]
    run.answer([computer_call_output(calls[0], SHOT)])
    request = run.request()
    assert [item.get("type") for item in request["input"]] == [
        None,
        "reasoning",
        "computer_call",
        "computer_call_output",
    ]
    assert request["input"][2] == _call_item()
    assert request["tool_choice"] == "auto"
    assert run.calls(_response(_message())) == []


def test_allowed_tools_required_becomes_auto() -> None:
    choice = {"type": "allowed_tools", "mode": "required", "tools": [{"type": "computer"}]}
    run = ComputerRun({"model": "m", "tool_choice": choice}, 5)
    run.calls(_response(_call_item()))
    assert run.request()["tool_choice"] == {**choice, "mode": "auto"}


def test_idempotency_key_is_replaced_after_the_first_step() -> None:
    run = ComputerRun({"model": "m", "extra_headers": {"idempotency-key": "k0", "X-A": "1"}}, 5)
    assert run.request(None, "k1")["extra_headers"] == {"idempotency-key": "k0", "X-A": "1"}
    run.calls(_response(_call_item()))
    assert run.request(None, "k1")["extra_headers"] == {"X-A": "1", "Idempotency-Key": "k1"}
    plain = ComputerRun({"model": "m"}, 5)
    plain.calls(_response(_call_item()))
    assert "extra_headers" not in plain.request(None, "k1")
    assert plain.request({"Idempotency-Key": "d"}, "k2")["extra_headers"] == {
        "Idempotency-Key": "k2"
    }


@pytest.mark.parametrize(
    ("items", "status", "message"),
    [
        ([_message()], "incomplete", "did not complete"),
        (
            [{"type": "function_call", "id": "fc", "call_id": "c", "name": "f", "arguments": "{}"}],
            "completed",
            "'function_call' item",
        ),
        ([_call_item(), _call_item(ident="cu_2")], "completed", "repeats the computer call id"),
        ([_message(), _message()], "completed", "repeats the output item id"),
        ([_message(phase="commentary")], "completed", "neither a final message"),
        ([], "completed", "neither a final message"),
    ],
)
def test_responses_that_cannot_be_continued(
    items: list[dict[str, Any]], status: str, message: str
) -> None:
    response = _response(*items, status=status)
    with pytest.raises(ComputerUseError, match=message) as caught:
        ComputerRun({"model": "m"}, 5).calls(response)
    assert caught.value.response is response


def test_ids_already_in_the_input_cannot_come_back() -> None:
    history = [_call_item(call_id="call_1"), {"type": "computer_call_output", "call_id": "call_1"}]
    run = ComputerRun({"model": "m", "input": history}, 5)
    with pytest.raises(ComputerUseError, match="repeats the computer call id"):
        run.calls(_response(_call_item(ident="cu_9")))


def test_the_last_step_must_answer() -> None:
    run = ComputerRun({"model": "m"}, 1)
    with pytest.raises(ComputerUseError, match="max_steps"):
        run.calls(_response(_call_item()))
    with pytest.raises(ComputerUseError, match="max_steps"):
        run.request()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tools": []}, "exactly one tool"),
        ({"tools": [{"type": "computer"}, {"type": "computer"}]}, "exactly one tool"),
        ({"tools": [{"type": "web_search"}]}, "exactly one tool"),
        ({"background": True}, "non-streaming"),
        ({"conversation": "conv_1"}, "replays the whole history"),
        ({"extra_body": {"tools": [], "include": []}}, "include, tools"),
        ({"input": 5}, "input must be"),
        ({"include": "x"}, "include must be a list"),
    ],
)
def test_params_the_run_cannot_honour(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ComputerRun({"model": "m", **params}, 5)


@pytest.mark.parametrize("steps", [0, -1, True, 2.0, "3"])
def test_max_steps_must_be_a_positive_integer(steps: Any) -> None:
    with pytest.raises(ValueError, match="max_steps"):
        ComputerRun({"model": "m"}, steps)
