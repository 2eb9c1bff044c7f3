"""oxide's computer and browser toolsets against the official ones, on the same calls and drivers.

The official SDK (installed for the tests) is the specification: each case runs
the official toolset and oxide's with the same driver and the same call, and
compares the output items. Where oxide's message for the model is more precise
(it names the invalid argument), both must still refuse, with `ok: false`.
"""

from __future__ import annotations

import json
from typing import Any, cast

import pytest
from openai.lib.browser import BrowserToolset as OfficialBrowserToolset
from openai.lib.computer import ComputerToolset as OfficialComputerToolset
from openai.types.responses import ResponseComputerToolCall as OfficialComputerCall
from openai.types.responses import ResponseFunctionToolCall as OfficialFunctionCall

from oxide_io.browser import BrowserError, BrowserToolset
from oxide_io.computer import ComputerToolset
from oxide_proto.types.responses import ResponseComputerToolCall, ResponseFunctionToolCall

LONG_TITLE = "ü" * 700


class Browser:
    """A driver whose answers depend only on the call, so two toolsets see the same browser."""

    def __init__(self, observed: bool) -> None:
        self.observed = observed

    def state(self) -> dict[str, Any]:
        tabs = [
            {
                "id": "t1",
                "title": "Home",
                "url": "https://u:p@EXAMPLE.com:443/a?token=x",
                "active": True,
            },
            {"id": "t2", "title": LONG_TITLE, "url": "http://[0:0::1]:8080/b", "active": False},
            {"id": "t3", "title": "Blank", "url": "about:blank", "active": False},
        ]
        report: dict[str, Any] = {"tabs": tabs}
        if self.observed:
            report["observation"] = {
                "version": 1,
                "sequence": 3,
                "dropped_changes": 1,
                "title_truncated": False,
                "changes": [
                    {"type": "navigation", "sequence": 2, "tab_id": "t1"},
                    {"type": "download", "sequence": 3, "tab_id": None, "status": "blocked"},
                ],
            }
        return report

    def navigate(self, action: Any) -> None:
        return None

    def click(self, action: Any) -> None:
        if action["target"] == "raises":
            raise ValueError("internal detail the model must not see")
        if action["target"] == "refuses":
            raise _browser_error("That button is gone.")

    def key(self, action: Any) -> str:
        return "pressed " + "+".join(action["keys"])

    def read_page(self, action: Any) -> Any:
        return {
            "version": 1,
            "text": "Café",
            "elements": [
                {"ref": "e1", "role": "textbox", "label": "Name", "value": "v", "extra": 1},
                {
                    "ref": "e2",
                    "role": "listbox",
                    "label": "L",
                    "options": [{"label": "a", "value": "1", "selected": True}],
                },
            ],
            "omitted": ["private", "value"],
        }

    def get_page_text(self, action: Any) -> Any:
        return "plain page text"

    def screenshot(self, action: Any) -> Any:
        return {"type": "input_image", "image_url": "data:image/png;base64,AA==", "detail": "low"}

    def zoom(self, action: Any) -> Any:
        return {"type": "input_image", "file_id": "file_1"}

    def new_tab(self, action: Any) -> None:
        return None


def _browser_error(message: str) -> Exception:
    # Each toolset recognises its own BrowserError class: raise the one of the caller.
    return _ERRORS[-1](message)


_ERRORS: list[type[Exception]] = [BrowserError]

CASES = [
    ("browser_navigate", {"url": "https://shop.example/x?q=1", "tab_id": None}),
    ("browser_navigate", {"url": "http://elsewhere.example", "tab_id": None}),
    ("browser_new_tab", {"url": None}),
    ("browser_read_page", {"tab_id": None, "filter": "all"}),
    ("browser_get_page_text", {"tab_id": "t1"}),
    ("browser_screenshot", {"tab_id": None}),
    ("browser_zoom", {"tab_id": None, "region": [0, 0, 10, 10]}),
    ("browser_click", {"target": "ok", "tab_id": None}),
    ("browser_click", {"target": "raises", "tab_id": None}),
    ("browser_click", {"target": "refuses", "tab_id": None}),
    ("browser_key", {"keys": ["Control", "a"], "tab_id": None}),
    ("browser_list_tabs", {}),
    ("browser_unknown", {}),
    ("not_a_browser_tool", {"x": 1}),
]
# Argument errors: both refuse; oxide's message also names the field.
REFUSED_ARGUMENTS = [
    ("browser_click", '{"target": "ok"}'),
    ("browser_click", '{"target": 5, "tab_id": null}'),
    ("browser_zoom", '{"tab_id": null, "region": [9, 0, 1, 1]}'),
    ("browser_navigate", "{not json"),
]


