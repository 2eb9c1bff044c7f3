# mypy: disable-error-code="no-any-return"
"""Assistants runs: start one (or a thread and its run), then wait until it stops, or
stream it into an event handler (`stream()`, `submit_tool_outputs_stream()`, ...).

A run stops at `requires_action` (tool outputs are wanted), `completed`,
`failed`, `cancelled`, `expired` or `incomplete`. The create helpers take the
same keyword arguments as the `create` they call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..._options import NOT_GIVEN, NotGiven
from .._polling import poll_until
from .._resource import AsyncResource
from .._stream_helper_assistants import AsyncAssistantEventHandler, AsyncAssistantStreamManager

if TYPE_CHECKING:
    from collections.abc import Mapping

    from oxide_proto.types.assistants import RunObject

    from .._resource import Body, Headers, Query, TimeoutArg

__all__ = ["AsyncBetaThreadsExtras", "AsyncBetaThreadsRunsExtras"]

_H = TypeVar("_H", bound=AsyncAssistantEventHandler)

_STOPPED = frozenset(
    {"requires_action", "cancelled", "completed", "failed", "expired", "incomplete"}
)


def _handler(given: AsyncAssistantEventHandler | None) -> Any:
    # Typed Any: with no handler given, the stream's handler type is the plain one.
    return given if given is not None else AsyncAssistantEventHandler()


def _stopped(run: Any) -> bool:
    return run.status in _STOPPED


class AsyncBetaThreadsRunsExtras(AsyncResource):
    async def poll(
        self,
        run_id: str,
        thread_id: str,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
    ) -> RunObject:
        """Retrieves the run until it stops (see the module docstring) and returns it."""
        raw = self.with_raw_response
        return await poll_until(
            self,
            lambda headers: raw.retrieve(
                run_id,
                thread_id=thread_id,
                extra_headers=headers,
                extra_query=extra_query,
                extra_body=extra_body,
                timeout=timeout,
            ),
            _stopped,
            what=f"run {run_id!r}",
            poll_interval_ms=poll_interval_ms,
            extra_headers=extra_headers,
        )

    async def create_and_poll(
        self,
        *,
        thread_id: str,
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        **params: Any,
    ) -> RunObject:
        """Creates a run on `thread_id` (`assistant_id=...` and the other arguments of
        `create`), then `poll()`s until it stops."""
        resource: Any = self
        run = await resource.create(
            thread_id,
            **params,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        return await self.poll(
            run.id,
            thread_id=thread_id,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            poll_interval_ms=poll_interval_ms,
        )

    async def submit_tool_outputs_and_poll(
        self,
        *,
        tool_outputs: Sequence[Mapping[str, object]],
        run_id: str,
        thread_id: str,
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> RunObject:
        """Submits the outputs a `requires_action` run asked for, then `poll()`s again."""
        resource: Any = self
        run = await resource.submit_tool_outputs(
            run_id,
            thread_id=thread_id,
            tool_outputs=tool_outputs,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        return await self.poll(
            run.id,
            thread_id=thread_id,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            poll_interval_ms=poll_interval_ms,
        )

    def stream(
        self,
        *,
        thread_id: str,
        assistant_id: str,
        event_handler: _H | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        **params: Any,
    ) -> AsyncAssistantStreamManager[_H]:
        """Streams a new run on `thread_id` (the other arguments are `create`'s) into
        `event_handler` (a plain `AsyncAssistantEventHandler` by default); `async with`
        the result to start it."""
        resource: Any = self
        return AsyncAssistantStreamManager(
            lambda: resource.create(
                thread_id,
                assistant_id=assistant_id,
                stream=True,
                **params,
                extra_headers=extra_headers,
                extra_query=extra_query,
                extra_body=extra_body,
                timeout=timeout,
            ),
            _handler(event_handler),
        )

    # The former name of `stream()`, kept as the official SDK keeps it.
    create_and_stream = stream

    def submit_tool_outputs_stream(
        self,
        *,
        tool_outputs: Sequence[Mapping[str, object]],
        run_id: str,
        thread_id: str,
        event_handler: _H | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> AsyncAssistantStreamManager[_H]:
        """Submits the outputs a `requires_action` run asked for and streams the rest of
        the run into `event_handler`; `async with` the result to start it."""
        resource: Any = self
        return AsyncAssistantStreamManager(
            lambda: resource.submit_tool_outputs(
                run_id,
                thread_id=thread_id,
                tool_outputs=tool_outputs,
                stream=True,
                extra_headers=extra_headers,
                extra_query=extra_query,
                extra_body=extra_body,
                timeout=timeout,
            ),
            _handler(event_handler),
        )


class AsyncBetaThreadsExtras(AsyncResource):
    async def create_and_run_poll(
        self,
        *,
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        **params: Any,
    ) -> RunObject:
        """Creates a thread and a run on it (`assistant_id=...`, `thread=...` and the other
        arguments of `create_and_run`), then polls the run until it stops."""
        resource: Any = self
        run = await resource.create_and_run(
            **params,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        return await resource.runs.poll(
            run.id,
            thread_id=run.thread_id,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            poll_interval_ms=poll_interval_ms,
        )

    def create_and_run_stream(
        self,
        *,
        assistant_id: str,
        event_handler: _H | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        **params: Any,
    ) -> AsyncAssistantStreamManager[_H]:
        """Creates a thread and streams a run on it (the other arguments are
        `create_and_run`'s) into `event_handler`; `async with` the result to start it."""
        resource: Any = self
        return AsyncAssistantStreamManager(
            lambda: resource.create_and_run(
                assistant_id=assistant_id,
                stream=True,
                **params,
                extra_headers=extra_headers,
                extra_query=extra_query,
                extra_body=extra_body,
                timeout=timeout,
            ),
            _handler(event_handler),
        )
