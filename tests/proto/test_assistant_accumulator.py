"""The merge rules of Assistants stream deltas (the snapshots of `AssistantAccumulator`)."""

from __future__ import annotations

from typing import Any

from oxide_proto.helpers._assistant_accumulator import merge


def test_strings_continue_and_repeated_keys_are_replaced() -> None:
    snapshot: dict[str, Any] = {"id": "call_1", "type": "function", "arguments": '{"a"'}
    merge(snapshot, {"id": "call_1", "type": "function", "arguments": ": 1}"})
    assert snapshot == {"id": "call_1", "type": "function", "arguments": '{"a": 1}'}


def test_indexed_items_merge_by_index_and_others_are_appended() -> None:
    snapshot: dict[str, Any] = {"content": [{"index": 0, "text": {"value": "Hel"}}]}
    merge(snapshot, {"content": [{"index": 0, "text": {"value": "lo", "annotations": [1]}}]})
    merge(snapshot, {"content": [{"index": 1, "type": "image_file"}]})
    merge(snapshot, {"content": [{"index": 0, "text": {"annotations": [2]}}]})
    assert snapshot == {
        "content": [
            {"index": 0, "text": {"value": "Hello", "annotations": [1, 2]}},
            {"index": 1, "type": "image_file"},
        ]
    }


def test_a_merged_delta_is_copied_not_shared() -> None:
    delta: dict[str, Any] = {"outputs": [{"logs": "a"}], "extra": {"k": [1]}}
    snapshot: dict[str, Any] = {}
    merge(snapshot, delta)
    snapshot["extra"]["k"].append(2)
    snapshot["outputs"][0]["logs"] = "changed"
    assert delta == {"outputs": [{"logs": "a"}], "extra": {"k": [1]}}
