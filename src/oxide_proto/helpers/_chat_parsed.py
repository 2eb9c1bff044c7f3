"""Chat completions with their structured content and tool arguments parsed.

`parse_chat_completion()` is the one place a reply becomes typed: the
non-streamed `parse()` path calls it on the decoded `ChatCompletion`, and the
stream accumulator on the completion it rebuilt from chunks, so both give equal
`ParsedChatCompletion`s for the same content. The rules are the official SDK's:

- `message.parsed` is the content parsed into `response_format` when that is a
  type (a plain `response_format` dict asks for JSON but parses nothing);
- a tool call's `function.parsed_arguments` is its arguments parsed into the
  tool's type (a `TypedTool` from `function_tool()`), or as plain JSON for a
  `strict` function tool, else None;
- with anything to parse, a choice cut off by the token limit or the content
  filter raises `LengthFinishReasonError` / `ContentFilterFinishReasonError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from ..api._model import model_fields
from ..base._errors import (
    ContentFilterFinishReasonError,
    InvalidJSONError,
    InvalidToolArgumentsError,
    LengthFinishReasonError,
    OutputValidationError,
)
from ..types.chat import (
    ChatCompletion,
    ChatCompletionChoice,
    ChatCompletionMessage,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageFunctionToolCallFunction,
)
from ._schema import TypedTool, parse_into

__all__ = [
    "ParsedChatCompletion",
    "ParsedChoice",
    "ParsedChatCompletionMessage",
    "ParsedFunctionToolCall",
    "ParsedFunction",
    "parse_chat_completion",
]

_T = TypeVar("_T")


class ParsedFunction(ChatCompletionMessageFunctionToolCallFunction):
    """A called function, with `parsed_arguments` (None when the tool declares no type)."""

    __slots__ = ("parsed_arguments",)

    parsed_arguments: object

    def __init__(self, *, name: str, arguments: str, parsed_arguments: object = None) -> None:
        super().__init__(name=name, arguments=arguments)
        self.parsed_arguments = parsed_arguments


class ParsedFunctionToolCall(ChatCompletionMessageFunctionToolCall):
    """A function tool call whose `function` carries the parsed arguments."""

    __slots__ = ()

    function: ParsedFunction


class ParsedChatCompletionMessage(ChatCompletionMessage, Generic[_T]):
    """An assistant message with `parsed`: its content as the requested type, or None."""

    __slots__ = ("parsed",)

    parsed: _T | None

    def __init__(self, *, parsed: _T | None = None, **fields: Any) -> None:
        super().__init__(**fields)
        self.parsed = parsed


class ParsedChoice(ChatCompletionChoice, Generic[_T]):
    __slots__ = ()

    message: ParsedChatCompletionMessage[_T]


class ParsedChatCompletion(ChatCompletion, Generic[_T]):
    """A chat completion whose choices carry parsed content and tool arguments."""

    __slots__ = ()

    choices: list[ParsedChoice[_T]]  # type: ignore[assignment]


def _fields_of(obj: Any, cls: type) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in model_fields(cls)}


def tools_by_name(tools: Iterable[Mapping[str, Any]] | None) -> dict[str, Mapping[str, Any]]:
    """Function tools of a Chat Completions request, by function name."""
    found: dict[str, Mapping[str, Any]] = {}
    for tool in tools or ():
        function = tool.get("function") if tool.get("type") == "function" else None
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            found[function["name"]] = tool
    return found


def is_parseable_tool(tool: Mapping[str, Any] | None) -> bool:
    if tool is None:
        return False
    if isinstance(tool, TypedTool):
        return True
    function = tool.get("function")
    return isinstance(function, Mapping) and function.get("strict") is True


def parse_tool_arguments(
    tool: Mapping[str, Any] | None,
    *,
    index: int,
    call_id: str | None,
    name: str | None,
    arguments: str,
) -> object:
    """A call's arguments parsed for `tool`, or None when the tool declares nothing to parse."""
    if not is_parseable_tool(tool):
        return None
    assert tool is not None
    try:
        if isinstance(tool, TypedTool):
            return parse_into(tool.type, arguments)
        try:
            return json.loads(arguments)
        except json.JSONDecodeError as exc:
            raise InvalidJSONError(f"{exc.msg} at position {exc.pos}", position=exc.pos) from None
    except (InvalidJSONError, OutputValidationError) as exc:
        raise InvalidToolArgumentsError(
            f"arguments of tool call {index} ({call_id or 'no id'}, {name!r}) cannot be parsed: "
            f"{exc}",
            index=index,
            call_id=call_id,
            name=name,
            arguments=arguments,
        ) from exc


def has_parseable_input(response_format: object, tools: Mapping[str, Mapping[str, Any]]) -> bool:
    return isinstance(response_format, type) or any(map(is_parseable_tool, tools.values()))


def check_finish_reason(finish_reason: str | None, completion: object) -> None:
    if finish_reason == "length":
        raise LengthFinishReasonError(completion=completion)
    if finish_reason == "content_filter":
        raise ContentFilterFinishReasonError(completion=completion)


def parse_chat_completion(
    completion: ChatCompletion,
    *,
    response_format: type[_T] | Mapping[str, Any] | None = None,
    tools: Iterable[Mapping[str, Any]] | None = None,
) -> ParsedChatCompletion[_T]:
    """`completion` with `message.parsed` and tool calls' `parsed_arguments` filled in.

    Raises `LengthFinishReasonError` / `ContentFilterFinishReasonError` for a choice
    cut short when there is something to parse, `OutputValidationError` /
    `InvalidJSONError` for content that does not fit `response_format`, and
    `InvalidToolArgumentsError` naming the tool call whose arguments do not parse.
    """
    by_name = tools_by_name(tools)
    parseable = has_parseable_input(response_format, by_name)
    choices: list[ParsedChoice[_T]] = []
    for choice in completion.choices:
        if parseable:
            check_finish_reason(choice.finish_reason, completion)
        message = choice.message
        calls: list[Any] | None = None
        if message.tool_calls is not None:
            calls = []
            for index, call in enumerate(message.tool_calls):
                if call.type != "function":
                    calls.append(call)  # custom tools: nothing to parse
                    continue
                function = call.function
                parsed_arguments = parse_tool_arguments(
                    by_name.get(function.name),
                    index=index,
                    call_id=call.id,
                    name=function.name,
                    arguments=function.arguments,
                )
                calls.append(
                    ParsedFunctionToolCall(
                        id=call.id,
                        type=call.type,
                        function=ParsedFunction(
                            name=function.name,
                            arguments=function.arguments,
                            parsed_arguments=parsed_arguments,
                        ),
                    )
                )
        parsed: Any = None
        if isinstance(response_format, type) and message.content and not message.refusal:
            parsed = parse_into(response_format, message.content)
        fields = _fields_of(message, ChatCompletionMessage)
        fields["tool_calls"] = calls
        choice_fields = _fields_of(choice, ChatCompletionChoice)
        choice_fields["message"] = ParsedChatCompletionMessage(parsed=parsed, **fields)
        choices.append(ParsedChoice(**choice_fields))
    completion_fields = _fields_of(completion, ChatCompletion)
    completion_fields["choices"] = choices
    result: ParsedChatCompletion[_T] = ParsedChatCompletion(**completion_fields)
    result._request_id = completion._request_id
    return result
