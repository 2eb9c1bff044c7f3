"""The Realtime API over a WebSocket (`wss://…/v1/realtime?model=…`).

The spelling is the official SDK's `realtime.connect()`: client events are sent
through resource-style methods (`conn.session.update(...)`,
`conn.input_audio_buffer.append(audio=...)`, `conn.conversation.item.create(...)`,
`conn.response.create()`, ...) and the server's events arrive typed as the
OpenAPI spec's `RealtimeServerEvent` union (`UnknownModel` for types this package
does not know). An `error` event is an ordinary event here, because the session
stays usable after most errors; `collect_audio` turns one into `APIEventError`.

Audio travels as base64 in JSON: `send_audio(pcm)` encodes and cuts raw bytes
into `input_audio_buffer.append` events, and `collect_audio()` decodes the
deltas of one response back into bytes.

As in the SDK, `on_reconnecting=` turns reconnecting on, and the connection
takes handlers by event type (`on`, `off`, `once`, `dispatch_events()`).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from oxide_proto import ReconnectPolicy, UnknownModel, WebSocketConnectionClosedError, decode
from oxide_proto._record import frozen
from oxide_proto.types import RealtimeServerEvent as _RealtimeServerEvent

from .._event_handlers import EventHandlers
from .._options import NOT_GIVEN, NotGiven
from .._reconnecting import OnReconnecting
from .._timeout import Timeout
from ._dispatch import AsyncDispatchingConnectionManager, AsyncEventDispatcher
from ._event_socket import (
    AsyncEventSocket,
    event_error,
    parse_event_payload,
    socket_for,
)

if TYPE_CHECKING:
    from ._client import AsyncAPIClient

__all__ = [
    "AsyncRealtimeConnection",
    "RealtimeAudio",
    "RealtimeServerEvent",
    "connect_realtime",
]

RealtimeServerEvent = _RealtimeServerEvent | UnknownModel

# 24 kHz 16-bit mono PCM is 48,000 bytes a second: a chunk of half a second keeps
# each append event well under the API's per-event size limit.
DEFAULT_AUDIO_CHUNK = 24_000
# The GA and the beta names of the events that carry one response's output.
_AUDIO_DELTAS = frozenset({"response.output_audio.delta", "response.audio.delta"})
_TRANSCRIPT_DELTAS = frozenset(
    {"response.output_audio_transcript.delta", "response.audio_transcript.delta"}
)
_TEXT_DELTAS = frozenset({"response.output_text.delta", "response.text.delta"})


def connect_realtime(
    client: AsyncAPIClient,
    *,
    model: str | None = None,
    call_id: str | None = None,
    extra_query: Mapping[str, object] | None = None,
    extra_headers: Mapping[str, str | None] | None = None,
    timeout: float | Timeout | NotGiven | None = NOT_GIVEN,
    on_reconnecting: OnReconnecting | None = None,
    max_retries: int = 5,
    initial_delay: float = 0.5,
    max_delay: float = 8.0,
    reconnect: bool | ReconnectPolicy | None = None,
    max_message_size: int = 16 * 1024 * 1024,
    keepalive_interval: float | None = 20.0,
    keepalive_timeout: float = 20.0,
) -> AsyncDispatchingConnectionManager[AsyncRealtimeConnection]:
    """`async with connect_realtime(client, model=...) as conn`: a Realtime session.

    `model` starts a conversation, `call_id` joins an existing call. The URL and
    handshake headers are built as for `connect_responses`, under `/realtime`;
    the reconnecting and keepalive options are the same too. A reopened
    connection is a new Realtime session: the server's `session.created` says so.
    """
    query: dict[str, object] = {}
    if model is not None:
        query["model"] = model
    if call_id is not None:
        query["call_id"] = call_id
    socket = socket_for(
        client,
        "/realtime",
        query=query,
        timeout=timeout,
        reconnect=reconnect,
        on_reconnecting=on_reconnecting,
        max_retries=max_retries,
        initial_delay=initial_delay,
        max_delay=max_delay,
        extra_query=extra_query,
        extra_headers=extra_headers,
        max_message_size=max_message_size,
        keepalive_interval=keepalive_interval,
        keepalive_timeout=keepalive_timeout,
    )
    return AsyncDispatchingConnectionManager(socket, AsyncRealtimeConnection)


def parse_event(data: str | bytes) -> RealtimeServerEvent:
    """One server message as a typed event; `MalformedEventError` when it is not JSON."""
    # The spec's union, not the alias: its `type` tags pick the class, and a tag it
    # does not list decodes to UnknownModel.
    event: RealtimeServerEvent = decode(_RealtimeServerEvent, parse_event_payload(data))
    return event


@frozen
class RealtimeAudio:
    """One response's output, gathered by `collect_audio`: PCM bytes, transcript, text.

    `done` is the `response.done` event (with the response's status and usage).
    """

    audio: bytes
    transcript: str
    text: str
    done: Any


def _event(kind: str, event_id: str | None, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"type": kind}
    if event_id is not None:
        event["event_id"] = event_id
    event.update((key, value) for key, value in fields.items() if value is not None)
    return event


class _AsyncResource:
    def __init__(self, connection: AsyncRealtimeConnection) -> None:
        self._connection = connection


class AsyncRealtimeSessionResource(_AsyncResource):
    async def update(self, *, session: Mapping[str, Any], event_id: str | None = None) -> None:
        """Changes the session's configuration (`session.update`)."""
        await self._connection.send(_event("session.update", event_id, session=session))


class AsyncRealtimeResponseResource(_AsyncResource):
    async def create(
        self, *, response: Mapping[str, Any] | None = None, event_id: str | None = None
    ) -> None:
        """Asks the model for a response (`response.create`), optionally configured."""
        await self._connection.send(_event("response.create", event_id, response=response))

    async def cancel(self, *, response_id: str | None = None, event_id: str | None = None) -> None:
        """Cancels the response in progress, or the one named (`response.cancel`)."""
        await self._connection.send(_event("response.cancel", event_id, response_id=response_id))


class AsyncRealtimeInputAudioBufferResource(_AsyncResource):
    async def append(self, *, audio: str, event_id: str | None = None) -> None:
        """Appends base64-encoded audio to the input buffer (`input_audio_buffer.append`)."""
        await self._connection.send(_event("input_audio_buffer.append", event_id, audio=audio))

    async def commit(self, *, event_id: str | None = None) -> None:
        await self._connection.send(_event("input_audio_buffer.commit", event_id))

    async def clear(self, *, event_id: str | None = None) -> None:
        await self._connection.send(_event("input_audio_buffer.clear", event_id))


class AsyncRealtimeOutputAudioBufferResource(_AsyncResource):
    async def clear(self, *, event_id: str | None = None) -> None:
        await self._connection.send(_event("output_audio_buffer.clear", event_id))


class AsyncRealtimeConversationItemResource(_AsyncResource):
    async def create(
        self,
        *,
        item: Mapping[str, Any],
        previous_item_id: str | None = None,
        event_id: str | None = None,
    ) -> None:
        """Adds an item (message, function call output, ...) to the conversation."""
        await self._connection.send(
            _event(
                "conversation.item.create", event_id, item=item, previous_item_id=previous_item_id
            )
        )

    async def delete(self, *, item_id: str, event_id: str | None = None) -> None:
        await self._connection.send(_event("conversation.item.delete", event_id, item_id=item_id))

    async def retrieve(self, *, item_id: str, event_id: str | None = None) -> None:
        await self._connection.send(_event("conversation.item.retrieve", event_id, item_id=item_id))

    async def truncate(
        self, *, item_id: str, content_index: int, audio_end_ms: int, event_id: str | None = None
    ) -> None:
        """Cuts an assistant item's audio at `audio_end_ms` (what the user actually heard)."""
        await self._connection.send(
            _event(
                "conversation.item.truncate",
                event_id,
                item_id=item_id,
                content_index=content_index,
                audio_end_ms=audio_end_ms,
            )
        )


class AsyncRealtimeConversationResource(_AsyncResource):
    def __init__(self, connection: AsyncRealtimeConnection) -> None:
        super().__init__(connection)
        self.item = AsyncRealtimeConversationItemResource(connection)


class AsyncRealtimeConnection(AsyncEventDispatcher[RealtimeServerEvent]):
    """A live Realtime session: client events out, typed server events in.

    Read them with `async for`, `recv()`, or handlers (`on`, `dispatch_events()`).
    """

    def __init__(self, socket: AsyncEventSocket) -> None:
        self._socket = socket
        self._handlers: EventHandlers[RealtimeServerEvent] = EventHandlers()
        self.session = AsyncRealtimeSessionResource(self)
        self.response = AsyncRealtimeResponseResource(self)
        self.input_audio_buffer = AsyncRealtimeInputAudioBufferResource(self)
        self.output_audio_buffer = AsyncRealtimeOutputAudioBufferResource(self)
        self.conversation = AsyncRealtimeConversationResource(self)

    @property
    def url(self) -> str:
        return str(self._socket.url)

    async def send(self, event: Mapping[str, Any]) -> None:
        """Sends one client event (a dict with its `type`) as JSON."""
        await self._socket.send_json(event)

    async def send_raw(self, data: str) -> None:
        await self._socket.send_raw(data)

    async def recv(self, timeout: float | NotGiven | None = NOT_GIVEN) -> RealtimeServerEvent:
        """The next server event, waiting at most `timeout` (the read timeout by default)."""
        return parse_event(await self._socket.receive(timeout))

    async def recv_bytes(self, timeout: float | NotGiven | None = NOT_GIVEN) -> bytes:
        data = await self._socket.receive(timeout)
        return data.encode("utf-8") if isinstance(data, str) else data

    def parse_event(self, data: str | bytes) -> RealtimeServerEvent:
        return parse_event(data)

    def _decode(self, payload: dict[str, Any]) -> RealtimeServerEvent:
        event: RealtimeServerEvent = decode(_RealtimeServerEvent, payload)
        return event

    async def __aiter__(self) -> AsyncIterator[RealtimeServerEvent]:
        while True:
            try:
                event = await self.recv()
            except WebSocketConnectionClosedError as exc:
                if exc.code == 1000:
                    return
                raise
            yield event

    async def send_audio(
        self, pcm: bytes, *, chunk_size: int = DEFAULT_AUDIO_CHUNK, commit: bool = False
    ) -> None:
        """Appends raw audio bytes to the input buffer, base64-encoded, in chunks.

        `commit=True` commits the buffer afterwards (needed without server VAD).
        """
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, not {chunk_size}")
        view = memoryview(pcm)
        for start in range(0, len(view), chunk_size):
            chunk = base64.b64encode(view[start : start + chunk_size]).decode("ascii")
            await self.input_audio_buffer.append(audio=chunk)
        if commit:
            await self.input_audio_buffer.commit()

    async def collect_audio(self, timeout: float | NotGiven | None = NOT_GIVEN) -> RealtimeAudio:
        """Reads events up to the next `response.done`, gathering its audio and text.

        Audio deltas are base64-decoded and joined; transcript and text deltas are
        joined. Raises `APIEventError` on an `error` event, and the usual errors
        when the connection closes or nothing arrives within `timeout`.
        """
        audio: list[bytes] = []
        transcript: list[str] = []
        text: list[str] = []
        while True:
            payload = parse_event_payload(await self._socket.receive(timeout))
            kind = payload.get("type")
            if kind in _AUDIO_DELTAS:
                audio.append(base64.b64decode(payload.get("delta") or ""))
            elif kind in _TRANSCRIPT_DELTAS:
                transcript.append(str(payload.get("delta") or ""))
            elif kind in _TEXT_DELTAS:
                text.append(str(payload.get("delta") or ""))
            elif kind == "error":
                raise event_error(payload)
            elif kind == "response.done":
                done = decode(_RealtimeServerEvent, payload)
                return RealtimeAudio(b"".join(audio), "".join(transcript), "".join(text), done)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Closes with the WebSocket close handshake; waits at most a few seconds."""
        await self._socket.aclose(code, reason)

    async def __aenter__(self) -> AsyncRealtimeConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
