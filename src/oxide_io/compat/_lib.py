"""The official SDK's helper names (`openai.lib...`) that have no oxide object of the same shape.

Most names of `openai.lib` are oxide's own objects under the official name (see
`_modules.EXTRA_MODULES`). These few adapt a signature: the stream states take
the official keywords (`input_tools=`, `response_format=`, `text_format=`) and
feed oxide's accumulators; the schema helpers accept what the official ones
accept (a pydantic `TypeAdapter` too) and build oxide's schemas; the tool
classes are the official dict shapes, still recognised by oxide's parsing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from oxide_proto.helpers._chat_accumulator import (
    ChatCompletionAccumulator,
    ChatCompletionStreamEvent,
)
from oxide_proto.helpers._chat_parsed import ParsedChatCompletion
from oxide_proto.helpers._chat_parsed import parse_chat_completion as _parse_chat_completion
from oxide_proto.helpers._responses_accumulator import ParsedResponse, ResponseStreamAccumulator
from oxide_proto.helpers._responses_accumulator import parse_response as _parse_response
from oxide_proto.helpers._schema import (
    TypedTool,
    response_format_for,
    strict_schema,
    text_format_for,
)
from oxide_proto.helpers._schema import to_strict_json_schema as _to_strict_json_schema
from oxide_proto.types.chat import ChatCompletion, ChatCompletionChunk
from oxide_proto.types.responses import Response

from .._options import NOT_GIVEN, NotGiven

__all__ = [
    "AssistantEventHandlerT",
    "AsyncAssistantEventHandlerT",
    "ChatCompletionStreamState",
    "PydanticFunctionTool",
    "ResponseFormatT",
    "ResponseStreamState",
    "ResponsesPydanticFunctionTool",
    "TextFormatT",
    "parse_chat_completion",
    "parse_response",
    "to_strict_json_schema",
    "type_to_response_format_param",
    "type_to_text_format_param",
]

ResponseFormatT = TypeVar("ResponseFormatT")
TextFormatT = TypeVar("TextFormatT")
AssistantEventHandlerT = TypeVar("AssistantEventHandlerT")
AsyncAssistantEventHandlerT = TypeVar("AsyncAssistantEventHandlerT")


def _given(value: object) -> bool:
    # The official "not given" markers (NOT_GIVEN, omit) are oxide's NotGiven.
    return value is not None and not isinstance(value, NotGiven)


def to_strict_json_schema(model: Any) -> dict[str, Any]:
    """The strict JSON schema of a model class (pydantic, attrs, dataclass, TypedDict)
    or of a pydantic `TypeAdapter`, as structured outputs send it."""
    if not isinstance(model, type) and callable(getattr(model, "json_schema", None)):
        return strict_schema(model.json_schema(), "TypeAdapter")
    return _to_strict_json_schema(model)


def type_to_response_format_param(response_format: Any) -> Any:
    """The Chat Completions `response_format` for a type; a dict, or not given, as it is."""
    if not _given(response_format) or isinstance(response_format, Mapping):
        return response_format
    if not isinstance(response_format, type):
        raise TypeError(f"response_format must be a type or a dict, not {response_format!r}")
    return response_format_for(response_format)


def type_to_text_format_param(type_: type) -> dict[str, Any]:
    """The Responses API `text.format` for a type."""
    if not isinstance(type_, type):
        raise TypeError(f"text_format must be a type, not {type_!r}")
    return text_format_for(type_)


def parse_chat_completion(
    *,
    response_format: Any,
    input_tools: Iterable[Mapping[str, Any]] | NotGiven | None,
    chat_completion: ChatCompletion,
) -> ParsedChatCompletion[Any]:
    """The completion with `message.parsed` and the tool calls' `parsed_arguments`."""
    return _parse_chat_completion(
        chat_completion,
        response_format=response_format if _given(response_format) else None,
        tools=_tools(input_tools),
    )


