"""Realtime: the WebSocket session beside the generated HTTP methods (client secrets, calls)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._options import WebSocketConnectOptions
from .._dispatch import AsyncDispatchingConnectionManager
from .._realtime import AsyncRealtimeConnection, connect_realtime
from .._resource import AsyncResource

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["AsyncRealtimeExtras"]


class AsyncRealtimeExtras(AsyncResource):
    def connect(
        self, *, model: str | None = None, **options: Unpack[WebSocketConnectOptions]
    ) -> AsyncDispatchingConnectionManager[AsyncRealtimeConnection]:
        """`async with client.realtime.connect(model=...) as conn`: a Realtime session.

        Client events as methods (`conn.session.update(...)`,
        `conn.input_audio_buffer.append(audio=...)`, `conn.response.create()`, ...),
        typed server events by iteration or `await conn.recv()`;
        `conn.send_audio(pcm)` and `conn.collect_audio()` handle base64 for you.
        """
        return connect_realtime(self._client, model=model, **options)
