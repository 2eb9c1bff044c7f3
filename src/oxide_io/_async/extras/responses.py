"""Responses: the API over one persistent WebSocket, beside the generated HTTP methods."""

from __future__ import annotations

from typing import Any

from .._event_socket import AsyncConnectionManager
from .._resource import AsyncResource
from .._responses_ws import (
    AsyncResponsesConnection,
    AsyncResponsesSession,
    connect_responses,
    responses_session,
)

__all__ = ["AsyncResponsesExtras"]


class AsyncResponsesExtras(AsyncResource):
    def connect(self, **options: Any) -> AsyncConnectionManager[AsyncResponsesConnection]:
        """`async with client.responses.connect() as conn`: `wss://…/v1/responses`.

        Send with `conn.response.create(...)` / `conn.response.steer(...)`; read
        typed events with `async for event in conn` or `await conn.recv()`.
        Options: `extra_query`, `extra_headers`, `timeout`, `reconnect`,
        `max_message_size`, `keepalive_interval`, `keepalive_timeout`.
        """
        return connect_responses(self._client, **options)

    def session(self, **options: Any) -> AsyncConnectionManager[AsyncResponsesSession]:
        """`async with client.responses.session() as s`: one request at a time on a WebSocket.

        `await s.send(model=..., input=...)` returns the finished `Response` (a
        failed, incomplete or errored one raises); `s.send_stream(...)` yields one
        response's events. Same options as `connect()`.
        """
        return responses_session(self._client, **options)
