"""The Responses API over a WebSocket: `GET /v1/responses` upgraded, for `responses.connect()`.

Each `response.create` message is answered as `POST /v1/responses` with
`stream: true` would be — the same app, script and reply (structured outputs and
forced tool calls included) — its events sent as text messages, one event each.
A request the app refuses (401, 400, a scripted `Fail`) becomes an `error` event
carrying the API's error object and the status; the connection stays open.
Messages of other types are ignored. A `response.create` naming a `stream_id`
(a lane) has it echoed on every event of its reply. Every `response.create` is recorded as a
`POST /v1/responses` request with `http_version` ``"websocket"`` and the
handshake's headers. A scripted `Delay` holds the reply's first event as it
holds an HTTP response's head; stream faults (`CutStream`, `Stall`...) do not
apply here.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Callable

from wsproto.connection import Connection, ConnectionType
from wsproto.events import CloseConnection, Ping, TextMessage

from ._app import RecordedRequest
from ._behaviours import Plan
from ._wire import Answer, dumps

__all__ = ["accept_key", "serve_responses_websocket"]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3
_READ_SIZE = 65536
Respond = Callable[[RecordedRequest], tuple[Answer, Plan]]


def accept_key(key: str) -> str:
    """The `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key` (RFC 6455, 4.2.2)."""
    return base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()


def _event_data(event: bytes) -> str:
    """The JSON text of one encoded server-sent event (its `data:` line)."""
    for line in event.decode().splitlines():
        if line.startswith("data: "):
            return line[len("data: ") :]
    return ""


def _messages(answer: Answer) -> list[str]:
    if answer.events is not None:
        return [_event_data(event) for event in answer.events]
    try:
        error = json.loads(answer.body).get("error")
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, dict):
        error = {"type": "server_error", "message": answer.body.decode(errors="replace")}
    return [dumps({"type": "error", "status": answer.status, "error": error}).decode()]


async def serve_responses_websocket(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    headers: list[tuple[str, str]],
    trailing: bytes,
    respond: Respond,
) -> None:
    """Answer `response.create` messages until the client closes the WebSocket."""
    conn = Connection(ConnectionType.SERVER)
    if trailing:
        conn.receive_data(trailing)
    kept = [(name, value) for name, value in headers if not name.lower().startswith("sec-")]
    text = ""
    while True:
        for event in conn.events():
            if isinstance(event, CloseConnection):
                writer.write(conn.send(event.response()))
                await writer.drain()
                return
            if isinstance(event, Ping):
                writer.write(conn.send(event.response()))
            elif isinstance(event, TextMessage):
                text += event.data
                if not event.message_finished:
                    continue
                message, text = text, ""
                delay, replies = _answer(message, kept, respond)
                if delay:
                    await writer.drain()
                    await asyncio.sleep(delay)
                for reply in replies:
                    writer.write(conn.send(TextMessage(data=reply)))
        await writer.drain()
        data = await reader.read(_READ_SIZE)
        if not data:
            return
        conn.receive_data(data)


def _answer(
    message: str, headers: list[tuple[str, str]], respond: Respond
) -> tuple[float, list[str]]:
    """The seconds to wait first (a scripted `Delay`) and the messages of the reply."""
    try:
        event = json.loads(message)
    except ValueError:
        event = None
    if not isinstance(event, dict) or event.get("type") != "response.create":
        return 0.0, []
    # `stream_id` names the client's lane: not a parameter of the response, but
    # echoed on every event of its reply.
    stream_id = event.get("stream_id")
    params = {key: value for key, value in event.items() if key not in ("type", "stream_id")}
    params["stream"] = True
    request = RecordedRequest.parse("POST", "/v1/responses", headers, dumps(params), "websocket")
    answer, plan = respond(request)
    messages = _messages(answer)
    if isinstance(stream_id, str):
        messages = [_with_stream_id(message, stream_id) for message in messages]
    return (plan.delay.seconds if plan.delay else 0.0), messages


def _with_stream_id(message: str, stream_id: str) -> str:
    event = json.loads(message)
    event["stream_id"] = stream_id
    return dumps(event).decode()
