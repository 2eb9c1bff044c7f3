"""Live: the session WebSockets beside the generated HTTP methods (create, sessions).

The arguments are the official SDK's (positionally too: `extra_query`,
`extra_headers`, `websocket_connection_options`, `on_reconnecting`, ...; see
`oxide_io._connect_args`), and oxide's WebSocket options as keywords.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from oxide_proto.sessions._live_socket import LIVE_PATH, live_fork_path, live_sideband_path

from ..._connect_args import DEFAULT_LIVE_QUEUE_SIZE, OwnWebSocketOptions, connect_options
from ..._options import NOT_GIVEN, NotGiven
from .._dispatch import AsyncDispatchingConnectionManager
from .._event_socket import AsyncEventSocket
from .._live import AsyncLiveConnection, AsyncLiveForkConnection, AsyncLiveSidebandConnection
from .._resource import AsyncResource

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from oxide_proto.websocket._reconnect import OnReconnecting

__all__ = ["AsyncLiveExtras", "AsyncLiveForksExtras", "AsyncLiveSidebandExtras"]


class AsyncLiveExtras(AsyncResource):
    def connect(
        self,
        extra_query: Mapping[str, object] | None = None,
        extra_headers: Mapping[str, str | None] | None = None,
        websocket_connection_options: Mapping[str, Any] | None = None,
        on_reconnecting: OnReconnecting | None = None,
        max_retries: int = 5,
        initial_delay: float = 0.5,
        max_delay: float = 8.0,
        max_queue_size: int = DEFAULT_LIVE_QUEUE_SIZE,
        **options: Unpack[OwnWebSocketOptions],
    ) -> AsyncDispatchingConnectionManager[AsyncLiveConnection]:
        """`async with client.live.connect() as conn`: a Live session's primary socket.

        Send `conn.session.start(session={"model": ..., ...})` first and wait for
        `session.started`; then audio (`conn.session.input_audio.append(audio=...)`
        or `conn.send_audio(pcm)`), context (`conn.session.instructions.append`,
        ...), decisions and responses. Read typed events with `async for` or
        `await conn.recv()`.
        """
        settings = connect_options(
            extra_query,
            extra_headers,
            websocket_connection_options,
            on_reconnecting,
            max_retries,
            initial_delay,
            max_delay,
            max_queue_size,
            options,
        )
        socket = AsyncEventSocket(self._client, LIVE_PATH, settings)
        return AsyncDispatchingConnectionManager(socket, AsyncLiveConnection)


class AsyncLiveForksExtras(AsyncResource):
    def connect(
        self,
        *,
        session_id: str,
        extra_query: Mapping[str, object] | None = None,
        extra_headers: Mapping[str, str | None] | None = None,
        websocket_connection_options: Mapping[str, Any] | None = None,
        on_reconnecting: OnReconnecting | None = None,
        max_retries: int = 5,
        initial_delay: float = 0.5,
        max_delay: float = 8.0,
        max_queue_size: int = DEFAULT_LIVE_QUEUE_SIZE,
        **options: Unpack[OwnWebSocketOptions],
    ) -> AsyncDispatchingConnectionManager[AsyncLiveForkConnection]:
        """`async with client.live.forks.connect(session_id=...) as conn`: fork a stored session.

        Send `conn.session.start(session={})` (an empty configuration keeps the
        stored one) and wait for `session.started`; then as `client.live.connect()`.
        """
        settings = connect_options(
            extra_query,
            extra_headers,
            websocket_connection_options,
            on_reconnecting,
            max_retries,
            initial_delay,
            max_delay,
            max_queue_size,
            options,
        )
        socket = AsyncEventSocket(self._client, live_fork_path(session_id), settings)
        return AsyncDispatchingConnectionManager(socket, AsyncLiveForkConnection)


class AsyncLiveSidebandExtras(AsyncResource):
    def connect(
        self,
        *,
        session_id: str,
        graceful_close: bool | NotGiven = NOT_GIVEN,
        extra_query: Mapping[str, object] | None = None,
        extra_headers: Mapping[str, str | None] | None = None,
        websocket_connection_options: Mapping[str, Any] | None = None,
        on_reconnecting: OnReconnecting | None = None,
        max_retries: int = 5,
        initial_delay: float = 0.5,
        max_delay: float = 8.0,
        max_queue_size: int = DEFAULT_LIVE_QUEUE_SIZE,
        **options: Unpack[OwnWebSocketOptions],
    ) -> AsyncDispatchingConnectionManager[AsyncLiveSidebandConnection]:
        """`async with client.live.sideband.connect(session_id=...) as conn`: a server sideband.

        Attaches to a running session (`/live/sessions/{id}/attach`): its events
        arrive here too, and the sideband may add context, run decisions, send
        DTMF to a SIP call (`conn.transport.dtmf.send(event="1")`) or close the
        session. `graceful_close` goes to the query as given.
        """
        settings = connect_options(
            extra_query,
            extra_headers,
            websocket_connection_options,
            on_reconnecting,
            max_retries,
            initial_delay,
            max_delay,
            max_queue_size,
            options,
        )
        query = {} if isinstance(graceful_close, NotGiven) else {"graceful_close": graceful_close}
        socket = AsyncEventSocket(self._client, live_sideband_path(session_id), settings, query)
        return AsyncDispatchingConnectionManager(socket, AsyncLiveSidebandConnection)
