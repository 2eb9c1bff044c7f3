"""Chat Completions stream helper: chunks in, higher-level events and the whole completion out.

`ChatCompletionAccumulator.handle_chunk()` takes each decoded
`ChatCompletionChunk`, from any source, and returns the events the official
SDK's `chat.completions.stream()` yields for it, with its names and fields:
`ChunkEvent`, `ContentDeltaEvent` / `ContentDoneEvent`, `RefusalDeltaEvent` /
`RefusalDoneEvent`, `FunctionToolCallArgumentsDeltaEvent` /
`FunctionToolCallArgumentsDoneEvent`, the logprobs events, in the SDK's order;
then a `ChoiceDoneEvent` with the finish reason (not in the SDK). Every
per-choice event names its `choice_index`, so `n > 1` choices stay apart.

A tool call's done event (with its parsed arguments) comes as soon as the call
is complete — when the next call starts or the choice finishes — so an agent can
start the tool while the model is still writing the next call.

`get_final_completion()` rebuilds the `ChatCompletion` the API would have
returned without streaming, through the same `parse_chat_completion()` the
non-streamed path uses. Messages get `annotations: []` unless annotation deltas
arrived, as non-streamed replies carry that key.

Per chunk the work is a few attribute updates and one string concatenation per
delta; partial JSON (for `parsed` on content deltas and `parsed_arguments` on
tool deltas) is parsed incrementally, and only when there is a type to parse to.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Generic, Literal, TypeAlias, TypeVar

from ..api._decode import decode
from ..base._errors import InvalidJSONError
from ..base._record import frozen
from ..types.chat import (
    ChatCompletion,
    ChatCompletionChoice,
    ChatCompletionChoiceLogprobs,
    ChatCompletionChunk,
    ChatCompletionChunkChoice,
    ChatCompletionMessage,
    ChatCompletionMessageAnnotation,
    ChatCompletionMessageFunctionCall,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageFunctionToolCallFunction,
    ChatCompletionTokenLogprob,
)
from ._chat_parsed import (
    ParsedChatCompletion,
    ParsedChatCompletionMessage,
    ParsedChoice,
    ParsedFunction,
    ParsedFunctionToolCall,
    check_finish_reason,
    has_parseable_input,
    is_parseable_tool,
    parse_chat_completion,
    parse_tool_arguments,
    tools_by_name,
)
from ._partial_json import PartialJSONParser
from ._schema import parse_into

__all__ = [
    "ChatCompletionAccumulator",
    "ChatCompletionStreamEvent",
    "ChunkEvent",
    "ContentDeltaEvent",
    "ContentDoneEvent",
    "RefusalDeltaEvent",
    "RefusalDoneEvent",
    "FunctionToolCallArgumentsDeltaEvent",
    "FunctionToolCallArgumentsDoneEvent",
    "LogprobsContentDeltaEvent",
    "LogprobsContentDoneEvent",
    "LogprobsRefusalDeltaEvent",
    "LogprobsRefusalDoneEvent",
    "ChoiceDoneEvent",
]

_T = TypeVar("_T")


@frozen
class ChunkEvent:
    """Every chunk, with the completion accumulated so far (updated in place)."""

    type: ClassVar[Literal["chunk"]] = "chunk"
    chunk: ChatCompletionChunk
    snapshot: ParsedChatCompletion[object]


@frozen
class ContentDeltaEvent:
    """New content; `snapshot` is all of it so far, `parsed` its partial JSON value
    (only when a `response_format` type was given)."""

    type: ClassVar[Literal["content.delta"]] = "content.delta"
    delta: str
    snapshot: str
    parsed: object = None
    choice_index: int = 0


@frozen
class ContentDoneEvent(Generic[_T]):
    """The content is complete; `parsed` is it as the `response_format` type."""

    type: ClassVar[Literal["content.done"]] = "content.done"
    content: str
    parsed: _T | None = None
    choice_index: int = 0


@frozen
class RefusalDeltaEvent:
    type: ClassVar[Literal["refusal.delta"]] = "refusal.delta"
    delta: str
    snapshot: str
    choice_index: int = 0


@frozen
class RefusalDoneEvent:
    type: ClassVar[Literal["refusal.done"]] = "refusal.done"
    refusal: str
    choice_index: int = 0


@frozen
class FunctionToolCallArgumentsDeltaEvent:
    """More arguments for tool call `index`; `arguments` is all of them so far and
    `parsed_arguments` their partial JSON value (for typed or strict tools)."""

    type: ClassVar[Literal["tool_calls.function.arguments.delta"]] = (
        "tool_calls.function.arguments.delta"
    )
    name: str
    index: int
    arguments: str
    parsed_arguments: object
    arguments_delta: str
    choice_index: int = 0


@frozen
class FunctionToolCallArgumentsDoneEvent:
    """Tool call `index` is complete: run it. `parsed_arguments` is typed for a
    `TypedTool`, plain JSON for a strict tool, else None."""

    type: ClassVar[Literal["tool_calls.function.arguments.done"]] = (
        "tool_calls.function.arguments.done"
    )
    name: str
    index: int
    arguments: str
    parsed_arguments: object
    call_id: str | None = None
    choice_index: int = 0


@frozen
class LogprobsContentDeltaEvent:
    type: ClassVar[Literal["logprobs.content.delta"]] = "logprobs.content.delta"
    content: list[ChatCompletionTokenLogprob]
    snapshot: list[ChatCompletionTokenLogprob]
    choice_index: int = 0


@frozen
class LogprobsContentDoneEvent:
    type: ClassVar[Literal["logprobs.content.done"]] = "logprobs.content.done"
    content: list[ChatCompletionTokenLogprob]
    choice_index: int = 0


@frozen
class LogprobsRefusalDeltaEvent:
    type: ClassVar[Literal["logprobs.refusal.delta"]] = "logprobs.refusal.delta"
    refusal: list[ChatCompletionTokenLogprob]
    snapshot: list[ChatCompletionTokenLogprob]
    choice_index: int = 0


@frozen
class LogprobsRefusalDoneEvent:
    type: ClassVar[Literal["logprobs.refusal.done"]] = "logprobs.refusal.done"
    refusal: list[ChatCompletionTokenLogprob]
    choice_index: int = 0


@frozen
class ChoiceDoneEvent:
    """Choice `choice_index` finished, for `finish_reason`; its done events came before."""

    type: ClassVar[Literal["choice.done"]] = "choice.done"
    finish_reason: str
    choice_index: int = 0


ChatCompletionStreamEvent: TypeAlias = (
    ChunkEvent
    | ContentDeltaEvent
    | ContentDoneEvent[Any]
    | RefusalDeltaEvent
    | RefusalDoneEvent
    | FunctionToolCallArgumentsDeltaEvent
    | FunctionToolCallArgumentsDoneEvent
    | LogprobsContentDeltaEvent
    | LogprobsContentDoneEvent
    | LogprobsRefusalDeltaEvent
    | LogprobsRefusalDoneEvent
    | ChoiceDoneEvent
)


class _Call:
    """One tool call of a choice being streamed."""

    __slots__ = ("call", "parser", "tool")

    def __init__(self, call: ParsedFunctionToolCall, tool: Mapping[str, Any] | None) -> None:
        self.call = call
        self.tool = tool
        self.parser = PartialJSONParser() if is_parseable_tool(tool) else None


class _Choice:
    """What one choice has accumulated, and which done events it has sent."""

    __slots__ = (
        "annotations",
        "calls",
        "choice",
        "content_done",
        "current_call",
        "done_calls",
        "finished",
        "logprobs_content_done",
        "logprobs_refusal_done",
        "message",
        "parser",
        "refusal_done",
    )

    def __init__(self, choice: ParsedChoice[object], partial: bool) -> None:
        self.choice = choice
        self.message = choice.message
        self.parser = PartialJSONParser() if partial else None
        self.calls: dict[int, _Call] = {}
        self.current_call: int | None = None
        self.done_calls: set[int] = set()
        self.content_done = self.refusal_done = False
        self.logprobs_content_done = self.logprobs_refusal_done = False
        self.finished = False
        self.annotations: list[Any] | None = None


class ChatCompletionAccumulator(Generic[_T]):
    """Accumulates a chat completion stream; see the module notes.

    `response_format` is the request's: a type (attrs, dataclass, TypedDict,
    pydantic) to parse the content into, or a plain dict (nothing parsed).
    `tools` are the request's tools; `TypedTool`s (from `function_tool()`) get
    typed `parsed_arguments`, strict function tools plain JSON.

    `handle_chunk()` raises `LengthFinishReasonError` /
    `ContentFilterFinishReasonError` when a choice is cut short and there is
    something to parse, and `InvalidToolArgumentsError` when a finished call's
    arguments do not parse (naming its index, id and name).
    """

    def __init__(
        self,
        *,
        response_format: type[_T] | Mapping[str, Any] | None = None,
        tools: Iterable[Mapping[str, Any]] | None = None,
    ) -> None:
        self._response_format = response_format
        self._rich = response_format if isinstance(response_format, type) else None
        self._tools_list = list(tools or ())
        self._tools = tools_by_name(self._tools_list)
        self._parseable = has_parseable_input(response_format, self._tools)
        self._snapshot: ParsedChatCompletion[object] | None = None
        self._choices: dict[int, _Choice] = {}

    @property
    def current_completion_snapshot(self) -> ParsedChatCompletion[object]:
        """The completion so far, updated in place by every chunk.

        While streaming, `message.parsed` holds the partial JSON value and a
        choice's `finish_reason` is None until it finishes.
        """
        if self._snapshot is None:
            raise LookupError("no chunk has been handled yet")
        return self._snapshot

    def handle_chunk(self, chunk: ChatCompletionChunk) -> list[ChatCompletionStreamEvent]:
        """Adds one chunk; returns the events it produces, in order."""
        if chunk.object != "chat.completion.chunk":
            # Azure's asynchronous content filter interleaves objects of its own.
            return []
        snapshot = self._snapshot
        if snapshot is None:
            snapshot = self._snapshot = ParsedChatCompletion(
                id=chunk.id,
                choices=[],
                created=chunk.created,
                model=chunk.model,
                object="chat.completion",
                service_tier=chunk.service_tier,
                system_fingerprint=chunk.system_fingerprint,
            )
        else:
            if chunk.system_fingerprint is not None:
                snapshot.system_fingerprint = chunk.system_fingerprint
            if chunk.service_tier is not None:
                snapshot.service_tier = chunk.service_tier
        if chunk.usage is not None:
            snapshot.usage = chunk.usage
        if chunk.moderation is not None:
            snapshot.moderation = chunk.moderation
        events: list[ChatCompletionStreamEvent] = [ChunkEvent(chunk, snapshot)]
        for choice in chunk.choices:
            self._choice(choice, events)
        return events

    def _new_choice(self, index: int) -> _Choice:
        snapshot = self.current_completion_snapshot
        message: ParsedChatCompletionMessage[object] = ParsedChatCompletionMessage(
            content=None, refusal=None, role="assistant"
        )
        choice: ParsedChoice[object] = ParsedChoice(
            finish_reason=None,  # type: ignore[arg-type]  # until it finishes
            index=index,
            message=message,
            logprobs=None,
        )
        snapshot.choices.append(choice)
        snapshot.choices.sort(key=lambda c: c.index)
        state = self._choices[index] = _Choice(choice, self._rich is not None)
        return state

    def _choice(self, chunk: ChatCompletionChunkChoice, events: list[Any]) -> None:
        index = chunk.index
        state = self._choices.get(index) or self._new_choice(index)
        message = state.message
        delta = chunk.delta
        if delta.role is not None:
            message.role = delta.role  # type: ignore[assignment]
        content = delta.content
        if content is not None:
            message.content = text = (
                content if message.content is None else message.content + content
            )
            parsed = None
            parser = state.parser
            if parser is not None and parser.error is None:
                # A parse error is reported, with its position, when the content is done.
                with contextlib.suppress(InvalidJSONError):
                    parser.feed(content)
                parsed = message.parsed = parser.value
            events.append(ContentDeltaEvent(content, text, parsed, index))
        refusal = delta.refusal
        if refusal is not None:
            message.refusal = text = (
                refusal if message.refusal is None else message.refusal + refusal
            )
            events.append(RefusalDeltaEvent(refusal, text, index))
        if delta.tool_calls:
            self._tool_deltas(state, chunk, events)
        if delta.function_call is not None:
            self._function_call(state, chunk)
        raw = delta._raw()
        annotations = raw.get("annotations") if raw is not None else None
        if annotations.__class__ is list:
            # Not in the generated ChoiceDelta type; the API sends them for web search.
            state.annotations = state.annotations or []
            state.annotations.extend(decode(list[ChatCompletionMessageAnnotation], annotations))
        logprobs = chunk.logprobs
        if logprobs is not None:
            self._logprobs(state, logprobs, events)
        if chunk.finish_reason is not None and not state.finished:
            state.choice.finish_reason = chunk.finish_reason
            if self._parseable:
                check_finish_reason(chunk.finish_reason, self._snapshot)
        if state.choice.finish_reason is not None:
            self._content_done(state, events)
            if state.current_call is not None:
                self._call_done(state, state.current_call, events)
        if delta.tool_calls:
            for call in delta.tool_calls:
                if call.index != state.current_call:
                    self._content_done(state, events)
                    if state.current_call is not None:
                        self._call_done(state, state.current_call, events)
                    state.current_call = call.index
        if state.choice.finish_reason is not None and not state.finished:
            state.finished = True
            events.append(ChoiceDoneEvent(state.choice.finish_reason, index))

    def _tool_deltas(
        self, state: _Choice, chunk: ChatCompletionChunkChoice, events: list[Any]
    ) -> None:
        message = state.message
        for delta in chunk.delta.tool_calls or ():
            function = delta.function
            piece = (function.arguments if function is not None else None) or ""
            entry = state.calls.get(delta.index)
            if entry is None:
                name = (function.name if function is not None else None) or ""
                call = ParsedFunctionToolCall(
                    id=delta.id or "",
                    type=delta.type or "function",
                    function=ParsedFunction(name=name, arguments=piece),
                )
                entry = state.calls[delta.index] = _Call(call, self._tools.get(name))
                calls = message.tool_calls
                if calls is None:
                    message.tool_calls = calls = []
                calls.append(call)
            else:
                call = entry.call
                if delta.id:
                    call.id += delta.id
                if function is not None and function.name:
                    # A name in pieces (no server does this today): look the tool up again.
                    call.function.name += function.name
                    entry = state.calls[delta.index] = _Call(
                        call, self._tools.get(call.function.name)
                    )
                    if entry.parser is not None:
                        entry.parser.feed(call.function.arguments)
                if piece:
                    call.function.arguments += piece
            parser = entry.parser
            if parser is not None and piece and parser.error is None:
                # A parse error is raised, naming the call, when the call is done.
                with contextlib.suppress(InvalidJSONError):
                    parser.feed(piece)
                call.function.parsed_arguments = parser.value
            events.append(
                FunctionToolCallArgumentsDeltaEvent(
                    call.function.name,
                    delta.index,
                    call.function.arguments,
                    call.function.parsed_arguments,
                    piece,
                    chunk.index,
                )
            )

    def _function_call(self, state: _Choice, chunk: ChatCompletionChunkChoice) -> None:
        # The deprecated single `function_call`: accumulated, no events (as in the SDK).
        delta = chunk.delta.function_call
        assert delta is not None
        current = state.message.function_call
        if current is None:
            state.message.function_call = ChatCompletionMessageFunctionCall(
                arguments=delta.arguments or "", name=delta.name or ""
            )
        else:
            current.arguments += delta.arguments or ""
            current.name += delta.name or ""

    def _logprobs(self, state: _Choice, logprobs: Any, events: list[Any]) -> None:
        snapshot = state.choice.logprobs
        if snapshot is None:
            snapshot = state.choice.logprobs = ChatCompletionChoiceLogprobs(
                content=None, refusal=None
            )
        if logprobs.content:
            if snapshot.content is None:
                snapshot.content = []
            snapshot.content.extend(logprobs.content)
            events.append(
                LogprobsContentDeltaEvent(logprobs.content, snapshot.content, state.choice.index)
            )
        if logprobs.refusal:
            if snapshot.refusal is None:
                snapshot.refusal = []
            snapshot.refusal.extend(logprobs.refusal)
            events.append(
                LogprobsRefusalDeltaEvent(logprobs.refusal, snapshot.refusal, state.choice.index)
            )

    def _content_done(self, state: _Choice, events: list[Any]) -> None:
        message = state.message
        index = state.choice.index
        if message.content and not state.content_done:
            state.content_done = True
            parsed = None
            if self._rich is not None and not message.refusal:
                parsed = parse_into(self._rich, message.content)
            message.parsed = parsed
            events.append(ContentDoneEvent(message.content, parsed, index))
        if message.refusal is not None and not state.refusal_done:
            state.refusal_done = True
            events.append(RefusalDoneEvent(message.refusal, index))
        logprobs = state.choice.logprobs
        if logprobs is not None:
            if logprobs.content is not None and not state.logprobs_content_done:
                state.logprobs_content_done = True
                events.append(LogprobsContentDoneEvent(logprobs.content, index))
            if logprobs.refusal is not None and not state.logprobs_refusal_done:
                state.logprobs_refusal_done = True
                events.append(LogprobsRefusalDoneEvent(logprobs.refusal, index))

    def _call_done(self, state: _Choice, index: int, events: list[Any]) -> None:
        if index in state.done_calls:
            return
        state.done_calls.add(index)
        entry = state.calls[index]
        function = entry.call.function
        parsed = parse_tool_arguments(
            entry.tool,
            index=index,
            call_id=entry.call.id,
            name=function.name,
            arguments=function.arguments,
        )
        function.parsed_arguments = parsed
        events.append(
            FunctionToolCallArgumentsDoneEvent(
                function.name, index, function.arguments, parsed, entry.call.id, state.choice.index
            )
        )

    def get_final_completion(self) -> ParsedChatCompletion[_T]:
        """The whole completion, as the non-streamed API would have returned it, parsed.

        Call it once the stream has ended; it does not check that every choice finished.
        """
        snapshot = self.current_completion_snapshot
        choices = []
        for choice in snapshot.choices:
            state = self._choices[choice.index]
            message = choice.message
            calls = None
            if message.tool_calls is not None:
                calls = [
                    ChatCompletionMessageFunctionToolCall(
                        id=call.id,
                        type=call.type,
                        function=ChatCompletionMessageFunctionToolCallFunction(
                            name=call.function.name, arguments=call.function.arguments
                        ),
                    )
                    for call in message.tool_calls
                    if isinstance(call, ParsedFunctionToolCall)
                ]
            plain_message = ChatCompletionMessage(
                content=message.content,
                refusal=message.refusal,
                role=message.role,
                tool_calls=calls,  # type: ignore[arg-type]
                annotations=state.annotations if state.annotations is not None else [],
                function_call=message.function_call,
                audio=message.audio,
            )
            choices.append(
                ChatCompletionChoice(
                    finish_reason=choice.finish_reason,
                    index=choice.index,
                    message=plain_message,
                    logprobs=choice.logprobs,
                )
            )
        completion = ChatCompletion(
            id=snapshot.id,
            choices=choices,
            created=snapshot.created,
            model=snapshot.model,
            object="chat.completion",
            metadata=snapshot.metadata,
            service_tier=snapshot.service_tier,
            system_fingerprint=snapshot.system_fingerprint,
            usage=snapshot.usage,
            moderation=snapshot.moderation,
        )
        return parse_chat_completion(
            completion, response_format=self._response_format, tools=self._tools_list
        )