def parse_response(
    *,
    text_format: Any,
    input_tools: Iterable[Mapping[str, Any]] | NotGiven | None,
    response: Response,
) -> ParsedResponse[Any]:
    """The response with `output_parsed` and the function calls' `parsed_arguments`."""
    return _parse_response(
        response,
        text_format=text_format if isinstance(text_format, type) else None,
        tools=_tools(input_tools),
    )


class PydanticFunctionTool(dict[str, Any]):
    """The `function` of a Chat Completions tool whose arguments are `model`."""

    def __init__(self, definition: Mapping[str, Any], model: type) -> None:
        super().__init__(definition)
        self.model = model

    def cast(self) -> dict[str, Any]:
        return self


class ResponsesPydanticFunctionTool(TypedTool):
    """A Responses API function tool whose arguments are `model`."""

    def __init__(self, tool: Mapping[str, Any], model: type) -> None:
        super().__init__(tool, model)

    @property
    def model(self) -> Any:
        return self.type

    def cast(self) -> dict[str, Any]:
        return self


def chat_tool(tool: TypedTool) -> TypedTool:
    """oxide's typed Chat Completions tool with its `function` as `PydanticFunctionTool`."""
    function = PydanticFunctionTool(tool["function"], tool.type)
    return TypedTool({**tool, "function": function}, tool.type)


def _tools(input_tools: object) -> list[Mapping[str, Any]] | None:
    if not _given(input_tools):
        return None
    if not isinstance(input_tools, Iterable):
        raise TypeError(f"input_tools must be an iterable of tools, not {input_tools!r}")
    return list(input_tools)


class ChatCompletionStreamState(Generic[ResponseFormatT]):
    """Accumulates chat completion chunks you read yourself into the final completion.

    `handle_chunk(chunk)` returns the chunk's stream events (content deltas with
    their snapshot, tool call arguments, ...); `get_final_completion()` gives the
    `ParsedChatCompletion` with `message.parsed` of `response_format`.
    """

    def __init__(
        self,
        *,
        input_tools: Iterable[Mapping[str, Any]] | NotGiven = NOT_GIVEN,
        response_format: type[ResponseFormatT] | Mapping[str, Any] | NotGiven = NOT_GIVEN,
    ) -> None:
        self._accumulator: ChatCompletionAccumulator[ResponseFormatT] = ChatCompletionAccumulator(
            response_format=response_format if _given(response_format) else None,  # type: ignore[arg-type]
            tools=_tools(input_tools),
        )

    def handle_chunk(
        self, chunk: ChatCompletionChunk | Mapping[str, Any]
    ) -> list[ChatCompletionStreamEvent]:
        if isinstance(chunk, Mapping):
            chunk = ChatCompletionChunk.from_dict(chunk)
        return self._accumulator.handle_chunk(chunk)

    @property
    def current_completion_snapshot(self) -> ParsedChatCompletion[object]:
        return self._accumulator.current_completion_snapshot

    def get_final_completion(self) -> ParsedChatCompletion[ResponseFormatT]:
        return self._accumulator.get_final_completion()


class ResponseStreamState(Generic[TextFormatT]):
    """Accumulates Responses stream events you read yourself into the final response."""

    def __init__(
        self,
        *,
        input_tools: Iterable[Mapping[str, Any]] | NotGiven,
        text_format: type[TextFormatT] | NotGiven,
    ) -> None:
        self._accumulator: ResponseStreamAccumulator[TextFormatT] = ResponseStreamAccumulator(
            text_format=text_format if isinstance(text_format, type) else None,
            tools=_tools(input_tools),
        )

    def handle_event(self, event: Any) -> list[Any]:
        return self._accumulator.handle_event(event)

    @property
    def current_snapshot(self) -> Any:
        return self._accumulator.current_snapshot

    def get_final_response(self) -> ParsedResponse[TextFormatT]:
        return self._accumulator.get_final_response()
