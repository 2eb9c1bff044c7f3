"""ComputerToolset against the mock server, in all three runtimes, with a simulated screen.

The driver is a real (if small) machine: `Screen` keeps a pointer, a focused text
field and a key log, and its screenshot encodes that state in a data URL, so a
test can tell from the requests alone which actions ran, in which order, and
which screen each output showed. The mock server's `ComputerCall` behaviour plays
the model asking for actions.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from oxide_io.computer import (
    AsyncComputerToolset,
    ComputerToolset,
    ComputerUseError,
    Screenshot,
)
from oxide_io.testing import ComputerCall, Reply, ToolCall, ToolCalls
from tests.io.blocking import unwrap
from tests.io.conftest import MakeClient, Setup

pytestmark = pytest.mark.anyio

MODEL = "computer-use-preview"


class Screen:
    """The state a driver changes; its screenshot shows it."""

    def __init__(self, *, fail_on: str | None = None, bad_screenshot: bool = False) -> None:
        self.log: list[str] = []
        self.pointer = (0, 0)
        self.text = ""
        self.fail_on = fail_on
        self.bad_screenshot = bad_screenshot

    def act(self, kind: str, action: Any = None) -> None:
        self.log.append(kind)
        if kind == self.fail_on:
            raise OSError(f"the screen refused {kind}")
        if kind in ("click", "double_click", "move", "scroll"):
            self.pointer = (action.x, action.y)
        elif kind == "drag":
            self.pointer = (action.path[-1].x, action.path[-1].y)
        elif kind == "type":
            self.text += action.text
        elif kind == "keypress":
            self.text += "".join(f"<{key}>" for key in action.keys)

    def shot(self) -> Screenshot:
        self.log.append("screenshot")
        if self.bad_screenshot:
            return {"type": "computer_screenshot"}
        state = json.dumps({"pointer": list(self.pointer), "text": self.text})
        encoded = base64.b64encode(state.encode()).decode()
        return {"type": "computer_screenshot", "image_url": f"data:image/png;base64,{encoded}"}


class Desktop:
    """A blocking driver over a `Screen`."""

    def __init__(self, screen: Screen) -> None:
        self.screen = screen

    def click(self, action: Any) -> None:
        self.screen.act("click", action)

    def double_click(self, action: Any) -> None:
        self.screen.act("double_click", action)

    def drag(self, action: Any) -> None:
        self.screen.act("drag", action)

    def keypress(self, action: Any) -> None:
        self.screen.act("keypress", action)

    def move(self, action: Any) -> None:
        self.screen.act("move", action)

    def scroll(self, action: Any) -> None:
        self.screen.act("scroll", action)

    def type(self, action: Any) -> None:
        self.screen.act("type", action)

    def wait(self, action: Any, *, cancelled: Callable[[], bool] | None = None) -> None:
        # A driver that declares `cancelled` receives it, to bound its own waits.
        assert cancelled is None or callable(cancelled)
        self.screen.act("wait", action)

    def screenshot(self) -> Screenshot:
        return self.screen.shot()


class AsyncDesktop:
    """The same driver with coroutine methods, each yielding to the event loop."""

    def __init__(self, screen: Screen) -> None:
        self.screen = screen

    async def click(self, action: Any) -> None:
        await anyio.sleep(0)
        self.screen.act("click", action)

    async def double_click(self, action: Any) -> None:
        await anyio.sleep(0)
        self.screen.act("double_click", action)

    async def drag(self, action: Any) -> None:
        await anyio.sleep(0)
        self.screen.act("drag", action)

    async def keypress(self, action: Any) -> None:
        await anyio.sleep(0)
        self.screen.act("keypress", action)

    async def move(self, action: Any) -> None:
        await anyio.sleep(0)
        self.screen.act("move", action)

    async def scroll(self, action: Any) -> None:
        await anyio.sleep(0)
        self.screen.act("scroll", action)

    async def type(self, action: Any) -> None:
        await anyio.sleep(0)
        self.screen.act("type", action)

    async def wait(self, action: Any, *, cancelled: Callable[[], bool] | None = None) -> None:
        await anyio.sleep(0)
        self.screen.act("wait", action)

    async def screenshot(self) -> Screenshot:
        await anyio.sleep(0)
        return self.screen.shot()


class Tools:
    """The runtime's toolset over one screen, called the same way in every runtime."""

    def __init__(self, runtime: str, screen: Screen) -> None:
        self.sync = runtime == "sync"
        self.toolset: Any = (
            ComputerToolset(Desktop(screen))
            if self.sync
            else AsyncComputerToolset(AsyncDesktop(screen))
        )

    def policy(self, answer: Callable[[Any], object]) -> Callable[[Any], Any]:
        if self.sync:
            return answer

        async def policy(value: Any) -> object:
            await anyio.sleep(0)
            return answer(value)

        return policy

    async def run(self, client: Any, params: dict[str, Any], **options: Any) -> Any:
        if self.sync:
            return self.toolset.run(unwrap(client), params, **options)
        return await self.toolset.run(client, params, **options)

    async def execute(self, call: Any, **options: Any) -> Any:
        if self.sync:
            return self.toolset.execute(call, **options)
        return await self.toolset.execute(call, **options)