def _run_browser(official: bool, observed: bool, name: str, arguments: str) -> Any:
    from openai.lib import browser as official_browser

    _ERRORS.append(official_browser.BrowserError if official else BrowserError)
    try:
        toolset_class: Any = OfficialBrowserToolset if official else BrowserToolset
        toolset = toolset_class(
            Browser(observed),
            confirm=lambda context: True,
            url_policy=lambda context, url: url.startswith("https://shop.example/"),
        )
        data = {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_1",
            "name": name,
            "arguments": arguments,
            "status": "completed",
        }
        call = (
            OfficialFunctionCall.model_validate(data)
            if official
            else ResponseFunctionToolCall.from_dict(data)
        )
        return json.loads(json.dumps(toolset.execute(call)))
    finally:
        _ERRORS.pop()


@pytest.mark.parametrize("observed", [False, True], ids=["plain", "observed"])
@pytest.mark.parametrize(
    ("name", "arguments"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)]
)
def test_browser_outputs_match_the_official_toolset(
    observed: bool, name: str, arguments: dict[str, Any]
) -> None:
    text = json.dumps(arguments)
    assert _run_browser(False, observed, name, text) == _run_browser(True, observed, name, text)


@pytest.mark.parametrize(("name", "arguments"), REFUSED_ARGUMENTS)
def test_both_refuse_bad_arguments_with_the_same_state(name: str, arguments: str) -> None:
    ours = _run_browser(False, True, name, arguments)
    theirs = _run_browser(True, True, name, arguments)
    ours_payload = json.loads(ours["output"][0]["text"])
    theirs_payload = json.loads(theirs["output"][0]["text"])
    assert ours_payload["ok"] is theirs_payload["ok"] is False
    assert ours_payload["state"] == theirs_payload["state"]
    assert ours_payload["error"].startswith("Browser argument")


def test_browser_tools_offer_the_same_functions() -> None:
    options: dict[str, Any] = {
        "confirm": lambda context: True,
        "url_policy": lambda context, url: True,
    }
    ours = BrowserToolset(cast(Any, Browser(False)), **options).tools
    official_class: Any = OfficialBrowserToolset
    theirs = official_class(Browser(False), **options).tools
    assert [tool["name"] for tool in ours] == [tool["name"] for tool in theirs]
    for mine, official in zip(ours, theirs, strict=True):
        assert mine["strict"] is official["strict"] is True
        mine_parameters, official_parameters = (
            mine["parameters"],
            dict(official["parameters"] or {}),
        )
        assert mine_parameters["required"] == official_parameters["required"]
        for field, schema in mine_parameters["properties"].items():
            expected = dict(official_parameters["properties"][field])
            # The descriptions are worded differently; the constraints are the same.
            expected.pop("description", None)
            assert {k: v for k, v in schema.items() if k != "description"} == expected


class Desktop:
    def __init__(self) -> None:
        self.log: list[str] = []

    def click(self, action: Any) -> None:
        self.log.append(f"click {action.x},{action.y} {action.button}")

    def double_click(self, action: Any) -> None:
        self.log.append("double_click")

    def drag(self, action: Any) -> None:
        self.log.append(f"drag {len(action.path)}")

    def keypress(self, action: Any) -> None:
        self.log.append("keypress " + "+".join(action.keys))

    def move(self, action: Any) -> None:
        self.log.append("move")

    def scroll(self, action: Any) -> None:
        self.log.append(f"scroll {action.scroll_y}")

    def type(self, action: Any) -> None:
        self.log.append("type " + action.text)

    def wait(self, action: Any) -> None:
        self.log.append("wait")

    def screenshot(self) -> Any:
        self.log.append("screenshot")
        return {"type": "computer_screenshot", "image_url": "data:image/png;base64,AA=="}


COMPUTER_CALLS = [
    {
        "actions": [
            {"type": "click", "button": "left", "x": 1, "y": 2},
            {"type": "type", "text": "hi"},
        ]
    },
    {"actions": [{"type": "screenshot"}, {"type": "wait"}, {"type": "screenshot"}]},
    {
        "actions": [
            {"type": "drag", "path": [{"x": 1, "y": 1}, {"x": 2, "y": 2}]},
            {"type": "scroll", "x": 0, "y": 0, "scroll_x": 0, "scroll_y": 5},
        ],
        "pending_safety_checks": [{"id": "sc_1", "code": "c", "message": "m"}],
    },
    {"action": {"type": "keypress", "keys": ["CTRL", "L"]}, "pending_safety_checks": []},
]


@pytest.mark.parametrize("fields", COMPUTER_CALLS)
def test_computer_execute_matches_the_official_toolset(fields: dict[str, Any]) -> None:
    data = {
        "type": "computer_call",
        "id": "cu_1",
        "call_id": "call_1",
        "status": "completed",
        "pending_safety_checks": [],
        **fields,
    }
    results = []
    for official in (True, False):
        desktop = Desktop()
        if official:
            toolset: Any = OfficialComputerToolset(desktop)
            call: Any = OfficialComputerCall.model_validate(data)
        else:
            toolset = ComputerToolset(desktop)
            call = ResponseComputerToolCall.from_dict(data)
        output = toolset.execute(call, approve_safety_checks=lambda call: True)
        results.append((json.loads(json.dumps(output)), desktop.log))
    assert results[0] == results[1]
