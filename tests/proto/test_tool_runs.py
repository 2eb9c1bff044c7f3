"""The tool runners' decisions (oxide_proto.helpers._tool_runs), without any I/O.

What a run sends, which calls it runs, what it replays and when it stops are
decided on plain JSON data; every refusal is checked to happen before anything
runs, with the ids of what already ran.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oxide_proto import (
    DecisionsToolRun,
    DecisionsToolRunnerError,
    ResponsesToolRun,
    ToolRunnerError,
    function_result,
    step_headers,
    tool_diagnostic,
)
from oxide_proto.helpers._tool_runs import early_selection

ADD = {"type": "function", "name": "add", "parameters": {"type": "object"}}
MUL = {"type": "function", "name": "mul", "parameters": {"type": "object"}}
FUNCTIONS: dict[str, tuple[dict[str, Any], Any]] = {"add": (ADD, None), "mul": (MUL, None)}
PARAMS = {"model": "m", "input": "2 + 3?"}


def call(
    call_id: str, name: str = "add", arguments: str = '{"a": 2, "b": 3}', **extra: Any
) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": f"fc_{call_id}",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": "completed",
        **extra,
    }


def message(text: str = "5", **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"msg_{text}",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
        **extra,
    }


def response(*items: dict[str, Any], status: str = "completed") -> dict[str, Any]:
    return {"id": "resp", "status": status, "output": list(items)}


def new_run(params: dict[str, Any] | None = None, **options: Any) -> ResponsesToolRun:
    run = ResponsesToolRun(
        params or PARAMS, FUNCTIONS, max_steps=options.pop("max_steps", 5), **options
    )
    run.begin(0)
    return run


# -- diagnostics -----------------------------------------------------------------


def test_a_diagnostic_has_its_duration_and_only_whole_counts() -> None:
    record = tool_diagnostic(
        "responses",
        "request",
        "completed",
        started=10.0,
        now=10.25,
        usage={"input_tokens": 3, "output_tokens": 4, "total_tokens": 7, "extra": "x"},
    )
    assert record == {
        "api": "responses",
        "stage": "request",
        "reason": "completed",
        "call_id": None,
        "member": None,
        "duration_ms": 250.0,
        "usage": {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7},
    }

    class Usage:
        input_tokens, output_tokens, total_tokens = 1, 2, 3

    assert tool_diagnostic("decisions", "request", "completed", started=0, now=0, usage=Usage())[
        "usage"
    ] == {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}
    for bad in (
        {"input_tokens": 1, "output_tokens": 2},
        {"input_tokens": -1, "output_tokens": 2, "total_tokens": 1},
        {"input_tokens": True, "output_tokens": 2, "total_tokens": 3},
        {"input_tokens": 1.0, "output_tokens": 2, "total_tokens": 3},
        "3 tokens",
    ):
        assert (
            tool_diagnostic("responses", "run", "started", started=0, now=0, usage=bad)["usage"]
            is None
        )
    # A clock that went backwards gives zero, not a negative duration.
    assert tool_diagnostic("responses", "run", "started", started=5, now=4)["duration_ms"] == 0.0


# -- function results ---------------------------------------------------------------


def test_function_results_are_text_or_declared_blocks_copied() -> None:
    blocks = [
        {"type": "input_text", "text": "hi"},
        {"type": "input_image", "image_url": "data:image/png;base64,AA", "detail": "low"},
        {
            "type": "input_file",
            "file_id": "file_1",
            "prompt_cache_breakpoint": {"mode": "explicit"},
        },
    ]
    result = function_result(blocks)
    assert result == blocks
    assert result is not blocks and result[0] is not blocks[0]
    assert function_result("plain") == "plain"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (42, "not int"),
        (None, "not NoneType"),
        ({"type": "input_text", "text": "x"}, "not dict"),
        (["text"], "block 0: must be a dict"),
        ([{"type": "output_text", "text": "x"}], "type must be"),
        ([{"type": "input_text", "text": "x", "extra": 1}], "unknown fields"),
        ([{"type": "input_text"}], "needs a string text"),
        ([{"type": "input_text", "text": 3}], "must be a string"),
        ([{"type": "input_image", "detail": "auto"}], "needs one of image_url, file_id"),
        ([{"type": "input_image", "image_url": "  "}], "needs one of"),
        ([{"type": "input_image", "image_url": "u", "detail": "huge"}], "detail 'huge'"),
        ([{"type": "input_file", "file_id": "f", "detail": None}], "detail None"),
        ([{"type": "input_file", "filename": "a.txt"}], "needs one of file_data"),
        (
            [{"type": "input_text", "text": "x", "prompt_cache_breakpoint": {"mode": "auto"}}],
            "breakpoint",
        ),
        ([{"type": "input_text", "text": "x"}, {1: 2}], "block 1: must be a dict with string keys"),
    ],
)
def test_a_bad_function_result_says_what_is_wrong(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        function_result(value)


@given(st.lists(st.text(), max_size=5))
def test_text_blocks_round_trip(texts: list[str]) -> None:
    blocks = [{"type": "input_text", "text": text} for text in texts]
    assert function_result(blocks) == blocks


# -- the Responses loop: parameters ----------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({**PARAMS, "stream": True}, "run\\(stream=True\\)"),
        ({**PARAMS, "background": True}, "background"),
        ({**PARAMS, "conversation": "conv_1"}, "conversation"),
        ({**PARAMS, "previous_response_id": "resp_0"}, "previous_response_id"),
        ({**PARAMS, "extra_body": {"tools": []}}, "extra_body"),
        ({**PARAMS, "tools": [{"type": "function", "name": "x"}]}, "functions="),
        ({**PARAMS, "tool_choice": "required"}, "never lets the run finish"),
        ({**PARAMS, "tool_choice": {"type": "function", "name": "add"}}, "always requires"),
        (
            {
                **PARAMS,
                "tool_choice": {
                    "type": "allowed_tools",
                    "mode": "required",
                    "tools": [{"type": "function", "name": "add"}],
                },
            },
            "always requires",
        ),
        ({**PARAMS, "tool_choice": 3}, "not one the API accepts"),
        ({**PARAMS, "input": 3}, "input must be"),
    ],
)
def test_params_the_runner_cannot_honour_are_refused(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ResponsesToolRun(params, FUNCTIONS, max_steps=None)


@pytest.mark.parametrize("max_steps", [0, -1, 1.5, True, "3"])
def test_max_steps_must_be_a_positive_integer(max_steps: Any) -> None:
    with pytest.raises(ValueError, match="max_steps"):
        ResponsesToolRun(PARAMS, FUNCTIONS, max_steps=max_steps)


def test_the_request_holds_the_functions_history_and_encrypted_reasoning() -> None:
    run = new_run({**PARAMS, "include": ["file_search_call.results"], "instructions": "Be brief."})
    request = run.request()
    assert request["tools"] == [ADD, MUL]
    assert request["input"] == [{"role": "user", "content": "2 + 3?"}]
    assert request["include"] == ["file_search_call.results", "reasoning.encrypted_content"]
    assert request["instructions"] == "Be brief."
    assert "stream" not in request
    # The request is a copy: changing it changes nothing in the run.
    request["input"].append({"role": "user", "content": "changed"})
    request["tools"][0]["name"] = "changed"
    assert run.request()["input"] == [{"role": "user", "content": "2 + 3?"}]
    assert run.request()["tools"][0]["name"] == "add"
    assert ResponsesToolRun(PARAMS, FUNCTIONS, max_steps=None).max_steps == 20


# -- the Responses loop: responses --------------------------------------------------------


def test_a_final_answer_ends_the_run_and_calls_are_planned_in_order() -> None:
    run = new_run()
    assert run.inspect(response(message())) is None
    run = new_run()
    plans = run.inspect(
        response(
            {"type": "reasoning", "id": "rs_1", "summary": []}, call("c1"), call("c2", "mul", "{}")
        )
    )
    assert plans is not None
    assert [(p["call_id"], p["name"], p["arguments"]) for p in plans] == [
        ("c1", "add", {"a": 2, "b": 3}),
        ("c2", "mul", {}),
    ]
    for plan in plans:
        run.attempt(plan["call_id"])
        run.record_output(plan, "out-" + plan["call_id"])
    run.finish()
    history = run.request()["input"]
    assert [item.get("type", "message") for item in history] == [
        "message",
        "reasoning",
        "function_call",
        "function_call",
        "function_call_output",
        "function_call_output",
    ]
    assert history[-1] == {"type": "function_call_output", "call_id": "c2", "output": "out-c2"}
    assert run.attempted == run.completed == ["c1", "c2"]


def test_sdk_fields_are_not_replayed() -> None:
    run = new_run()
    item = call("c1", parsed_arguments={"a": 2}, created_by="x")
    item["id"] = None
    text = message("t")
    text["content"][0]["parsed"] = {"x": 1}
    plans = run.inspect(response(text, item))
    assert plans is not None
    run.record_output(plans[0], "5")
    run.finish()
    replayed = run.request()["input"]
    assert replayed[1]["content"][0] == {"type": "output_text", "text": "t", "annotations": []}
    assert replayed[2] == {
        "type": "function_call",
        "call_id": "c1",
        "name": "add",
        "arguments": '{"a": 2, "b": 3}',
        "status": "completed",
    }


@pytest.mark.parametrize(
    ("items", "status", "message"),
    [
        ([message()], "incomplete", "did not complete"),
        ([message(status="in_progress")], "completed", "message of the response did not complete"),
        ([message(phase="commentary")], "completed", "neither a final message nor a tool call"),
        ([], "completed", "neither"),
        (
            [{"type": "web_search_call", "id": "ws_1", "status": "completed"}],
            "completed",
            "no such tool was declared",
        ),
        (
            [{"type": "computer_call", "id": "cu_1", "call_id": "c9"}],
            "completed",
            "no computer is registered",
        ),
        ([{"type": "file_search_results", "id": "x_1"}], "completed", "cannot run"),
        ([call("c1", "sub")], "completed", "not a registered function"),
        ([call("c1", status="in_progress")], "completed", "did not complete"),
        ([call("c1"), call("c1", id="fc_other")], "completed", "repeated call_id"),
        ([call("")], "completed", "missing or repeated call_id"),
        ([call("c1", arguments="[1, 2]")], "completed", "JSON object"),
        ([call("c1", arguments='{"a": NaN}')], "completed", "NaN"),
        ([call("c1", arguments="{")], "completed", "arguments of 'add'"),
        ([call("c1", namespace="tools")], "completed", "namespace"),
        ([{"type": "reasoning", "summary": []}], "completed", "reasoning item"),
        ([message(), message()], "completed", "already seen"),
        (["text"], "completed", "not an object"),
    ],
)
def test_a_response_the_run_cannot_replay_or_run_stops_it_before_any_call(
    items: list[Any], status: str, message: str
) -> None:
    run = new_run()
    with pytest.raises(ToolRunnerError, match=message) as caught:
        # A good call before the bad item is not run either: nothing is planned.
        run.inspect(response(*items, status=status))
    assert caught.value.attempted_call_ids == ()


def test_the_last_step_runs_no_call() -> None:
    run = ResponsesToolRun(PARAMS, FUNCTIONS, max_steps=2)
    run.begin(0)
    plans = run.inspect(response(call("c1")))
    assert plans is not None
    run.attempt("c1")
    run.record_output(plans[0], "5")
    run.finish()
    run.begin(1)
    with pytest.raises(ToolRunnerError, match="max_steps") as caught:
        run.inspect(response(call("c2")))
    assert caught.value.attempted_call_ids == ("c1",)
    assert caught.value.completed_call_ids == ("c1",)
    run.begin(1)
    assert run.inspect(response(message())) is None


def test_call_ids_and_item_ids_are_unique_across_the_run() -> None:
    history = [
        {"role": "user", "content": "x"},
        call("old"),
        {"type": "function_call_output", "call_id": "old", "output": "1"},
    ]
    run = new_run({"model": "m", "input": history})
    with pytest.raises(ToolRunnerError, match="repeated call_id"):
        run.inspect(response(call("old", id="fc_new")))
    run = new_run({"model": "m", "input": history})
    with pytest.raises(ToolRunnerError, match="already seen"):
        run.inspect(response(call("new", id="fc_old")))
    run = new_run()
    plans = run.inspect(response(call("c1")))
    assert plans is not None
    run.record_output(plans[0], "5")
    run.finish()
    run.begin(1)
    with pytest.raises(ToolRunnerError, match="repeated call_id"):
        run.inspect(response(call("c1", id="fc_other")))


def test_tool_choice_limits_the_functions_that_may_run() -> None:
    choice = {
        "type": "allowed_tools",
        "mode": "auto",
        "tools": [{"type": "function", "name": "mul"}],
    }
    run = new_run({**PARAMS, "tool_choice": choice})
    with pytest.raises(ToolRunnerError, match="tool_choice excludes"):
        run.inspect(response(call("c1", "add")))
    assert (
        new_run({**PARAMS, "tool_choice": choice}).inspect(response(call("c1", "mul", "{}")))
        is not None
    )


def test_typed_arguments_are_parsed_into_the_type() -> None:
    import dataclasses

    @dataclasses.dataclass
    class Sum:
        a: int
        b: int

    run = ResponsesToolRun(PARAMS, {"add": (ADD, Sum)}, max_steps=3)
    run.begin(0)
    plans = run.inspect(response(call("c1")))
    assert plans is not None and plans[0]["arguments"] == Sum(2, 3)
    run.begin(0)
    with pytest.raises(ToolRunnerError, match="arguments of 'add'"):
        run.inspect(response(call("c2", arguments='{"a": "two", "b": 3}')))


def test_an_invalid_output_keeps_the_attempt_and_completes_nothing() -> None:
    run = new_run()
    plans = run.inspect(response(call("c1")))
    assert plans is not None
    run.attempt("c1")
    with pytest.raises(ToolRunnerError, match="returned an invalid output") as caught:
        run.record_output(plans[0], 5)
    assert caught.value.attempted_call_ids == ("c1",)
    assert caught.value.completed_call_ids == ()


# -- turns: supplied outputs and user text ---------------------------------------------


def test_supplied_outputs_only_for_overridable_calls_of_the_current_turn() -> None:
    run = new_run(output_overrides=["add"])
    plans = run.inspect(response(call("c1"), call("c2", "mul", "{}")))
    assert plans is not None
    eligible = run.eligible_for_supply(plans)
    assert eligible == {"c1"}
    output = {"type": "function_call_output", "call_id": "c1", "output": "five"}
    with pytest.raises(ValueError, match="current one"):
        run.supply(eligible, [output])
    run.turn_open = True
    run.supply(eligible, [output])
    assert run.supplied == {"c1": output}
    for bad, message in [
        ([{**output, "call_id": "c2"}], "not a call of this turn"),
        ([output, output], "supplied twice"),
        ([{**output, "extra": 1}], "exactly type, call_id and output"),
        ([{**output, "type": "message"}], "function_call_output"),
        ([{**output, "output": 5}], "not int"),
        ((output,), "a list"),
    ]:
        with pytest.raises(ValueError, match=message):
            run.supply(eligible, bad)
    # A later supply replaces the whole set; an empty list clears it.
    run.supply(eligible, [])
    assert run.supplied == {}


def test_user_text_goes_after_the_outputs() -> None:
    run = new_run()
    plans = run.inspect(response(call("c1")))
    assert plans is not None
    run.turn_open = True
    run.append_user_text(False, "Answer in words.")
    for final, text in [(True, "x"), (False, "  "), (False, 3)]:
        with pytest.raises(ValueError):
            run.append_user_text(final, text)
    run.turn_open = False
    with pytest.raises(ValueError):
        run.append_user_text(False, "late")
    run.record_output(plans[0], "5")
    run.finish()
    assert run.request()["input"][-2:] == [
        {"type": "function_call_output", "call_id": "c1", "output": "5"},
        {"role": "user", "content": "Answer in words."},
    ]


# -- the Decisions loop ------------------------------------------------------------------


def act() -> None:
    return None


CANDIDATES = [
    {"id": "a", "description": "Do a.", "execute": act},
    {"id": "done", "description": "Finished.", "done": True},
]


def decision(choice: Any = "a", **overrides: Any) -> dict[str, Any]:
    answer = {
        "type": "choice",
        "name": "next_action",
        "choice": choice,
        "confidence": 0.9,
        "probabilities": [
            {"value": "a", "probability": 0.9},
            {"value": "done", "probability": 0.1},
        ],
    }
    answer.update(overrides)
    return {
        "answers": [answer],
        "model": "m",
        "usage": {
            "input_tokens": 1,
            "input_tokens_details": {"cache_write_tokens": 0, "cached_tokens": 0},
            "output_tokens": 1,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 2,
        },
    }


@pytest.mark.parametrize(
    ("params", "max_steps"),
    [
        ({"model": "m"}, 3),
        ({"model": "m", "input": 3}, 3),
        ({"model": "m", "input": "x", "tools": []}, 3),
        ({"model": "m", "input": "x", "safety_identifier": 3}, 3),
        ({"model": "m", "input": "x"}, 0),
        ({"model": "m", "input": "x"}, True),
        ("params", 3),
    ],
)
def test_decision_params_are_checked(params: Any, max_steps: Any) -> None:
    with pytest.raises(DecisionsToolRunnerError) as caught:
        DecisionsToolRun(params, max_steps, None)
    assert caught.value.reason == "invalid_params"


@pytest.mark.parametrize(
    "candidates",
    [
        [],
        "ab",
        [CANDIDATES[0]],
        [CANDIDATES[1], CANDIDATES[1]],
        [{**CANDIDATES[0], "id": " "}, CANDIDATES[1]],
        [{**CANDIDATES[0], "description": ""}, CANDIDATES[1]],
        [{**CANDIDATES[0], "execute": "run"}, CANDIDATES[1]],
        [{**CANDIDATES[0], "extra": 1}, CANDIDATES[1]],
        [CANDIDATES[0], {**CANDIDATES[1], "execute": act}],
        [CANDIDATES[0], {**CANDIDATES[1], "done": 1}],
        [CANDIDATES[0], {**CANDIDATES[0], "id": "b"}],
        [{**CANDIDATES[0], "id": str(n)} for n in range(255)] + [CANDIDATES[1]],
    ],
)
def test_candidates_are_checked(candidates: Any) -> None:
    run = DecisionsToolRun({"model": "m", "input": "x"}, 3, None)
    with pytest.raises(DecisionsToolRunnerError) as caught:
        run.candidates(candidates)
    assert caught.value.reason == "invalid_candidates"


def test_the_request_offers_the_candidates_as_one_choice_question() -> None:
    run = DecisionsToolRun({"model": "m", "input": "Task.", "safety_identifier": "u1"}, 3, None)
    entries = run.candidates(CANDIDATES)
    observation = run.observation([{"type": "input_text", "text": "state"}])
    request = run.request(observation, entries)
    assert request["model"] == "m" and request["safety_identifier"] == "u1"
    assert request["input"] == [
        {"role": "user", "content": "Task."},
        {"role": "user", "content": [{"type": "input_text", "text": "state"}]},
    ]
    (question,) = request["questions"]
    assert question["type"] == "choice" and question["name"] == "next_action"
    assert question["choices"] == [
        {"value": "a", "description": "Do a."},
        {"value": "done", "description": "Finished."},
    ]
    json.dumps(request)  # plain JSON


def test_a_decision_selects_a_candidate_or_refuses() -> None:
    run = DecisionsToolRun({"model": "m", "input": "x"}, 3, None)
    entries = run.candidates(CANDIDATES)
    chosen, usage = run.select(decision("done"), "kept-1", entries)
    assert chosen is not None and chosen.done and usage["total_tokens"] == 2
    refusal = decision()
    refusal["answers"] = [{"type": "refusal", "name": "next_action"}]
    assert run.select(refusal, "kept-2", entries)[0] is None
    assert run.decisions == ["kept-1", "kept-2"]


@pytest.mark.parametrize(
    "bad",
    [
        decision("b"),
        decision(True),
        decision(confidence=math.inf),
        decision(confidence="high"),
        decision(probabilities=[{"value": "a", "probability": math.nan}]),
        decision(probabilities=[{"value": 1, "probability": 0.5}]),
        decision(probabilities="a"),
        decision(name="other"),
        decision(type="score"),
        {**decision(), "answers": []},
        {**decision(), "answers": [decision()["answers"][0]] * 2},
        {**decision(), "model": None},
        {**decision(), "usage": {**decision()["usage"], "total_tokens": "2"}},
        {**decision(), "usage": {**decision()["usage"], "input_tokens_details": None}},
    ],
)
def test_an_answer_that_chooses_no_candidate_is_refused(bad: dict[str, Any]) -> None:
    run = DecisionsToolRun({"model": "m", "input": "x"}, 3, None)
    with pytest.raises(DecisionsToolRunnerError) as caught:
        run.select(bad, bad, run.candidates(CANDIDATES))
    assert caught.value.reason == "invalid_answer"


def test_verification_and_cancellation() -> None:
    run = DecisionsToolRun({"model": "m", "input": "x"}, 3, None)
    assert run.verified(True, only_done=False, last_step=False) is True
    assert run.verified(False, only_done=False, last_step=False) is False
    for verdict, only_done, last_step, reason in [
        (1, False, False, "invalid_verification"),
        (False, True, False, "verification_failed"),
        (False, False, True, "step_limit"),
    ]:
        with pytest.raises(DecisionsToolRunnerError) as caught:
            run.verified(verdict, only_done=only_done, last_step=last_step)
        assert caught.value.reason == reason
    stop = [False]
    run = DecisionsToolRun({"model": "m", "input": "x"}, 3, lambda: stop[0])
    run.attempted.append("a")
    assert run.result("unverified")["attempted_candidate_ids"] == ["a"]
    stop[0] = True
    with pytest.raises(DecisionsToolRunnerError) as caught:
        run.check()
    assert caught.value.reason == "cancelled" and caught.value.attempted_candidate_ids == ("a",)


@pytest.mark.parametrize(
    "observation",
    [
        3,
        {"type": "input_text", "text": "x"},
        [{"type": "input_text"}],
        [{"type": "input_image"}],
        ["x"],
    ],
)
def test_an_observation_is_text_or_input_blocks(observation: Any) -> None:
    run = DecisionsToolRun({"model": "m", "input": "x"}, 3, None)
    with pytest.raises(DecisionsToolRunnerError):
        run.observation(observation)
    one_shot = iter([{"type": "input_image", "image_url": "u", "detail": "low"}])
    assert run.observation(one_shot) == [{"type": "input_image", "image_url": "u", "detail": "low"}]


def test_later_requests_get_a_fresh_idempotency_key_only_when_one_was_set() -> None:
    assert step_headers({}, None, "k2") is None
    assert step_headers({"X-A": "1"}, {"X-B": "2"}, "k2") == {"X-B": "2"}
    assert step_headers({"Idempotency-Key": "k1"}, None, "k2") == {"Idempotency-Key": "k2"}
    assert step_headers({}, {"idempotency-key": "k1", "X-B": "2"}, "k2") == {
        "X-B": "2",
        "Idempotency-Key": "k2",
    }
    # A header removed for the request (None) is not sent, so nothing is renewed.
    assert step_headers({"Idempotency-Key": "k1"}, {"idempotency-key": None}, "k2") == {
        "idempotency-key": None
    }


# -- server tools and MCP approvals ----------------------------------------------------

MCP = {"type": "mcp", "server_label": "docs", "server_url": "https://mcp.example/sse"}


def approval(
    item_id: str = "mcpr_1", name: str = "search", arguments: str = "{}"
) -> dict[str, Any]:
    return {
        "type": "mcp_approval_request",
        "id": item_id,
        "server_label": "docs",
        "name": name,
        "arguments": arguments,
    }


def mcp_call(item_id: str, request_id: str | None, name: str = "search") -> dict[str, Any]:
    return {
        "type": "mcp_call",
        "id": item_id,
        "server_label": "docs",
        "name": name,
        "arguments": "{}",
        "output": "found",
        "approval_request_id": request_id,
        "status": "completed",
    }


def test_declared_server_tools_are_sent_and_their_items_replayed() -> None:
    run = new_run({**PARAMS, "tools": [{"type": "web_search"}]})
    assert run.request()["tools"] == [ADD, MUL, {"type": "web_search"}]
    searched = {
        "type": "web_search_call",
        "id": "ws_1",
        "status": "completed",
        "action": {"type": "search"},
    }
    # A server tool's result with a call: the call runs, the result is replayed.
    plans = run.inspect(response(searched, call("c1")))
    assert plans is not None
    run.record_output(plans[0], "5")
    run.finish()
    assert run.request()["input"][1] == searched
    # A server tool's result alone is an answer.
    run.begin(1)
    assert run.inspect(response({**searched, "id": "ws_2"})) is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({**PARAMS, "tools": [{"type": "computer"}]}, "computer=ComputerToolset"),
        ({**PARAMS, "tools": [MCP, MCP]}, "server_label of its own"),
        ({**PARAMS, "tools": [{**MCP, "server_label": ""}]}, "server_label"),
        ({**PARAMS, "store": False, "tools": [{"type": "image_generation"}]}, "stored responses"),
    ],
)
def test_server_tools_the_run_cannot_continue_after_are_refused(
    params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ResponsesToolRun(params, FUNCTIONS, max_steps=3)


@pytest.mark.parametrize(
    ("tools", "items", "message"),
    [
        ([{"type": "file_search"}], [{"type": "web_search_call", "id": "ws_1"}], "no such tool"),
        (
            [{"type": "web_search"}],
            [{"type": "web_search_call", "id": "ws_1", "status": "failed"}],
            "did not complete",
        ),
        (
            [{"type": "web_search"}],
            [{"type": "web_search_call", "status": "completed"}],
            "lacks its id",
        ),
        ([MCP], [{**approval(), "server_label": "other"}], "not declared"),
        ([{**MCP, "require_approval": "never"}], [approval()], "require_approval is never"),
        ([{**MCP, "allowed_tools": ["fetch"]}], [approval()], "allowed_tools"),
        ([MCP], [{**approval(), "arguments": None}], "name or arguments"),
        ([MCP], [mcp_call("mcp_1", None)], "without the approval"),
        ([MCP], [mcp_call("mcp_1", "mcpr_unknown")], "no matching approved request"),
        ([MCP], [approval(), approval()], "already seen"),
    ],
)
def test_a_server_item_that_does_not_match_its_declaration_stops_the_run(
    tools: list[Any], items: list[Any], message: str
) -> None:
    run = new_run({**PARAMS, "tools": tools})
    with pytest.raises(ToolRunnerError, match=message):
        run.inspect(response(*items))


def test_an_approval_request_is_a_call_and_its_grant_is_used_once() -> None:
    run = new_run({**PARAMS, "tools": [MCP]})
    plans = run.inspect(response(approval()))
    assert plans is not None and plans[0]["kind"] == "mcp_approval"
    assert run.eligible_for_supply(plans) == frozenset()
    run.attempt("mcpr_1")
    with pytest.raises(ToolRunnerError, match="True or False"):
        run.approval_output(plans[0], "yes")
    assert run.approval_output(plans[0], True) == {
        "type": "mcp_approval_response",
        "approval_request_id": "mcpr_1",
        "approve": True,
    }
    run.finish()
    assert run.completed == ["mcpr_1"]
    run.begin(1)
    assert run.inspect(response(mcp_call("mcp_1", "mcpr_1"), message())) is None
    run.finish()
    # The grant was used by that call: another call cannot use it again.
    run.begin(2)
    with pytest.raises(ToolRunnerError, match="no matching approved request"):
        run.inspect(response(mcp_call("mcp_2", "mcpr_1")))
    # A refused request grants nothing either.
    run = new_run({**PARAMS, "tools": [MCP]})
    plans = run.inspect(response(approval()))
    assert plans is not None
    run.approval_output(plans[0], False)
    run.finish()
    run.begin(1)
    with pytest.raises(ToolRunnerError, match="no matching approved request"):
        run.inspect(response(mcp_call("mcp_1", "mcpr_1")))


def test_tool_choice_limits_server_tools_and_mcp_servers() -> None:
    choice = {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "file_search"}]}
    run = new_run(
        {
            **PARAMS,
            "tools": [{"type": "web_search"}, {"type": "file_search"}, MCP],
            "tool_choice": choice,
        }
    )
    with pytest.raises(ToolRunnerError, match="tool_choice"):
        run.inspect(response({"type": "web_search_call", "id": "ws_1", "status": "completed"}))
    with pytest.raises(ToolRunnerError, match="tool_choice"):
        run.inspect(response(approval()))
    assert (
        run.inspect(
            response(
                {"type": "file_search_call", "id": "fs_1", "status": "completed", "queries": []}
            )
        )
        is None
    )
    # "required" can finish when a server tool may be the one used.
    assert ResponsesToolRun(
        {**PARAMS, "tools": [{"type": "web_search"}], "tool_choice": "required"},
        FUNCTIONS,
        max_steps=2,
    )


# -- browser and computer toolsets inside the run ---------------------------------

BROWSER_CLICK = {
    "type": "function",
    "name": "browser_click",
    "parameters": {"type": "object", "properties": {}},
}


def computer_call(call_id: str, *actions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "computer_call",
        "id": f"cu_{call_id}",
        "call_id": call_id,
        "status": "completed",
        "actions": list(actions) or [{"type": "click", "button": "left", "x": 1, "y": 2}],
        "pending_safety_checks": [],
        **extra,
    }


def test_a_computer_call_becomes_a_plan_and_its_output_is_replayed() -> None:
    run = ResponsesToolRun(PARAMS, FUNCTIONS, max_steps=3, computer=True)
    run.begin(0)
    request = run.request()
    assert request["tools"][-1] == {"type": "computer"}
    item = computer_call("c1")
    plans = run.inspect(response(item, call("c2")))
    assert plans is not None
    assert [(plan["kind"], plan["call_id"]) for plan in plans] == [
        ("computer", "c1"),
        ("function", "c2"),
    ]
    shot = {"type": "computer_screenshot", "image_url": "data:image/png;base64,AA=="}
    output = {"type": "computer_call_output", "call_id": "c1", "output": shot}
    # An output that does not answer the call is refused, not sent.
    for wrong in (
        {**output, "call_id": "c2"},
        {**output, "type": "function_call_output"},
        "screenshot",
    ):
        with pytest.raises(ToolRunnerError, match="did not return the computer_call_output"):
            run.toolset_output(plans[0], wrong)
    kept = run.toolset_output(plans[0], output)
    output["call_id"] = "changed later"
    assert kept["call_id"] == "c1"
    run.record_output(plans[1], "5")
    run.finish()
    run.begin(1)
    replayed = run.request()["input"]
    assert replayed[1] == item
    assert replayed[3] == {"type": "computer_call_output", "call_id": "c1", "output": shot}
    assert run.completed == ["c1", "c2"]
    # The call id is spent: a later response cannot repeat it.
    with pytest.raises(ToolRunnerError, match="repeated call_id"):
        run.inspect(response(computer_call("c1", id="cu_other")))


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (computer_call("c1", status="in_progress"), "did not complete"),
        (computer_call("c1", {"type": "teleport"}), "invalid action"),
        (computer_call("c1", action={"type": "wait"}), "exactly one of action or actions"),
        (computer_call("c1", pending_safety_checks=[{"code": 1}]), "cannot run"),
        ({**computer_call("c1"), "call_id": ""}, "missing or repeated call_id"),
    ],
)
def test_a_computer_call_that_cannot_run_stops_the_run_before_anything_runs(
    item: dict[str, Any], message: str
) -> None:
    run = ResponsesToolRun(PARAMS, FUNCTIONS, max_steps=3, computer=True)
    run.begin(0)
    with pytest.raises(ToolRunnerError, match=message):
        run.inspect(response(call("c0"), item))
    assert run.attempted == []


def test_the_computer_tool_choice_and_declaration() -> None:
    declared = {"type": "computer_use_preview", "display_width": 10, "display_height": 10}
    run = ResponsesToolRun({**PARAMS, "tools": [declared]}, {}, max_steps=3, computer=True)
    assert run.request()["tools"] == [declared]
    for params in (
        {**PARAMS, "tools": [declared, declared]},
        {**PARAMS, "tool_choice": {"type": "computer"}},
        {**PARAMS, "tool_choice": "required"},
    ):
        with pytest.raises(ValueError):
            ResponsesToolRun(params, {}, max_steps=3, computer=True)
    # Allowed tools without the computer: a computer call is refused.
    only_add = {
        "type": "allowed_tools",
        "mode": "auto",
        "tools": [{"type": "function", "name": "add"}],
    }
    run = ResponsesToolRun(
        {**PARAMS, "tool_choice": only_add}, FUNCTIONS, max_steps=3, computer=True
    )
    run.begin(0)
    with pytest.raises(ToolRunnerError, match="tool_choice excludes"):
        run.inspect(response(computer_call("c1")))
    # On the last step a computer call cannot get its output sent.
    run = ResponsesToolRun(PARAMS, {}, max_steps=1, computer=True)
    run.begin(0)
    with pytest.raises(ToolRunnerError, match="max_steps"):
        run.inspect(response(computer_call("c1")))


def test_browser_calls_are_planned_for_the_toolset_with_their_raw_arguments() -> None:
    run = ResponsesToolRun(PARAMS, FUNCTIONS, max_steps=3, browser_tools=[BROWSER_CLICK])
    run.begin(0)
    assert [tool["name"] for tool in run.request()["tools"]] == ["browser_click", "add", "mul"]
    # Arguments the browser toolset will refuse are its to answer: the run goes on.
    plans = run.inspect(response(call("c1", "browser_click", arguments="{not json")))
    assert plans is not None
    assert plans[0]["kind"] == "browser"
    assert plans[0]["arguments"] == "{not json"
    with pytest.raises(ToolRunnerError, match="did not return the function_call_output"):
        run.toolset_output(plans[0], {"type": "function_call_output", "call_id": "c9"})
    with pytest.raises(ValueError, match="shadows a browser tool"):
        ResponsesToolRun(
            PARAMS,
            {"browser_click": (BROWSER_CLICK, None)},
            max_steps=3,
            browser_tools=[BROWSER_CLICK],
        )


# -- the context budget --------------------------------------------------------------

SHOT = {"type": "computer_screenshot", "image_url": "data:image/png;base64,AA=="}


def budget_run(history: list[Any], **budget: Any) -> ResponsesToolRun:
    limits = {"max_input_bytes": 10, "max_input_images": 0, "compact": lambda snapshot: None}
    return ResponsesToolRun(
        {**PARAMS, "input": history},
        FUNCTIONS,
        max_steps=3,
        computer=True,
        browser_tools=[
            {"type": "function", "name": "browser_screenshot", "parameters": {}},
            BROWSER_CLICK,
        ],
        context_budget={**limits, **budget},
    )


@pytest.mark.parametrize(
    ("budget", "params", "message"),
    [
        ({"max_input_bytes": 0, "max_input_images": 0}, PARAMS, "max_input_bytes"),
        ({"max_input_bytes": 1}, PARAMS, "max_input_images"),
        ({"max_input_bytes": 1, "max_input_images": -1}, PARAMS, "max_input_images"),
        ({"max_input_bytes": True, "max_input_images": 0}, PARAMS, "max_input_bytes"),
        (
            {"max_input_bytes": 1, "max_input_images": 0, "keep_recent_screenshots": 0},
            PARAMS,
            "keep_recent_screenshots",
        ),
        ({"max_input_bytes": 1, "max_input_images": 0, "compact": 3}, PARAMS, "callable"),
        ({"max_input_bytes": 1, "max_input_images": 0, "limit": 3}, PARAMS, "only the fields"),
        ([1], PARAMS, "only the fields"),
        (
            {"max_input_bytes": 1, "max_input_images": 0},
            {**PARAMS, "truncation": "auto"},
            "truncation",
        ),
        (
            {"max_input_bytes": 1, "max_input_images": 0},
            {**PARAMS, "extra_body": {"context_management": []}},
            "context_management",
        ),
    ],
)
def test_a_bad_context_budget_is_refused(budget: Any, params: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ResponsesToolRun(params, FUNCTIONS, max_steps=3, context_budget=budget)


def test_within_budget_nothing_is_asked_and_truncation_is_disabled() -> None:
    run = ResponsesToolRun(
        PARAMS,
        FUNCTIONS,
        max_steps=3,
        context_budget={"max_input_bytes": 1000, "max_input_images": 0},
    )
    assert run.budget_snapshot() is None
    assert run.request()["truncation"] == "disabled"
    kept = ResponsesToolRun(
        {**PARAMS, "truncation": "disabled"},
        FUNCTIONS,
        max_steps=3,
        context_budget={"max_input_bytes": 1000, "max_input_images": 0},
    )
    assert kept.request()["truncation"] == "disabled"
    assert "truncation" not in ResponsesToolRun(PARAMS, FUNCTIONS, max_steps=3).request()


def test_the_latest_screens_and_safety_checked_calls_are_never_eligible() -> None:
    checked = {"id": "sc", "code": "x", "message": "y"}
    history = [
        {"role": "user", "content": "go"},
        call("f1"),
        {"type": "function_call_output", "call_id": "f1", "output": "1"},
        computer_call("c1"),
        {"type": "computer_call_output", "call_id": "c1", "output": SHOT},
        computer_call("c2"),
        {
            "type": "computer_call_output",
            "call_id": "c2",
            "output": SHOT,
            "acknowledged_safety_checks": [checked],
        },
        computer_call("c3"),
        {"type": "computer_call_output", "call_id": "c3", "output": SHOT},
        computer_call("c4"),
        {"type": "computer_call_output", "call_id": "c4", "output": SHOT},
        call("b1", "browser_click", arguments="{}"),
        {"type": "function_call_output", "call_id": "b1", "output": "clicked"},
        call("b2", "browser_screenshot", arguments="{}"),
        {
            "type": "function_call_output",
            "call_id": "b2",
            "output": [{"type": "input_image", "image_url": "data:image/png;base64,AA=="}],
        },
        call("b3", "browser_click", arguments="{}"),
        {"type": "function_call_output", "call_id": "b3", "output": "clicked"},
        call("f2"),
    ]
    run = budget_run(history, keep_recent_screenshots=2)
    got = run.budget_snapshot()
    assert got is not None
    snapshot, eligible = got
    # c2: acknowledged checks; c4 and b2: the two latest screenshots; c4 and b3: the
    # latest computer and browser calls; f2: not answered yet.
    assert snapshot["eligible_call_ids"] == ["f1", "c1", "c3", "b1"]
    assert eligible == frozenset({"f1", "c1", "c3", "b1"})
    assert snapshot["input_images"] == 5
    assert snapshot["history"] == history
    assert snapshot["history"] is not run.history


def test_the_projection_drops_whole_calls_and_keeps_the_history() -> None:
    history = [
        {"role": "user", "content": "go"},
        call("f1"),
        {"type": "function_call_output", "call_id": "f1", "output": "x" * 500},
        call("f2"),
        {"type": "function_call_output", "call_id": "f2", "output": "y"},
    ]
    run = budget_run(history, max_input_bytes=700)
    got = run.budget_snapshot()
    assert got is not None
    projected = run.budget_input({"drop_call_ids": ["f1"]}, got[1])
    assert projected[1:] == [history[0], *history[3:]]
    assert "f1" in projected[0]["content"] and "add" in projected[0]["content"]
    assert run.history == history
    with pytest.raises(ToolRunnerError, match="still exceeds"):
        run.budget_input({"drop_call_ids": ["f2"]}, got[1])
    without = budget_run(history, max_input_bytes=10)
    del without.budget["compact"]  # type: ignore[union-attr]
    with pytest.raises(ToolRunnerError, match="no compact callback"):
        without.budget_snapshot()


# -- eager execution -------------------------------------------------------------------


def eager_run(early: Any = None) -> ResponsesToolRun:
    run = ResponsesToolRun(PARAMS, FUNCTIONS, max_steps=3, computer=True)
    run.eager_mode(eager=True, stream=True, early=early, before_early_call=False)
    run.begin(0)
    return run


def test_calls_of_the_streamed_prefix_run_early_and_not_again() -> None:
    run = eager_run()
    assert run.receive(0, {"type": "reasoning", "id": "rs_1", "summary": []}) is None
    plan = run.receive(1, call("c1"))
    assert plan is not None and plan["call_id"] == "c1"
    run.run_early(plan)
    run.record_output(plan, "5")
    assert run.tools_executed
    later = run.receive(2, computer_call("c2"))
    assert later is not None and later["kind"] == "computer"
    # The computer call was not run early: it is planned with the completed response.
    plans = run.inspect(
        response(
            {"type": "reasoning", "id": "rs_1", "summary": []}, call("c1"), computer_call("c2")
        )
    )
    assert plans is not None
    assert [plan["call_id"] for plan in plans] == ["c2"]
    assert run.attempted == ["c1"]


def test_a_gap_a_deferral_or_an_unselected_call_waits() -> None:
    run = eager_run()
    assert run.receive(1, call("c1")) is None  # index 0 never came
    assert run.receive(0, call("c0")) is None
    run = eager_run()
    run.defer()
    assert run.receive(0, call("c1")) is None
    run = eager_run(early=(frozenset({"mul"}), False))
    assert run.receive(0, call("c1")) is None  # add is not selected
    assert run.receive(1, call("c2", "mul")) is None  # everything after it waits
    run = eager_run(early=(frozenset({"add"}), False))
    assert run.receive(0, computer_call("c1")) is None
    # Without eager mode nothing runs early; eager needs streaming.
    plain = ResponsesToolRun(PARAMS, FUNCTIONS, max_steps=3)
    plain.begin(0)
    assert plain.receive(0, call("c1")) is None
    with pytest.raises(ValueError, match="stream=True"):
        plain.eager_mode(eager=True, stream=False, early=None, before_early_call=False)


def test_a_completed_response_that_differs_from_what_ran_stops_the_run() -> None:
    run = eager_run()
    plan = run.receive(0, call("c1"))
    assert plan is not None
    run.run_early(plan)
    run.record_output(plan, "5")
    for changed in (call("c1", arguments='{"a": 9, "b": 3}'), call("c9")):
        with pytest.raises(ToolRunnerError, match="differs from the streamed call c1"):
            run.inspect(response(changed))
    # A call found bad while streaming stops the run before it runs.
    with pytest.raises(ToolRunnerError, match="not a registered function"):
        run.receive(1, call("c2", "pow"))


def test_early_selection_is_checked() -> None:
    assert early_selection(None, ["add"], False) is None
    assert early_selection({"functions": ["add"]}, ["add"], False) == (frozenset({"add"}), False)
    assert early_selection({"computer": True}, [], True) == (frozenset(), True)
    for bad in ({"functions": ["pow"]}, {"functions": ["add", "add"]}, {"functions": "add"}):
        with pytest.raises(ValueError, match="registered function names"):
            early_selection(bad, ["add"], False)
    with pytest.raises(ValueError, match="only functions and computer"):
        early_selection({"browser": True}, ["add"], False)
    with pytest.raises(ValueError, match="computer"):
        early_selection({"computer": True}, ["add"], False)


# -- the checkpoint ledger ----------------------------------------------------------


def test_checkpoints_keep_no_credentials_and_need_a_ledger() -> None:
    mcp = {
        **MCP,
        "server_url": "https://mcp.example/sse",
        "authorization": "secret-token",
        "headers": {"X-Key": "secret"},
    }
    run = ResponsesToolRun({**PARAMS, "tools": [mcp]}, FUNCTIONS, max_steps=3)
    with pytest.raises(ToolRunnerError, match="no ledger"):
        run.checkpoint("boundary")
    with pytest.raises(ValueError, match="run_id"):
        run.use_ledger("", None)
    run.use_ledger("r", None)
    checkpoint = run.checkpoint("boundary")
    text = json.dumps(checkpoint)
    assert "secret" not in text and "mcp.example" not in text
    (saved,) = [tool for tool in checkpoint["tools"] if tool["type"] == "mcp"]
    assert saved["server_url"].startswith("sha256:")
    assert saved["server_label"] == MCP["server_label"]
    # The request itself still carries them.
    assert run.request()["tools"][-1]["authorization"] == "secret-token"
    assert [run.checkpoint("pending")["revision"] for _ in range(2)] == [2, 3]
