"""Responses API stream helper: typed events in, richer events and the whole response out.

`ResponseStreamAccumulator.handle_event()` takes each decoded stream event
(`oxide_proto.decode_response_stream_event`, from any source; types this
package does not know arrive as `UnknownModel` and pass through unchanged) and
returns what the official SDK's `responses.stream()` yields for it:

- `response.output_text.delta` gains `snapshot`, the part's text so far;
- `response.output_text.done` gains `parsed`, the text as the `text_format` type;
- `response.function_call_arguments.delta` gains `snapshot`, the arguments so far;
- `response.function_call_arguments.done` gains `parsed_arguments` (typed for a
  `TypedTool`, plain JSON for a strict tool) as soon as the call is complete,
  so an agent can run it while the model goes on;
- `response.completed` carries the `ParsedResponse`.

Every other event is returned as it came. Each helper event is a subclass of
the raw event class, so code written against the raw events keeps working.

`get_final_response()` is the `response.completed` payload, parsed; when that
never arrived (a failed, incomplete or cut stream) it is rebuilt from the last
lifecycle event and the output items the stream delivered.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from ..api._decode import decode
from ..api._model import BaseModel, UnknownModel, model_fields
from ..base._errors import (
    InvalidJSONError,
    InvalidToolArgumentsError,
    OutputValidationError,
    RemoteProtocolError,
)
from ..base._types import ResponseInfo
from ..types import responses as rt
from ._schema import TypedTool, parse_into

__all__ = [
    "ResponseStreamAccumulator",
    "ParsedResponse",
    "ParsedResponseFunctionToolCall",
    "ResponseTextDeltaEvent",
    "ResponseTextDoneEvent",
    "ResponseFunctionCallArgumentsDeltaEvent",
    "ResponseFunctionCallArgumentsDoneEvent",
    "ResponseCompletedEvent",
    "parse_response",
    "decode_response_stream_event",
]

_T = TypeVar("_T")
_M = TypeVar("_M", bound=BaseModel)


def decode_response_stream_event(
    data: Mapping[str, object], *, response: ResponseInfo | None = None
) -> rt.ResponseStreamEvent | UnknownModel:
    """Decodes one Responses API stream event, dispatched on its `type`.

    An event type this package does not know becomes an `UnknownModel`.
    """
    event: rt.ResponseStreamEvent | UnknownModel = decode(
        rt.ResponseStreamEvent, data, response=response
    )
    return event


class ParsedResponseFunctionToolCall(rt.ResponseFunctionToolCall):
    """A function call output item with `parsed_arguments` (None when the tool has no type)."""

    __slots__ = ("parsed_arguments",)

    parsed_arguments: object

    def __init__(self, *, parsed_arguments: object = None, **fields: Any) -> None:
        super().__init__(**fields)
        self.parsed_arguments = parsed_arguments


class ParsedResponse(rt.Response, Generic[_T]):
    """A response with `output_parsed` (the first output text as the `text_format` type),
    as the official SDK offers it; `output_text` is `Response`'s own computed property."""

    __slots__ = ("output_parsed",)

    output_parsed: _T | None

    def __init__(self, *, output_parsed: _T | None = None, **fields: Any) -> None:
        super().__init__(**fields)
        self.output_parsed = output_parsed


class ResponseTextDeltaEvent(rt.ResponseTextDeltaEvent):
    __slots__ = ("snapshot",)
    snapshot: str


class ResponseTextDoneEvent(rt.ResponseTextDoneEvent, Generic[_T]):
    __slots__ = ("parsed",)
    parsed: _T | None


class ResponseFunctionCallArgumentsDeltaEvent(rt.ResponseFunctionCallArgumentsDeltaEvent):
    __slots__ = ("snapshot",)
    snapshot: str


class ResponseFunctionCallArgumentsDoneEvent(rt.ResponseFunctionCallArgumentsDoneEvent):
    __slots__ = ("parsed_arguments",)
    parsed_arguments: object


class ResponseCompletedEvent(rt.ResponseCompletedEvent, Generic[_T]):
    __slots__ = ()
    response: ParsedResponse[_T]


