"""What the mock model "says": reading the prompt and deciding the reply.

Both generating endpoints (chat completions and Responses) read the request the
same way — the last user message, the whole prompt for token counts — and reply
with the same thing: a text, or tool calls when a test scripted them. Unscripted,
a request that asks for JSON gets JSON fitting its schema and a request that
forces a tool call gets one (see `_structured`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._behaviours import ComputerCall, OutputItems, Reply, ToolCall, ToolCalls
from ._structured import forced_tool_call, structured_text
from ._wire import new_id, token_count

__all__ = ["Generation", "ReplyText", "default_reply", "generate", "last_user_text", "prompt_text"]

ReplyText = str | Callable[[Mapping[str, Any]], str]
"""A fixed reply, or a function of the request's JSON body returning one."""


@attrs.frozen
class Generation:
    """The mock model's output for one request."""

    text: str | None
    tool_calls: tuple[ToolCall, ...]
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    computer_call: ComputerCall | None = None
    # Output items scripted as they are (`OutputItems`), for the Responses API.
    items: tuple[Mapping[str, Any], ...] | None = None


def _flatten(content: object) -> str:
    """Text of a message's `content`: a string, or a list of parts with `text`."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [part.get("text") for part in content if isinstance(part, Mapping)]
        return " ".join(text for text in texts if isinstance(text, str))
    return ""


def _messages(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Chat `messages`, or Responses `input` items, as role/content mappings."""
    raw = body.get("messages", body.get("input"))
    if isinstance(raw, str):
        return [{"role": "user", "content": raw}]
    if isinstance(raw, list):
        return [item for item in raw if isinstance(item, Mapping)]
    return []


def last_user_text(body: Mapping[str, Any]) -> str:
    """The text of the last user message of a chat or Responses request ("" if none)."""
    for message in reversed(_messages(body)):
        if message.get("role", "user") == "user":
            return _flatten(message.get("content"))
    return ""


def prompt_text(body: Mapping[str, Any]) -> str:
    """All the text of the prompt, for token counting."""
    parts = [_flatten(body.get("instructions"))]
    parts.extend(_flatten(m.get("content", m.get("output"))) for m in _messages(body))
    return " ".join(part for part in parts if part)


def default_reply(body: Mapping[str, Any]) -> str:
    """The reply when no test chose one: deterministic, derived from the last user message.

    >>> default_reply({"messages": [{"role": "user", "content": "Hi"}]})
    'You said: "Hi". This reply comes from the oxide mock server.'
    """
    said = " ".join(last_user_text(body).split())
    if not said:
        return "Hello! This reply comes from the oxide mock server."
    return f'You said: "{said}". This reply comes from the oxide mock server.'


def generate(
    body: Mapping[str, Any],
    reply_text: ReplyText,
    scripted: ToolCalls | OutputItems | Reply | ComputerCall | None,
) -> Generation:
    """Decide the reply to a generating request.

    In order: a scripted `ToolCalls` or `Reply`; a tool call the request's
    `tool_choice` forces; JSON for a `json_schema`/`json_object` format, unless
    `reply_text` was changed from the default (a test's own choice wins); the text.
    """
    prompt_tokens = token_count(prompt_text(body))
    if scripted is None:
        forced = forced_tool_call(body)
        if forced is not None:
            scripted = ToolCalls([forced])
    if isinstance(scripted, ComputerCall):
        if scripted.call_id is None:
            scripted = attrs.evolve(scripted, call_id=new_id("call_"))
        used = sum(token_count(str(action)) for action in scripted.actions)
        return Generation(None, (), "tool_calls", prompt_tokens, used, scripted)
    if isinstance(scripted, ToolCalls):
        calls = tuple(
            call if call.id is not None else attrs.evolve(call, id=new_id("call_"))
            for call in scripted.calls
        )
        used = sum(token_count(call.name + call.arguments) for call in calls)
        return Generation(None, calls, "tool_calls", prompt_tokens, used)
    if isinstance(scripted, OutputItems):
        used = sum(token_count(str(item)) for item in scripted.items)
        return Generation("", (), "stop", prompt_tokens, used, items=scripted.items)
    if isinstance(scripted, Reply):
        text, finish = scripted.text, scripted.finish_reason
    else:
        structured = structured_text(body) if reply_text is default_reply else None
        if structured is not None:
            text = structured
        else:
            text = reply_text(body) if callable(reply_text) else reply_text
        finish = "stop"
    return Generation(text, (), finish, prompt_tokens, token_count(text))
