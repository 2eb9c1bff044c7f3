"""Unions whose variants share a tag, or whose tag is left out, decode by the value's keys.

The Responses input items are told apart by `type`, but "message" is the tag of
three shapes (`EasyInputMessage`, whose content may be a string; `InputMessage`;
`ResponseOutputMessage`), and `type` itself is optional on a message.
"""

from __future__ import annotations

from typing import Any

import pytest

from oxide_proto import UnknownModel, decode
from oxide_proto.types.responses import (
    EasyInputMessage,
    InputItem,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
)

OUTPUT_TEXT = {"type": "output_text", "text": "hi", "annotations": []}


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"role": "developer", "content": "Be brief.", "phase": "commentary"}, EasyInputMessage),
        ({"type": "message", "role": "user", "content": "plain text"}, EasyInputMessage),
        (
            {"type": "message", "id": "m", "role": "assistant", "status": "completed"}
            | {"content": [OUTPUT_TEXT]},
            ResponseOutputMessage,
        ),
        (
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
            ResponseFunctionToolCall,
        ),
        ({"type": "a_future_item", "x": 1}, UnknownModel),
    ],
)
def test_input_item_variant(item: dict[str, Any], expected: type) -> None:
    assert type(decode(InputItem, item)) is expected  # type: ignore[arg-type]


def test_untagged_message_keeps_its_text_content() -> None:
    message = decode(InputItem, {"role": "user", "content": "Hello"})  # type: ignore[arg-type]
    assert isinstance(message, EasyInputMessage)
    assert message.content == "Hello"
