# mypy: disable-error-code="no-any-return"
"""Agent session artifacts of one completed turn: `artifacts.for_result(result)`.

A hosted agent's turn publishes files as session artifacts. `for_result` scopes
the lookup to one turn: `content(path)` reads the artifact that turn published
at `path`, `download(path, to=...)` writes it to a local file and returns its
metadata. The artifact is found by listing the session's artifacts and
keeping the one of this turn and path: none, or more than one, is a
`ValueError`, never a guess.

`result` is what names a turn: the official SDK's `AgentTurnResult` (it has
`session_id` and `turn_id`), or a `Turn` (its `session_id` and `id`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..._options import NOT_GIVEN
from .._resource import AsyncResource

if TYPE_CHECKING:
    from oxide_proto.types.agents import SessionArtifact

    from .._binary_response import AsyncBinaryResponseContent
    from .._resource import Body, Headers, Query, TimeoutArg

__all__ = ["AsyncAgentResultArtifacts", "AsyncBetaAgentsSessionsArtifactsExtras"]


def turn_scope(result: object) -> tuple[str, str]:
    """The (session id, turn id) `result` names; a `TypeError` when it names none."""
    session_id = getattr(result, "session_id", None)
    turn_id = getattr(result, "turn_id", None)
    if turn_id is None:
        turn = getattr(result, "turn", result)
        session_id, turn_id = getattr(turn, "session_id", None), getattr(turn, "id", None)
    if not isinstance(session_id, str) or not isinstance(turn_id, str):
        raise TypeError(
            "for_result() takes a completed turn's result (with session_id and turn_id) "
            f"or a Turn, not {type(result).__name__}"
        )
    if not session_id or not turn_id:
        raise ValueError(f"the result names no turn (session {session_id!r}, turn {turn_id!r})")
    return session_id, turn_id


class AsyncAgentResultArtifacts:
    """The artifacts one completed turn published, by path."""

    def __init__(self, resource: Any, result: object) -> None:
        self._resource = resource
        self.session_id, self.turn_id = turn_scope(result)

    async def content(
        self,
        path: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> AsyncBinaryResponseContent:
        """The content of the artifact this turn published at `path`."""
        options = {
            "extra_headers": extra_headers,
            "extra_query": extra_query,
            "extra_body": extra_body,
            "timeout": timeout,
        }
        found = await self._find(path, options)
        return await self._resource.content(found.id, session_id=self.session_id, **options)

    async def download(
        self,
        path: str,
        *,
        to: str | os.PathLike[str],
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> SessionArtifact:
        """Writes the artifact this turn published at `path` to the file `to`, as it
        arrives; returns the artifact's metadata."""
        options = {
            "extra_headers": extra_headers,
            "extra_query": extra_query,
            "extra_body": extra_body,
            "timeout": timeout,
        }
        found = await self._find(path, options)
        streamed = self._resource.with_streaming_response.content(
            found.id, session_id=self.session_id, **options
        )
        async with streamed as response:
            await response.stream_to_file(to)
        return found

    async def _find(self, path: str, options: dict[str, Any]) -> SessionArtifact:
        found: SessionArtifact | None = None
        async for artifact in self._resource.list(self.session_id, **options):
            if (artifact.session_id, artifact.turn_id, artifact.path) != (
                self.session_id,
                self.turn_id,
                path,
            ):
                continue
            if found is not None:
                raise ValueError(
                    f"more than one artifact of turn {self.turn_id!r} has the path {path!r}"
                )
            found = artifact
        if found is None:
            raise ValueError(f"turn {self.turn_id!r} published no artifact at {path!r}")
        return found


class AsyncBetaAgentsSessionsArtifactsExtras(AsyncResource):
    def for_result(self, result: Any) -> AsyncAgentResultArtifacts:
        """The artifacts of the completed turn `result` names (see the module docstring)."""
        return AsyncAgentResultArtifacts(self, result)
