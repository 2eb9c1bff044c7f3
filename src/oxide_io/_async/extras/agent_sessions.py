"""Agent sessions: `stream()`, one turn of an idle session followed to its end, and
`create(stream=True, output_type=..., tool_handlers=...)`, the first turn of a new one.

See `oxide_io._async._agent_stream`. `create()` is generated; its arguments the API
never sees (`output_type`, `tool_handlers`) come here, to `_around_create`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from oxide_proto.helpers._agent_tools import agent_with_output_type

from ..._options import NOT_GIVEN, NotGiven
from .._agent_stream import AsyncAgentSessionEventStream, AsyncAgentSessionStream
from .._resource import AsyncResource
from .._sse_stream import AsyncStream

if TYPE_CHECKING:
    from .._resource import Headers, TimeoutArg

__all__ = ["AsyncAgentSessionEventStream", "AsyncBetaAgentsSessionsExtras", "OutputT"]

OutputT = TypeVar("OutputT")


class AsyncBetaAgentsSessionsExtras(AsyncResource):
    def stream(
        self,
        session_id: str,
        *,
        input: str | Iterable[Mapping[str, Any]],
        output_type: type[OutputT] | None = None,
        tool_handlers: Mapping[str, Any] | None = None,
        on_tool_error: Any = None,
        idempotency_key: str | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> AsyncAgentSessionStream[OutputT]:
        """`async with client.beta.agents.sessions.stream(session_id, input=...) as stream`.

        Submits `input` to the idle session and yields the events of the turn it
        starts; `tool_handlers` (`{name: function(arguments) -> output}`) answer
        function calls, `on_tool_error` hears their failures;
        `await stream.get_final_result()` returns the final answer (parsed into
        `output_type` when given).
        """
        return AsyncAgentSessionStream(
            self,
            session_id,
            input=input,
            output_type=output_type,
            tool_handlers=tool_handlers,
            on_tool_error=on_tool_error,
            idempotency_key=idempotency_key,
            extra_headers=extra_headers,
            timeout=timeout,
        )

    def _around_create(
        self,
        body: dict[str, object],
        stream: bool,
        *,
        output_type: type[Any] | None,
        tool_handlers: Mapping[str, Any] | None,
        extra_headers: Headers | None,
        timeout: TimeoutArg,
    ) -> Callable[[Any], Any]:
        """Asks the agent for JSON of `output_type`, and makes a created stream an
        `AsyncAgentSessionEventStream` (a raw or streamed response stays as it is)."""
        if output_type is not None:
            agent = body.get("agent")
            given = None if isinstance(agent, NotGiven) else agent
            body["agent"] = agent_with_output_type(given, output_type)  # type: ignore[arg-type]
        if tool_handlers is not None and not stream:
            raise ValueError("tool_handlers requires stream=True")

        def finish(result: Any) -> Any:
            if not isinstance(result, AsyncStream):
                return result
            return AsyncAgentSessionEventStream(
                result,
                self,
                output_type=output_type,
                tool_handlers=tool_handlers,
                extra_headers=extra_headers,
                timeout=timeout,
            )

        return finish
