# mypy: disable-error-code="no-any-return"
"""Assistants runs: start one (or a thread and its run), then wait until it stops.

A run stops at `requires_action` (tool outputs are wanted), `completed`,
`failed`, `cancelled`, `expired` or `incomplete`. The create helpers take the
same keyword arguments as the `create` they call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..._options import NOT_GIVEN, NotGiven
from .._polling import poll_until
from .._resource import AsyncResource

if TYPE_CHECKING:
    from collections.abc import Mapping

    from oxide_proto.types.assistants import RunObject

    from .._resource import Body, Headers, Query, TimeoutArg

__all__ = ["AsyncBetaThreadsExtras", "AsyncBetaThreadsRunsExtras"]

_STOPPED = frozenset(
    {"requires_action", "cancelled", "completed", "failed", "expired", "incomplete"}
)


def _stopped(run: Any) -> bool:
    return run.status in _STOPPED


class AsyncBetaThreadsRunsExtras(AsyncResource):
    async def poll(
        self,
        run_id: str,
        *,
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
