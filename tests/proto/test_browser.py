"""The browser toolset's core: member selection, tools, argument checks, state reports, results."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oxide_proto.helpers._browser import (
    BROWSER_MEMBERS,
    DEFAULT_BROWSER_MEMBERS,
    BrowserError,
    BrowserSelection,
    browser_arguments,
    browser_output,
    browser_result,
    browser_state,
    browser_tools,
    check_policies,
    read_refused_output,
)


def test_default_members_leave_out_the_opt_in_ones() -> None:
    assert "click_at" in BROWSER_MEMBERS and "click_at" not in DEFAULT_BROWSER_MEMBERS
    assert DEFAULT_BROWSER_MEMBERS[:3] == ("navigate", "read_page", "get_page_text")
    selection = BrowserSelection(None, ["run_script"], None)
    assert selection.offered == (*DEFAULT_BROWSER_MEMBERS, "run_script")
    assert selection.required == {"run_script"}
    explicit = BrowserSelection(["screenshot", "click_at"], None, ["screenshot"])
    assert explicit.offered == ("screenshot", "click_at")
    assert explicit.disabled("browser_click", frozenset(explicit.offered))
    assert not explicit.disabled("browser_screenshot", frozenset(explicit.offered))
    assert not explicit.disabled("get_weather", frozenset())
    default = BrowserSelection(None, None, None)
    # A default member the driver lacks is left out; an opt-in one is disabled.
    assert not default.disabled("browser_click", frozenset())
    assert default.disabled("browser_run_script", frozenset())


@pytest.mark.parametrize(
    ("members", "additional", "reads", "message"),
    [
        (["click"], ["run_script"], None, "not both"),
        ("click", None, None, "sequence"),
        (["click", "click"], None, None, "distinct"),
        (["fly"], None, None, "distinct"),
        (None, None, ["click"], "confirm_reads"),
        (["screenshot"], None, ["read_page"], "confirm_reads"),
    ],
)
def test_bad_selections(members: Any, additional: Any, reads: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BrowserSelection(members, additional, reads)


def test_drivers_and_policies_must_cover_the_members() -> None:
    selection = BrowserSelection(["click", "list_tabs"], None, None)
    with pytest.raises(ValueError, match="does not implement click"):
        selection.with_driver(frozenset())
    assert selection.with_driver(frozenset({"click"})) == ("click", "list_tabs")
    with pytest.raises(ValueError, match="need a confirm callback: click"):
        check_policies(["click"], frozenset(), has_confirm=False, has_url_policy=True)
    with pytest.raises(ValueError, match="url_policy"):
        check_policies(["new_tab"], frozenset(), has_confirm=True, has_url_policy=False)
    check_policies(
        ["screenshot", "read_page"], frozenset(), has_confirm=False, has_url_policy=False
    )


def test_tools_are_strict_schemas_in_member_order() -> None:
    tools = browser_tools(["zoom", "navigate", "list_tabs"])
    assert [tool["name"] for tool in tools] == [
        "browser_navigate",
        "browser_zoom",
        "browser_list_tabs",
    ]
    navigate = tools[0]
    assert navigate["strict"] is True
    assert navigate["parameters"] == {
        "type": "object",
        "properties": {"url": {"type": "string"}, "tab_id": {"type": ["string", "null"]}},
        "required": ["url", "tab_id"],
        "additionalProperties": False,
    }
    assert tools[1]["parameters"]["properties"]["region"]["minItems"] == 4
    # Each call gets its own copy: changing one never changes the next.
    tools[1]["parameters"]["properties"]["region"]["minItems"] = 0
    assert browser_tools(["zoom"])[0]["parameters"]["properties"]["region"]["minItems"] == 4


@pytest.mark.parametrize(
    ("member", "arguments"),
    [
        ("navigate", {"url": "https://a.example", "tab_id": None}),
        ("zoom", {"tab_id": "t", "region": [0, 0, 1, 1]}),
        (
            "click_at",
            {
                "tab_id": None,
                "x": 0,
                "y": 9,
                "button": "middle",
                "click_count": 3,
                "keys": ["Shift"],
            },
        ),
        ("drag_path", {"tab_id": None, "path": [{"x": 0, "y": 0}, {"x": 1, "y": 2}], "keys": []}),
        ("hold_keys", {"tab_id": None, "keys": ["a", "b"], "duration_ms": 3000}),
        ("wait_for", {"text": " ready ", "timeout_ms": 1, "tab_id": None}),
        ("read_page_scoped", {"tab_id": None, "root": None, "depth": 32, "filter": "interactive"}),
        ("list_tabs", {}),
        ("upload_file", {"grant_id": "g1"}),
    ],
)
def test_valid_arguments_come_back_as_given(member: str, arguments: dict[str, Any]) -> None:
    assert browser_arguments(member, json.dumps(arguments)) == arguments


@pytest.mark.parametrize(
    ("member", "text", "message"),
    [
        ("navigate", "{", "valid JSON"),
        ("navigate", "[]", "exactly these fields: url, tab_id"),
        ("navigate", '{"url": "x"}', "exactly these fields"),
        ("navigate", '{"url": "x", "tab_id": null, "more": 1}', "exactly these fields"),
        ("navigate", '{"url": 1, "tab_id": null}', "url has an invalid value"),
        ("zoom", '{"tab_id": null, "region": [5, 0, 1, 1]}', "region"),
        ("zoom", '{"tab_id": null, "region": [0, 0, 1]}', "region"),
        (
            "click_at",
            '{"tab_id": null, "x": -1, "y": 0, "button": "left", "click_count": 1, "keys": []}',
            " x ",
        ),
        (
            "click_at",
            '{"tab_id": null, "x": 1, "y": 0, "button": "left", "click_count": true, "keys": []}',
            "click_count",
        ),
        (
            "click_at",
            '{"tab_id": null, "x": 1, "y": 0, "button": "left", "click_count": 1,'
            ' "keys": ["Shift", "Shift"]}',
            "keys",
        ),
        ("drag_path", '{"tab_id": null, "path": [{"x": 0, "y": 0}], "keys": []}', "path"),
        ("hold_keys", '{"tab_id": null, "keys": [], "duration_ms": 5}', "keys"),
        ("hold_keys", '{"tab_id": null, "keys": ["a"], "duration_ms": 3001}', "duration_ms"),
        ("wait_for", '{"text": "   ", "timeout_ms": 5, "tab_id": null}', "text"),
        ("run_script", '{"tab_id": null, "source": "", "timeout_ms": 5}', "source"),
        ("upload_file", '{"grant_id": "\\ud800"}', "grant_id"),
    ],
)
def test_invalid_arguments_are_refused_for_the_model(member: str, text: str, message: str) -> None:
    with pytest.raises(BrowserError, match=message):
        browser_arguments(member, text)


def test_state_shows_origins_only() -> None:
    tabs = [
        {
            "id": "a",
            "title": "A",
            "url": "https://user:pw@Example.COM:443/p?token=s#f",
            "active": True,
        },
        {"id": "b", "title": "B", "url": "http://[0:0::1]:8080/x", "active": False},
        {"id": "c", "title": "C", "url": "about:blank", "active": False},
        {"id": "d", "title": "D", "url": "file:///etc/passwd", "active": False},
        {"id": "e", "title": "E", "url": "https://münchen.example:8443/x", "active": False},
    ]
    state = browser_state({"tabs": tabs})
    assert [tab["url"] for tab in state["tabs"]] == [
        "https://example.com",
        "http://[0:0::1]:8080",
        "about:blank",
        "file:",
        "https://xn--mnchen-3ya.example:8443",
    ]
    # With an observation log, the origin is the canonical one.
    observed = browser_state(_observed([{**tabs[1], "active": True}], 0, 0, []))
    assert observed["tabs"][0]["url"] == "http://[::1]:8080"


def _observed(
    tabs: list[dict[str, Any]], sequence: int, dropped: int, changes: list[Any]
) -> dict[str, Any]:
    return {
        "tabs": tabs,
        "observation": {
            "version": 1,
            "sequence": sequence,
            "dropped_changes": dropped,
            "title_truncated": False,
            "changes": changes,
        },
    }


TAB = {"id": "t1", "title": "T", "url": "https://a.example/x", "active": True}
NAV = {"type": "navigation", "sequence": 1, "tab_id": "t1"}
DOWNLOAD = {"type": "download", "sequence": 2, "tab_id": None, "status": "blocked"}


def test_observed_state_continues_the_log_and_cuts_long_titles() -> None:
    long_title = {**TAB, "title": "é" * 600}
    before = browser_state(_observed([long_title], 1, 0, [NAV]))
    assert before["observation"]["title_truncated"] is True
    assert len(before["tabs"][0]["title"].encode()) <= 1024
    after = browser_state(_observed([TAB], 2, 1, [DOWNLOAD]), before["observation"])
    assert after["observation"]["changes"] == [DOWNLOAD]
    with pytest.raises(RuntimeError, match="invalid"):
        # The log went backwards.
        browser_state(_observed([TAB], 0, 0, []), before["observation"])
    with pytest.raises(RuntimeError, match="invalid"):
        # An entry both reports hold was changed.
        browser_state(
            _observed([TAB], 2, 0, [{**NAV, "tab_id": "t2"}, DOWNLOAD]), before["observation"]
        )
    with pytest.raises(RuntimeError, match="invalid"):
        browser_state({"tabs": [TAB]}, before["observation"])


@pytest.mark.parametrize(
    "report",
    [
        None,
        {"tabs": "x"},
        {"tabs": [{**TAB, "active": 1}]},
        {"tabs": [TAB, {**TAB, "active": False}]},  # the same id twice
        {"tabs": [TAB, {**TAB, "id": "t2"}]},  # two active tabs
        {"tabs": [{**TAB, "url": "no scheme"}]},
        _observed([{**TAB, "url": "ftp://a.example"}], 0, 0, []),
        _observed([{**TAB, "url": "https://a%2e.example"}], 0, 0, []),
        _observed([{**TAB, "url": "https://1.2.3"}], 0, 0, []),
        _observed([TAB], 2, 0, [NAV]),  # sequence != dropped + len(changes)
        _observed([TAB], 1, 0, [{**NAV, "sequence": 5}]),
        _observed([TAB], 1, 0, [{**NAV, "type": "teleport"}]),
        _observed([TAB], 1, 0, [{**DOWNLOAD, "sequence": 1, "status": "maybe"}]),
    ],
)
def test_invalid_state_reports(report: Any) -> None:
    with pytest.raises(RuntimeError, match="invalid"):
        browser_state(report)


def test_read_reports_are_checked_and_copied() -> None:
    report = {
        "version": 1,
        "text": "Sign in",
        "elements": [
            {"ref": "e1", "role": "checkbox", "label": "Remember", "checked": True},
            {
                "ref": "e2",
                "role": "listbox",
                "label": "L",
                "options": [{"label": "a", "value": "1", "selected": False}],
            },
        ],
        "omitted": ["private"],
        "internal": "never copied",
    }
    copied = browser_result("read_page", report)
    assert copied == {key: value for key, value in report.items() if key != "internal"}
    assert browser_result("read_page", "plain text") == "plain text"
    assert browser_result("get_page_text", None) is None
    scoped = {
        "version": 1,
        "text": "",
        "elements": [],
        "omitted": [],
        "scopes": [{"ref": "s1", "label": "Main"}],
    }
    assert browser_result("read_page_scoped", scoped) == scoped
    for bad in (
        {**report, "version": 2},
        {**report, "omitted": ["private", "private"]},
        {**report, "elements": [{"ref": "e1", "role": "link", "label": "x"}]},
        {**report, "elements": [report["elements"][0], report["elements"][0]]},  # type: ignore[index]
    ):
        with pytest.raises(RuntimeError, match="read_page report is invalid"):
            browser_result("read_page", bad)
    with pytest.raises(RuntimeError, match="invalid"):
        browser_result("read_page_scoped", "text")  # a scoped read is always a report
    with pytest.raises(RuntimeError, match="invalid"):
        browser_result("get_page_text", {**report, "omitted": []})  # page text has no elements


def test_images_scripts_files_and_plain_results() -> None:
    image = {"type": "input_image", "image_url": "data:image/png;base64,AA==", "detail": "low"}
    assert browser_result("screenshot", image) == image
    for bad in (
        {"type": "input_image"},
        {"type": "input_image", "image_url": " "},
        {"type": "input_image", "file_id": "f", "extra": 1},
        {"type": "input_image", "file_id": "f", "detail": "huge"},
        {"type": "input_text", "text": "x"},
    ):
        with pytest.raises(RuntimeError, match="input_image"):
            browser_result("zoom", bad)
    assert browser_result("run_script", "") == ""
    with pytest.raises(RuntimeError, match="text"):
        browser_result("run_script", None)
    outcome = {"version": 1, "status": "refused", "effect": "none", "cleanup": "completed"}
    assert browser_result("download_file", outcome) == outcome
    with pytest.raises(RuntimeError, match="outcome"):
        browser_result("upload_file", {**outcome, "effect": "completed"})
    assert browser_result("click", None) is None
    with pytest.raises(RuntimeError, match="string or None"):
        browser_result("click", 5)


def test_outputs() -> None:
    state: Any = {"tabs": [{"id": "t1", "title": "T", "url": "https://a.example", "active": True}]}
    image = {"type": "input_image", "file_id": "file_1"}
    shot = browser_output("c1", "screenshot", state, image, None)
    assert shot["output"][1] == image
    assert json.loads(shot["output"][0]["text"]) == {"ok": True, "state": state}
    failed = browser_output("c2", "click", state, None, "Browser action failed.")
    assert json.loads(failed["output"][0]["text"]) == {
        "ok": False,
        "state": state,
        "error": "Browser action failed.",
    }
    refused_file = browser_output(
        "c3",
        "upload_file",
        state,
        {"version": 1, "status": "refused", "effect": "none", "cleanup": "completed"},
        None,
    )
    assert json.loads(refused_file["output"][0]["text"])["ok"] is False
    # Non-ASCII text is escaped, so the JSON text is plain ASCII.
    text = browser_output("c4", "get_page_text", state, "café", None)["output"][0]["text"]
    assert "caf\\u00e9" in text
    assert read_refused_output("c5") == {
        "type": "function_call_output",
        "call_id": "c5",
        "output": [
            {
                "type": "input_text",
                "text": '{"ok": false, "error": "Browser read was not approved."}',
            }
        ],
    }
