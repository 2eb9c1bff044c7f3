"""A Realtime translation session that ends cleanly and is never replayed.

`async with AsyncTranslationSession(client.realtime.translations, model=...) as conn`
opens one translation socket (`client.realtime.translations.connect`) with
reconnecting off, as the official SDK's `openai.lib.realtime_translation` does: an
audio chunk whose write failed may or may not have reached the server, so it is
never sent again on a new connection. `conn.send(event)` sends client events until
`session.close`; after that only `recv()` is useful, and it returns the remaining
translation up to the server's `session.closed`, which closes the connection.
Leaving the block closes the connection. The rules are the core's
(`oxide_proto.sessions._translation_session`); this driver sends and receives.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from oxide_proto.sessions._live_socket import TranslationServerEvent
from oxide_proto.sessions._translation_session import (
    TranslationInput,
    check_translation_target,
    ends_translation,
    translation_event_payload,
)

from ._live import AsyncTranslationConnection

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["AsyncTranslationSession", "AsyncTranslationSessionConnection"]


class AsyncTranslationSessionConnection:
    """The open translation connection of a session: `send`, `recv`, `close`.

    `send` refuses events after `session.close` (a second `session.close` is
    dropped) and after closing (`OpenAIError`); a send that fails closes the
    connection before its error is raised.
    """

    def __init__(self, connection: AsyncTranslationConnection) -> None:
        self._connection = connection
        self._input = TranslationInput()
        # Threads of a blocking client share a session: the check and the send it
        # admits go together, so nothing is sent after `session.close`.
        self._lock = connection._socket._transport.backend.state_lock()

    @property
    def connection(self) -> AsyncTranslationConnection:
        """oxide's translation connection underneath (its event builders, `send_audio`)."""
        return self._connection

    async def send(self, event: Mapping[str, Any] | Any) -> None:
        """Sends one client event: a dict with its `type`, or a model of the event."""
        payload = translation_event_payload(event)
        with self._lock:
            if not self._input.admit(payload):
                return
        try:
            await self._connection.send(payload)
        except BaseException as error:
            try:
                await self.close()
            except BaseException as closing:
                raise error from closing
            raise

    async def recv(self, *, timeout: float | None = None) -> TranslationServerEvent:
        """The next server event, waiting at most `timeout` seconds (None: no limit).

        `session.closed` is the last: the connection is closed when it arrives.
        """
        event = await self._connection.recv(timeout)
        if ends_translation(event):
            await self.close()
        return event

    async def close(self) -> None:
        """Closes the connection (the close handshake); no event is sent after."""
        with self._lock:
            self._input.close()
        await self._connection.close()


class AsyncTranslationSession:
    """`async with AsyncTranslationSession(client.realtime.translations, model=...) as conn`.

    Entered once; the connection's checks (`check_translation_target`) are made on
    entry, before connecting. `enter()` opens without the block.
    """

    def __init__(
        self,
        resource: Any,
        *,
        model: str,
        extra_query: Mapping[str, object] | None = None,
        extra_headers: Mapping[str, str | None] | None = None,
        websocket_connection_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._resource = resource
        self._model = model
        self._query = dict(extra_query or {})
        self._headers = dict(extra_headers or {})
        self._options = dict(websocket_connection_options or {})
        self._connection: AsyncTranslationSessionConnection | None = None
        self._entered = False

    async def __aenter__(self) -> AsyncTranslationSessionConnection:
        if self._entered:
            raise RuntimeError("a translation session can be entered once")
        self._entered = True
        options = self._resource._client._options
        check_translation_target(
            self._model,
            base_url=options.base_url,
            websocket_base_url=options.websocket_base_url,
            queries=(options.default_query, self._query),
            azure=options.azure is not None,
            provider=options.provider is not None,
        )
        manager = self._resource.connect(
            self._model,
            extra_query=self._query,
            extra_headers=self._headers,
            websocket_connection_options=self._options,
            reconnect=False,  # whatever the options say: a chunk is never replayed
        )
        self._connection = AsyncTranslationSessionConnection(await manager.enter())
        return self._connection

    enter = __aenter__

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._connection is None:
            return
        try:
            await self._connection.close()
        except BaseException as closing:
            if exc is not None:
                # The block's own error stays the one raised; the close's is its cause.
                raise exc.with_traceback(traceback) from closing
            raise

    def __repr__(self) -> str:
        state = "open" if self._connection is not None else "not entered"
        return f"<{type(self).__name__} model={self._model!r} {state}>"