def _state(output: dict[str, Any]) -> dict[str, Any]:
    url = output["output"]["image_url"]
    return json.loads(base64.b64decode(url.split(",", 1)[1]))  # type: ignore[no-any-return]


CLICK = {"type": "click", "button": "left", "x": 40, "y": 80}


async def test_run_replays_history_and_screenshots(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    mock.server.enqueue(
        ComputerCall([CLICK, {"type": "type", "text": "hello"}], call_id="call_a"),
        ComputerCall([{"type": "keypress", "keys": ["ENTER"]}], call_id="call_b", batched=False),
        Reply("Done: the form is sent."),
    )
    screen = Screen()
    tools = Tools(runtime, screen)
    client = make_client(mock)
    response = await tools.run(client, {"model": MODEL, "input": "Fill in the form"})
    assert response.output_text == "Done: the form is sent."
    assert screen.log == ["click", "type", "screenshot", "keypress", "screenshot"]

    first, second, third = (request.json for request in mock.server.requests)
    assert first["tools"] == [{"type": "computer"}]
    assert first["input"] == [{"role": "user", "content": "Fill in the form"}]
    assert first["include"] == ["reasoning.encrypted_content"]
    assert first["stream"] is False
    # Each step replays everything before it: the call as sent, then its output.
    kinds = [item.get("type") for item in third["input"]]
    assert kinds == [None, "computer_call", "computer_call_output"] * 1 + [
        "computer_call",
        "computer_call_output",
    ]
    assert third["input"][:3] == second["input"]
    call_a, output_a = second["input"][1], second["input"][2]
    assert call_a["call_id"] == output_a["call_id"] == "call_a"
    assert call_a["actions"] == [CLICK, {"type": "type", "text": "hello"}]
    assert output_a["acknowledged_safety_checks"] == []
    assert _state(output_a) == {"pointer": [40, 80], "text": "hello"}
    assert third["input"][3]["action"] == {"type": "keypress", "keys": ["ENTER"]}
    assert _state(third["input"][4]) == {"pointer": [40, 80], "text": "hello<ENTER>"}


async def test_every_action_type_reaches_its_driver_method(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    actions: list[dict[str, Any]] = [
        {"type": "move", "x": 1, "y": 2},
        {"type": "double_click", "x": 3, "y": 4},
        {"type": "scroll", "x": 5, "y": 6, "scroll_x": 0, "scroll_y": 300},
        {"type": "drag", "path": [{"x": 1, "y": 1}, {"x": 9, "y": 7}]},
        {"type": "screenshot"},  # in the middle of a batch: skipped, one shot at the end
        {"type": "wait"},
        {"type": "click", "button": "right", "x": 2, "y": 3},
        {"type": "screenshot"},
    ]
    mock.server.enqueue(ComputerCall(actions), Reply("ok"))
    screen = Screen()
    await Tools(runtime, screen).run(make_client(mock), {"model": MODEL, "input": "go"})
    assert screen.log == [
        "move",
        "double_click",
        "scroll",
        "drag",
        "wait",
        "click",
        "screenshot",
    ]
    assert _state(mock.server.requests[1].json["input"][2])["pointer"] == [2, 3]


async def test_safety_checks_stop_the_run_unless_approved(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    check = {"id": "sc_1", "code": "malicious_instructions", "message": "Check the page."}
    mock.server.enqueue(ComputerCall([CLICK], pending_safety_checks=[check]))
    screen = Screen()
    tools = Tools(runtime, screen)
    client = make_client(mock)
    with pytest.raises(ComputerUseError, match="approv") as caught:
        await tools.run(client, {"model": MODEL, "input": "go"})
    assert caught.value.response is not None
    assert caught.value.response.output[0].type == "computer_call"
    assert screen.log == []

    seen: list[str] = []

    def approve(call: Any) -> bool:
        seen.append(call.pending_safety_checks[0].id)
        return True

    mock.server.enqueue(ComputerCall([CLICK], pending_safety_checks=[check]), Reply("ok"))
    response = await tools.run(
        client, {"model": MODEL, "input": "go"}, approve_safety_checks=tools.policy(approve)
    )
    assert response.output_text == "ok"
    assert seen == ["sc_1"]
    assert screen.log == ["click", "screenshot"]
    output = mock.server.requests[-1].json["input"][2]
    assert output["acknowledged_safety_checks"] == [check]

    # Approval must be exactly True: a truthy non-True answer is a refusal.
    mock.server.enqueue(ComputerCall([CLICK], pending_safety_checks=[check]))
    with pytest.raises(ComputerUseError, match="approv"):
        await tools.run(
            client, {"model": MODEL, "input": "go"}, approve_safety_checks=tools.policy(lambda c: 1)
        )


async def test_before_action_sees_each_action_and_can_refuse(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    mock.server.enqueue(ComputerCall([CLICK, {"type": "type", "text": "rm -rf"}]))
    screen = Screen()
    tools = Tools(runtime, screen)
    asked: list[str] = []

    def confirm(action: Any) -> bool:
        asked.append(action.type)
        return bool(action.type != "type")

    with pytest.raises(ComputerUseError, match="'type' was not approved") as caught:
        await tools.run(
            make_client(mock), {"model": MODEL, "input": "go"}, before_action=tools.policy(confirm)
        )
    assert asked == ["click", "type"]
    # The approved click ran; the refused action and the screenshot did not.
    assert screen.log == ["click"]
    assert caught.value.response is not None

    mock.server.enqueue(ComputerCall([CLICK]), Reply("ok"))
    asked.clear()

    def confirm_all(action: Any) -> bool:
        asked.append(action.type)
        return True

    await tools.run(
        make_client(mock),
        {"model": MODEL, "input": "go"},
        before_action=tools.policy(confirm_all),
    )
    assert asked == ["click", "screenshot"]


async def test_max_steps_bounds_the_number_of_responses(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    mock.server.enqueue(ComputerCall([CLICK], times=3))
    screen = Screen()
    with pytest.raises(ComputerUseError, match="max_steps") as caught:
        await Tools(runtime, screen).run(
            make_client(mock), {"model": MODEL, "input": "go"}, max_steps=2
        )
    assert len(mock.server.requests) == 2
    # The first call ran; the last response's call did not.
    assert screen.log == ["click", "screenshot"]
    assert caught.value.response is not None
    with pytest.raises(ValueError, match="max_steps"):
        await Tools(runtime, screen).run(make_client(mock), {"model": MODEL}, max_steps=0)


async def test_cancellation_between_driver_calls(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    mock.server.enqueue(ComputerCall([CLICK, {"type": "type", "text": "x"}]))
    screen = Screen()
    with pytest.raises(ComputerUseError, match="cancelled"):
        await Tools(runtime, screen).run(
            make_client(mock),
            {"model": MODEL, "input": "go"},
            cancelled=lambda: "click" in screen.log,
        )
    assert screen.log == ["click"]


async def test_forced_tool_choice_is_relaxed_and_idempotency_keys_rotate(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    mock.server.enqueue(ComputerCall([CLICK]), ComputerCall([CLICK]), Reply("ok"))
    params = {
        "model": MODEL,
        "input": [{"role": "user", "content": "go"}],
        "tool_choice": "required",
        "extra_headers": {"Idempotency-Key": "mine"},
    }
    await Tools(runtime, Screen()).run(make_client(mock), params)
    requests = mock.server.requests
    assert [r.json.get("tool_choice") for r in requests] == ["required", "auto", "auto"]
    keys = [r.headers["idempotency-key"] for r in requests]
    assert keys[0] == "mine"
    assert len(set(keys)) == 3
    # The caller's parameters are copied, never changed.
    assert params["input"] == [{"role": "user", "content": "go"}]
    assert params["tool_choice"] == "required"


async def test_responses_it_cannot_continue_are_refused(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    screen = Screen()
    tools = Tools(runtime, screen)
    client = make_client(mock)
    mock.server.enqueue(ToolCalls([ToolCall("get_weather", {"city": "Paris"})]))
    with pytest.raises(ComputerUseError, match="'function_call' item") as caught:
        await tools.run(client, {"model": MODEL, "input": "go"})
    assert caught.value.response is not None
    # An action the API does not define never reaches the driver.
    mock.server.enqueue(ComputerCall([{"type": "click", "button": "middle", "x": 1, "y": 1}]))
    with pytest.raises(ComputerUseError, match="invalid action"):
        await tools.run(client, {"model": MODEL, "input": "go"})
    mock.server.enqueue(
        ComputerCall([CLICK], call_id="same"), ComputerCall([CLICK], call_id="same")
    )
    with pytest.raises(ComputerUseError, match="repeats the computer call id 'same'"):
        await tools.run(client, {"model": MODEL, "input": "go"})
    assert screen.log == ["click", "screenshot"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"model": MODEL, "tools": [{"type": "function", "name": "f"}]}, "one tool"),
        ({"model": MODEL, "stream": True}, "non-streaming"),
        ({"model": MODEL, "previous_response_id": "resp_1"}, "replays the whole history"),
        ({"model": MODEL, "extra_body": {"input": []}}, "extra_body"),
    ]
    for params, message in cases:
        with pytest.raises(ValueError, match=message):
            await tools.run(client, params)


async def test_driver_failures_and_bad_screenshots_surface(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    client = make_client(mock)
    diagnostics: list[Any] = []
    mock.server.enqueue(ComputerCall([CLICK]))
    with pytest.raises(OSError, match="refused click"):
        await Tools(runtime, Screen(fail_on="click")).run(
            client, {"model": MODEL, "input": "go"}, on_diagnostic=diagnostics.append
        )
    assert [(d["stage"], d["reason"], d["member"]) for d in diagnostics] == [
        ("action", "driver_failed", "click")
    ]
    mock.server.enqueue(ComputerCall([CLICK]))
    with pytest.raises(ComputerUseError, match="computer_screenshot"):
        await Tools(runtime, Screen(bad_screenshot=True)).run(
            client, {"model": MODEL, "input": "go"}
        )


async def test_execute_runs_one_call(mock: Setup, make_client: MakeClient, runtime: str) -> None:
    mock.server.enqueue(ComputerCall([{"type": "type", "text": "abc"}], call_id="call_x"))
    client = make_client(mock)
    created = await client.responses.create(model=MODEL, input="go", tools=[{"type": "computer"}])
    call = created.output[0]
    screen = Screen()
    tools = Tools(runtime, screen)
    output = await tools.execute(call)
    assert output["type"] == "computer_call_output"
    assert output["call_id"] == "call_x"
    assert _state(output) == {"pointer": [0, 0], "text": "abc"}
    assert tools.toolset.close() == {"status": "closed"}
    with pytest.raises(RuntimeError, match="closed"):
        await tools.execute(call)


def test_a_driver_of_the_wrong_flavour_is_refused_up_front() -> None:
    with pytest.raises(ValueError, match="AsyncComputerToolset"):
        ComputerToolset(AsyncDesktop(Screen()))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="use ComputerToolset"):
        AsyncComputerToolset(Desktop(Screen()))  # type: ignore[arg-type]

    class Partial:
        def click(self, action: Any) -> None: ...

    with pytest.raises(ValueError, match="no callable double_click"):
        ComputerToolset(Partial())  # type: ignore[arg-type]


async def test_the_mock_streams_a_computer_call_whole(
    mock: Setup, make_client: MakeClient, runtime: str
) -> None:
    mock.server.enqueue(ComputerCall([CLICK], call_id="call_s"))
    client = make_client(mock)
    stream = await client.responses.create(
        model=MODEL, input="go", tools=[{"type": "computer"}], stream=True
    )
    events = [event async for event in stream]
    assert [event.type for event in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[2].item.status == "in_progress"
    done = events[-1].response.output[0]
    assert done.type == "computer_call" and done.call_id == "call_s"
    # The streamed call runs as the non-streamed one does.
    screen = Screen()
    output = await Tools(runtime, screen).execute(done)
    assert screen.log == ["click", "screenshot"]
    assert _state(output)["pointer"] == [40, 80]