def _extend(cls: type[_M], raw: BaseModel, **extra: object) -> _M:
    """An instance of the helper subclass `cls` with `raw`'s fields, plus `extra`."""
    new = object.__new__(cls)
    for name in model_fields(type(raw)):
        setattr(new, name, getattr(raw, name))
    data = raw._raw()
    if data is not None:
        new._data = data
    for name, value in extra.items():
        setattr(new, name, value)
    return new


def _copy(item: _M) -> _M:
    """A private copy of a decoded object, for the snapshot to mutate."""
    data = item._raw()
    if data is None:
        data = item.to_dict()
    return decode(type(item), json.loads(json.dumps(data)))


def _tools_by_name(tools: Iterable[Mapping[str, Any]] | None) -> dict[str, Mapping[str, Any]]:
    return {
        tool["name"]: tool
        for tool in tools or ()
        if tool.get("type") == "function" and isinstance(tool.get("name"), str)
    }


def _parse_arguments(
    tool: Mapping[str, Any] | None, *, index: int, call_id: str | None, name: str, arguments: str
) -> object:
    if tool is None or not (isinstance(tool, TypedTool) or tool.get("strict") is True):
        return None
    try:
        if isinstance(tool, TypedTool):
            return parse_into(tool.type, arguments)
        try:
            return json.loads(arguments)
        except json.JSONDecodeError as exc:
            raise InvalidJSONError(f"{exc.msg} at position {exc.pos}", position=exc.pos) from None
    except (InvalidJSONError, OutputValidationError) as exc:
        raise InvalidToolArgumentsError(
            f"arguments of function call at output {index} ({call_id or 'no id'}, {name!r}) "
            f"cannot be parsed: {exc}",
            index=index,
            call_id=call_id,
            name=name,
            arguments=arguments,
        ) from exc


def parse_response(
    response: rt.Response,
    *,
    text_format: type[_T] | None = None,
    tools: Iterable[Mapping[str, Any]] | None = None,
) -> ParsedResponse[_T]:
    """`response` with function calls' `parsed_arguments` and `output_parsed`.

    Raises `InvalidToolArgumentsError` naming a call whose arguments do not parse,
    and `OutputValidationError` / `InvalidJSONError` for text that does not fit
    `text_format`.
    """
    by_name = _tools_by_name(tools)
    output: list[Any] = []
    parsed: Any = None
    for index, item in enumerate(response.output or ()):
        if type(item) is rt.ResponseFunctionToolCall:
            fields = {name: getattr(item, name) for name in model_fields(type(item))}
            fields["parsed_arguments"] = _parse_arguments(
                by_name.get(item.name),
                index=index,
                call_id=item.call_id,
                name=item.name,
                arguments=item.arguments,
            )
            output.append(ParsedResponseFunctionToolCall(**fields))
            continue
        if type(item) is rt.ResponseOutputMessage:
            for part in item.content or ():
                if (
                    type(part) is rt.OutputTextContent
                    or getattr(part, "type", None) == "output_text"
                ):
                    text = getattr(part, "text", None)
                    if isinstance(text, str) and text_format is not None and parsed is None:
                        parsed = parse_into(text_format, text)
        output.append(item)
    fields = {name: getattr(response, name) for name in model_fields(rt.Response)}
    fields["output"] = output
    result: ParsedResponse[_T] = ParsedResponse(output_parsed=parsed, **fields)
    result._request_id = response._request_id
    return result


