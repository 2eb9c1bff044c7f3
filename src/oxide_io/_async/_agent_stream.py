"""`beta.agents.sessions.stream()`: one turn of an idle session, streamed, its tool calls answered.

`async with client.beta.agents.sessions.stream(session_id, input=...) as stream`
checks that the session is idle, subscribes to its events, then submits the
input (subscribing first, so no event of the turn is missed); iterating yields
the events up to the one that ends the turn (`oxide_proto.helpers._agent_turn`
decides). Only one caller may submit input to the session meanwhile: the
input endpoint returns no turn id to tell writers apart. A stream that ends
before the turn does raises `RuntimeError`; closing does not cancel the turn.

A function call whose name is in `tool_handlers` is answered after its event is
yielded: the handler gets the arguments as a dict (an `AgentFunctionTool` checks
them against its argument class first), and what it returns goes back as the
call's result (a failure as "Tool handler failed.", never the
exception's text; `on_tool_error` hears the details). The input and each tool
result carry an idempotency key, kept across retries.

`get_final_result()` drains the turn and returns its `AgentTurnResult` (the
final assistant messages; `output_parsed` when `output_type` is given), or
raises `AgentTurnResultError` saying why there is none.

`sessions.create(stream=True, input=..., output_type=..., tool_handlers=...)`
returns an `AsyncAgentSessionEventStream`: the same following of the first turn
over the event stream the creating request answers with (no subscription, no
separate input), its tool calls answered and its result collected alike.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar

from oxide_proto import BadRequestError
from oxide_proto.helpers._agent_tools import AgentFunctionTool
from oxide_proto.helpers._agent_turn import (
    AgentOutputParseError,
    AgentToolError,
    AgentTurnCollector,
    AgentTurnResult,
    AgentTurnResultError,
    AgentTurnTracker,
    ToolErrorStage,
    agent_input_event,
    agent_tool_arguments,
    agent_tool_call,
    agent_tool_failed_event,
    agent_tool_result_event,
    is_pending_tool_call_race,
)

from .._options import NOT_GIVEN, NotGiven

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._resource import Headers, TimeoutArg
    from ._response import AsyncResponse
    from ._sse_stream import AsyncStream

__all__ = ["AsyncAgentSessionEventStream", "AsyncAgentSessionStream"]

OutputT = TypeVar("OutputT")

# Waits before sending a tool result again while the server has not registered the
# call yet (its item event can come first); then the 400 is raised.
_PENDING_CALL_RETRIES = (0.1, 0.3, 0.6)


def _input_key(idempotency_key: str | NotGiven, headers: Mapping[str, Any] | None) -> str:
    # An `Idempotency-Key` in extra_headers wins over the argument, as for any method.
    for key, value in (headers or {}).items():
        if key.lower() == "idempotency-key":
            return str(value)
    return str(uuid.uuid4()) if isinstance(idempotency_key, NotGiven) else idempotency_key


def _refuse_awaitable(output: Any) -> NoReturn:
    """A blocking stream got an awaitable from a tool handler: it cannot wait for it.
    The awaitable is closed (no "never awaited" warning) before the refusal."""
    close = getattr(output, "close", None)
    if callable(close):
        close()
    raise TypeError("a blocking client cannot await a coroutine tool handler: use the async client")


class _TurnFollower(Generic[OutputT]):
    """The first root turn read from an event stream: its tool calls answered, its
    result collected. Subclasses say where the events come from."""

    # Whether the events ending before the turn does is an error (a subscription
    # outlives the turn), or just the end (a creating request's answer).
    _end_is_error = True

    def __init__(
        self,
        sessions: Any,
        session_id: str | None,
        *,
        output_type: type[OutputT] | None,
        tool_handlers: Mapping[str, Any] | None,
        on_tool_error: Any,
        extra_headers: Headers | None,
        timeout: TimeoutArg,
    ) -> None:
        self._sessions = sessions
        self._session_id = session_id
        self._handlers = dict(tool_handlers or {})
        self._on_tool_error = on_tool_error
        # An input's key goes only to the input: each tool result gets its own.
        headers = {k: v for k, v in (extra_headers or {}).items() if k.lower() != "idempotency-key"}
        self._options: dict[str, Any] = {"extra_headers": headers or None, "timeout": timeout}
        self._output_type = output_type
        self._tracker = AgentTurnTracker()
        self._handled: set[tuple[str, str]] = set()
        self._collector: AgentTurnCollector | None = None
        self._started = False
        self._stream: Any = None
        self._events: AsyncIterator[Any] | None = None
        self._closed = False

    async def close(self) -> None:
        """Closes the event stream; the turn goes on on the server."""
        self._closed = True
        if self._stream is not None:
            await self._stream.aclose()

    # -- events -------------------------------------------------------------------

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Any:
        if self._closed:
            raise StopAsyncIteration
        if self._events is None:
            raise RuntimeError("use sessions.stream() in an `async with` block")
        return await self._events.__anext__()

    async def _iterate(self) -> AsyncIterator[Any]:
        async for event in self._stream:
            if not self._tracker.accept(event):
                continue
            self._started = True
            if self._session_id is None:
                # A created session is known by its events only.
                self._session_id = getattr(event, "session_id", None)
            if self._collector is not None:
                self._collector.accept(event)
            call = agent_tool_call(event, self._handlers, self._handled)
            yield event
            if call is not None:
                await self._answer(event.session_id, call)
            if self._tracker.terminal(event, self._session_id or ""):
                return
        if not self._closed and self._end_is_error:
            raise RuntimeError("the session's event stream ended before the turn did")

    async def until_done(self) -> None:
        """Reads the remaining events, answering the handled tool calls."""
        async for _ in self:
            pass

    # -- tool calls ---------------------------------------------------------------

    async def _answer(self, session_id: str, call: Any) -> None:
        stage: ToolErrorStage = "arguments"
        try:
            arguments = agent_tool_arguments(call)
            stage = "execution"
            handler = self._handlers[call.name]
            if isinstance(handler, AgentFunctionTool):

                def note(now: ToolErrorStage) -> None:
                    nonlocal stage
                    stage = now

                # An AgentFunctionTool tells its stages: a refused argument is "arguments".
                output = handler.run(arguments, note)
            else:
                output = handler(arguments)
            if inspect.isawaitable(output):
                # unasync: _refuse_awaitable(output)
                output = await output
            stage = "output"
            result = agent_tool_result_event(call, output)
        except Exception as error:
            result = agent_tool_failed_event(call)
            if self._on_tool_error is not None:
                report = AgentToolError(
                    error, call.name, session_id, call.turn_id, call.call_id, stage
                )
                try:
                    notified = self._on_tool_error(report)
                    if inspect.isawaitable(notified):
                        # unasync: raise TypeError("a coroutine observer needs the AsyncClient")
                        await notified
                except Exception:
                    pass  # an observer's failure changes neither the result nor the turn
        await self._submit(session_id, result)

    async def _submit(self, session_id: str, result: dict[str, Any]) -> None:
        key = str(uuid.uuid4())  # one key for the retries of this result
        for delay in (*_PENDING_CALL_RETRIES, None):
            try:
                await self._sessions.events.create(
                    session_id, events=[result], idempotency_key=key, **self._options
                )
                return
            except BadRequestError as error:
                if delay is None or not is_pending_tool_call_race(error.body, result["call_id"]):
                    raise
                await self._sessions._client._transport.backend.sleep(delay)

    # -- the result ---------------------------------------------------------------

    def _parse(self, result: AgentTurnResult[Any]) -> AgentTurnResult[Any]:
        return result if self._output_type is None else result.parse(self._output_type)

    def with_result_collection(self) -> Self:
        """Keeps the final messages while the events are read; call before reading."""
        self._collect()
        return self

    def _collect(self) -> AgentTurnCollector:
        if self._collector is None:
            if self._started:
                raise RuntimeError(
                    "call with_result_collection() before reading events, or "
                    "get_final_result() on a fresh stream"
                )
            self._collector = AgentTurnCollector(self._session_id, self._parse)
        return self._collector

    async def get_final_result(self) -> AgentTurnResult[OutputT]:
        """Reads the turn to its end (answering handled tool calls) and returns its result.

        Raises `AgentTurnResultError` when the turn failed, was cancelled, waits
        for an action no handler takes, or could not be followed to its end;
        `AgentOutputParseError` when its output does not parse into `output_type`.
        Closes the stream.
        """
        collector = self._collect()
        try:
            collector.check_outcome(self._handlers)
            if not collector.done:
                async for _ in self:
                    collector.check_outcome(self._handlers)
                    if collector.done:
                        break
            result: AgentTurnResult[OutputT] = collector.result()
            return result
        except (AgentTurnResultError, AgentOutputParseError):
            raise
        except Exception as error:
            if not collector.done:
                collector.cause = error
            raise collector.error("observation_failed") from error
        finally:
            await self.close()


class AsyncAgentSessionStream(_TurnFollower[OutputT]):
    """One turn of a hosted agent session; see the module docstring."""

    def __init__(
        self,
        sessions: Any,
        session_id: str,
        *,
        input: str | Iterable[Mapping[str, Any]],
        output_type: type[OutputT] | None = None,
        tool_handlers: Mapping[str, Any] | None = None,
        on_tool_error: Any = None,
        idempotency_key: str | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> None:
        if not session_id:
            raise ValueError(
                f"Expected a non-empty value for `session_id` but received {session_id!r}"
            )
        super().__init__(
            sessions,
            session_id,
            output_type=output_type,
            tool_handlers=tool_handlers,
            on_tool_error=on_tool_error,
            extra_headers=extra_headers,
            timeout=timeout,
        )
        self._input = agent_input_event(input)
        self._input_key = _input_key(idempotency_key, extra_headers)
        self._entered = False

    async def __aenter__(self) -> Self:
        if self._entered or self._closed:
            raise RuntimeError("a sessions.stream() can be entered once")
        self._entered = True
        assert self._session_id is not None  # checked by __init__
        session = await self._sessions.retrieve(self._session_id, **self._options)
        if session.status != "idle":
            raise ValueError(
                f"sessions.stream() needs an idle session; {self._session_id!r} is "
                f"{session.status!r} (follow it with sessions.events.stream())"
            )
        self._stream = await self._sessions.events.stream(self._session_id, **self._options)
        try:
            await self._sessions.events.create(
                self._session_id,
                events=[self._input],
                idempotency_key=self._input_key,
                **self._options,
            )
        except BaseException:
            await self.close()
            raise
        self._events = self._iterate()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class AsyncAgentSessionEventStream(_TurnFollower[OutputT]):
    """What `sessions.create(stream=True)` returns: the new session's events, its
    first turn's tool calls answered (after their event is yielded) and its result
    kept for `get_final_result()`. Iteration ends with the turn (the session idle
    after it, failed, or out of budget) or with the response."""

    _end_is_error = False

    def __init__(
        self,
        stream: AsyncStream[Any],
        sessions: Any,
        *,
        output_type: type[OutputT] | None = None,
        tool_handlers: Mapping[str, Any] | None = None,
        extra_headers: Headers | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> None:
        super().__init__(
            sessions,
            None,
            output_type=output_type,
            tool_handlers=tool_handlers,
            on_tool_error=None,
            extra_headers=extra_headers,
            timeout=timeout,
        )
        self._stream = self._created = stream
        self._events = self._iterate()

    @property
    def response(self) -> AsyncResponse:
        """The HTTP response the events are read from."""
        return self._created.response

    @property
    def request_id(self) -> str | None:
        return self._created.request_id

    # The blocking twin's `close()` is the method itself.
    # unasync: pass
    aclose = _TurnFollower.close

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
