"""Agent sessions: `stream()`, one turn of an idle session followed to its end.

See `oxide_io._async._agent_stream`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ..._options import NOT_GIVEN, NotGiven
from .._agent_stream import AsyncAgentSessionStream
from .._resource import AsyncResource

if TYPE_CHECKING:
    from .._resource import Headers, TimeoutArg

__all__ = ["AsyncBetaAgentsSessionsExtras"]

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