class ResponseStreamAccumulator(Generic[_T]):
    """Accumulates a Responses API stream; see the module notes.

    `text_format` is the type to parse the output text into (or None);
    `tools` are the request's tools in the Responses form (`responses_function_tool()`
    gives typed ones). `handle_event()` raises `InvalidToolArgumentsError` when a
    completed call's arguments do not parse, and `RemoteProtocolError` for a
    content event whose output item never started.
    """

    def __init__(
        self,
        *,
        text_format: type[_T] | None = None,
        tools: Iterable[Mapping[str, Any]] | None = None,
    ) -> None:
        self._text_format = text_format
        self._tools_list = list(tools or ())
        self._tools = _tools_by_name(self._tools_list)
        self._response: rt.Response | None = None
        self._items: dict[int, Any] = {}
        self._completed: ParsedResponse[_T] | None = None

    @property
    def current_snapshot(self) -> rt.Response:
        """The response so far: the last lifecycle event's, with the output items streamed."""
        if self._response is None:
            raise LookupError("no response lifecycle event (response.created) has been handled")
        snapshot = _extend(rt.Response, self._response)
        snapshot.output = [self._items[i] for i in sorted(self._items)]
        return snapshot

    def _item(self, index: int, kind: type[_M]) -> _M:
        item = self._items.get(index)
        if item is None:
            raise RemoteProtocolError(
                f"a content event for output index {index} came before its output item"
            )
        if not isinstance(item, kind):
            raise RemoteProtocolError(
                f"output item {index} is {getattr(item, 'type', None)!r}, not {kind.__name__}"
            )
        return item

    def handle_event(self, event: rt.ResponseStreamEvent | UnknownModel) -> list[Any]:
        """Adds one event; returns the events to hand on (usually one)."""
        kind = type(event)
        if kind is rt.ResponseTextDeltaEvent:
            delta: Any = event
            parts = self._item(delta.output_index, rt.ResponseOutputMessage).content
            if not 0 <= delta.content_index < len(parts):
                raise RemoteProtocolError(
                    f"a text delta for content part {delta.content_index} of output "
                    f"{delta.output_index} came before the part (response.content_part.added)"
                )
            part = parts[delta.content_index]
            part.text = text = part.text + delta.delta
            return [_extend(ResponseTextDeltaEvent, event, snapshot=text)]
        if kind is rt.ResponseFunctionCallArgumentsDeltaEvent:
            delta = event
            call = self._item(delta.output_index, rt.ResponseFunctionToolCall)
            call.arguments = text = call.arguments + delta.delta
            return [_extend(ResponseFunctionCallArgumentsDeltaEvent, event, snapshot=text)]
        if kind is rt.ResponseOutputItemAddedEvent:
            added: Any = event
            self._items[added.output_index] = _copy(added.item)
        elif kind is rt.ResponseContentPartAddedEvent:
            part_event: Any = event
            message = self._item(part_event.output_index, rt.ResponseOutputMessage)
            message.content.append(_copy(part_event.part))
        elif kind is rt.ResponseTextDoneEvent:
            done: Any = event
            parsed = None
            if self._text_format is not None:
                parsed = parse_into(self._text_format, done.text)
            return [_extend(ResponseTextDoneEvent, event, parsed=parsed)]
        elif kind is rt.ResponseFunctionCallArgumentsDoneEvent:
            finished: Any = event
            call = self._item(finished.output_index, rt.ResponseFunctionToolCall)
            call.arguments = finished.arguments
            name = finished.name or call.name
            parsed_arguments = _parse_arguments(
                self._tools.get(name),
                index=finished.output_index,
                call_id=call.call_id,
                name=name,
                arguments=finished.arguments,
            )
            return [
                _extend(
                    ResponseFunctionCallArgumentsDoneEvent, event, parsed_arguments=parsed_arguments
                )
            ]
        elif kind is rt.ResponseOutputItemDoneEvent:
            item_done: Any = event
            self._items[item_done.output_index] = _copy(item_done.item)
        elif kind is rt.ResponseCompletedEvent:
            completed: Any = event
            response = completed.response
            if response.output is None:
                # Some servers leave the final output out: the streamed items are it.
                response = _extend(rt.Response, response)
                response.output = [self._items[i] for i in sorted(self._items)]
            self._response = response
            self._completed = parse_response(
                response, text_format=self._text_format, tools=self._tools_list
            )
            return [_extend(ResponseCompletedEvent, event, response=self._completed)]
        elif kind in _LIFECYCLE:
            self._response = event.response  # type: ignore[union-attr]
        return [event]

    def get_final_response(self) -> ParsedResponse[_T]:
        """The whole response, parsed: `response.completed`'s, else rebuilt from the events."""
        if self._completed is not None:
            return self._completed
        return parse_response(
            self.current_snapshot, text_format=self._text_format, tools=self._tools_list
        )


_LIFECYCLE = frozenset(
    {
        rt.ResponseCreatedEvent,
        rt.ResponseInProgressEvent,
        rt.ResponseQueuedEvent,
        rt.ResponseFailedEvent,
        rt.ResponseIncompleteEvent,
    }
)
