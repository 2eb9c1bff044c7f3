"""The Realtime API over a WebSocket: `GET /v1/realtime` upgraded, for `realtime.connect()`.

One conversation per connection. Each `response.create` is answered as
`POST /v1/responses` would be for the conversation so far (the same app, reply,
key check and scripted failures; recorded as such a request with `http_version`
``"websocket"``); a request the app refuses becomes an `error` event.

- on connect: `session.created`;
- `session.update`: the session merged with the update, `session.updated`;
- `conversation.item.create`: `conversation.item.added`, `conversation.item.done`;
- `input_audio_buffer.append` / `.commit` / `.clear`: the buffer kept, committed
  (`input_audio_buffer.committed`, a user audio item) or `input_audio_buffer.cleared`;
- `response.create`: `response.created`, the output item and its content part,
  then for audio output `response.output_audio.delta` (PCM16 at 24 kHz: a quiet
  tone, 100 ms a word) with `response.output_audio_transcript.delta` (a word each)
  and their `.done`s, for text output `response.output_text.delta`/`.done`; then
  `response.content_part.done`, `response.output_item.done` and `response.done`
  (`completed`, with usage). The output modalities are the response's, else the
  session's (audio by default, as the API does).

Anything else is answered with an `error` event (`unknown_event`, or
`invalid_event` for text that is not a JSON event); the connection stays open.
The handshake itself is accepted whatever its key.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import math
import struct
from collections.abc import Mapping
from typing import Any

from wsproto.connection import Connection, ConnectionType
from wsproto.events import CloseConnection, Ping, TextMessage

from ._app import RecordedRequest
from ._websocket import Respond
from ._wire import dumps, new_id, pieces, token_count

__all__ = ["RealtimeConversation", "serve_realtime_websocket"]

_READ_SIZE = 65536
_RATE = 24_000
_SAMPLES_PER_WORD = _RATE // 10  # 100 ms of audio for each word


def _tone(samples: int, offset: int) -> bytes:
    """Little-endian PCM16 samples of a quiet 440 Hz tone."""
    return b"".join(
        struct.pack("<h", int(2000 * math.sin(2 * math.pi * 440 * (offset + i) / _RATE)))
        for i in range(samples)
    )


class RealtimeConversation:
    """The state of one Realtime connection and the events each client event gets."""

    def __init__(self, model: str, respond: Respond, headers: list[tuple[str, str]]) -> None:
        self._ids = itertools.count(1)
        self._respond_http = respond
        self._headers = headers
        self.session: dict[str, Any] = {
            "type": "realtime",
            "object": "realtime.session",
            "id": new_id("sess_"),
            "model": model,
            "output_modalities": ["audio"],
            "instructions": "",
            "tools": [],
            "tool_choice": "auto",
            "max_output_tokens": "inf",
        }
        self.items: list[dict[str, Any]] = []
        self._audio = bytearray()

    def event(self, kind: str, **fields: Any) -> str:
        return dumps({"type": kind, "event_id": f"event_{next(self._ids)}", **fields}).decode()

    def opened(self) -> list[str]:
        return [self.event("session.created", session=self.session)]

    def answer(self, message: str) -> list[str]:
        try:
            received = json.loads(message)
        except ValueError:
            received = None
        if not isinstance(received, dict) or not isinstance(received.get("type"), str):
            return [self._error("invalid_event", "Expected a JSON object with a `type`.")]
        kind = received["type"]
        if kind == "session.update":
            update = received.get("session")
            if isinstance(update, Mapping):
                self.session = {**self.session, **update, "type": "realtime"}
            return [self.event("session.updated", session=self.session)]
        if kind == "conversation.item.create":
            item = received.get("item")
            if not isinstance(item, Mapping):
                return [self._error("missing_required_parameter", "Missing `item`.", "item")]
            return self._add_item(dict(item))
        if kind == "input_audio_buffer.append":
            try:
                self._audio += base64.b64decode(str(received.get("audio", "")), validate=True)
            except ValueError:
                return [self._error("invalid_value", "`audio` is not base64.", "audio")]
            return []
        if kind == "input_audio_buffer.clear":
            self._audio.clear()
            return [self.event("input_audio_buffer.cleared")]
        if kind == "input_audio_buffer.commit":
            item = {"type": "message", "role": "user", "content": [{"type": "input_audio"}]}
            self._audio.clear()
            added = self._add_item(item)
            previous = self.items[-2]["id"] if len(self.items) > 1 else None
            committed = self.event(
                "input_audio_buffer.committed",
                item_id=self.items[-1]["id"],
                previous_item_id=previous,
            )
            return [committed, *added]
        if kind == "response.create":
            options = received.get("response")
            return self._respond(options if isinstance(options, Mapping) else {})
        return [self._error("unknown_event", f"Unknown event type: {kind!r}.")]

    def _error(self, code: str, message: str, param: str | None = None) -> str:
        error = {"type": "invalid_request_error", "code": code, "message": message}
        return self.event("error", error={**error, "param": param})

    def _add_item(self, item: dict[str, Any]) -> list[str]:
        previous = self.items[-1]["id"] if self.items else None
        item = {"id": new_id("item_"), "object": "realtime.item", "status": "completed", **item}
        self.items.append(item)
        return [
            self.event("conversation.item.added", previous_item_id=previous, item=item),
            self.event("conversation.item.done", previous_item_id=previous, item=item),
        ]

    def _respond(self, options: Mapping[str, Any]) -> list[str]:
        modalities = options.get("output_modalities") or self.session.get("output_modalities")
        audio = "audio" in (modalities or ["audio"])
        body = {
            "model": self.session["model"],
            "instructions": options.get("instructions") or self.session.get("instructions"),
            "input": [
                {"type": "message", "role": item.get("role"), "content": item.get("content")}
                for item in self.items
                if item.get("type") == "message"
            ],
        }
        request = RecordedRequest.parse(
            "POST", "/v1/responses", self._headers, dumps(body), "websocket"
        )
        answer, _plan = self._respond_http(request)
        try:
            created = json.loads(answer.body)
        except ValueError:
            created = None
        if answer.status != 200 or not isinstance(created, dict):
            error = created.get("error") if isinstance(created, dict) else None
            if not isinstance(error, dict):
                error = {"type": "server_error", "message": "The mock server failed."}
            return [self.event("error", error=error)]
        text = "".join(
            part.get("text", "")
            for item in created.get("output", [])
            if item.get("type") == "message"
            for part in item.get("content", [])
        )
        prompt_tokens = int(created.get("usage", {}).get("input_tokens", 0))
        response_id, item_id = new_id("resp_"), new_id("item_")
        response: dict[str, Any] = {
            "object": "realtime.response",
            "id": response_id,
            "status": "in_progress",
            "status_details": None,
            "output": [],
            "conversation_id": "conv_mock",
            "output_modalities": ["audio" if audio else "text"],
            "max_output_tokens": "inf",
            "metadata": None,
            "usage": None,
        }
        where = {"response_id": response_id, "item_id": item_id, "output_index": 0}
        # A content part event names its kind `audio`/`text`; the item's content
        # says `output_audio`/`output_text`.
        empty_part: dict[str, Any] = (
            {"type": "audio", "transcript": ""} if audio else {"type": "text", "text": ""}
        )
        item: dict[str, Any] = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        events = [
            self.event("response.created", response=response),
            self.event(
                "response.output_item.added", response_id=response_id, output_index=0, item=item
            ),
            self.event("response.content_part.added", **where, content_index=0, part=empty_part),
        ]
        words = pieces(text)
        if audio:
            offset = 0
            for word in words:
                chunk = _tone(_SAMPLES_PER_WORD, offset)
                offset += _SAMPLES_PER_WORD
                delta = base64.b64encode(chunk).decode("ascii")
                events.append(
                    self.event("response.output_audio.delta", **where, content_index=0, delta=delta)
                )
                events.append(
                    self.event(
                        "response.output_audio_transcript.delta",
                        **where,
                        content_index=0,
                        delta=word,
                    )
                )
            events.append(self.event("response.output_audio.done", **where, content_index=0))
            events.append(
                self.event(
                    "response.output_audio_transcript.done",
                    **where,
                    content_index=0,
                    transcript=text,
                )
            )
            part, content = (
                {"type": "audio", "transcript": text},
                {"type": "output_audio", "transcript": text},
            )
        else:
            for word in words:
                events.append(
                    self.event("response.output_text.delta", **where, content_index=0, delta=word)
                )
            events.append(
                self.event("response.output_text.done", **where, content_index=0, text=text)
            )
            part, content = {"type": "text", "text": text}, {"type": "output_text", "text": text}
        events.append(self.event("response.content_part.done", **where, content_index=0, part=part))
        done_item = {**item, "status": "completed", "content": [content]}
        self.items.append(done_item)
        events.append(
            self.event(
                "response.output_item.done", response_id=response_id, output_index=0, item=done_item
            )
        )
        output_tokens = token_count(text) if text else 0
        usage = {
            "total_tokens": prompt_tokens + output_tokens,
            "input_tokens": prompt_tokens,
            "output_tokens": output_tokens,
        }
        finished = {**response, "status": "completed", "output": [done_item], "usage": usage}
        events.append(self.event("response.done", response=finished))
        return events


async def serve_realtime_websocket(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    headers: list[tuple[str, str]],
    trailing: bytes,
    respond: Respond,
    model: str,
) -> None:
    """Hold one Realtime conversation until the client closes the WebSocket."""
    conn = Connection(ConnectionType.SERVER)
    if trailing:
        conn.receive_data(trailing)
    kept = [(name, value) for name, value in headers if not name.lower().startswith("sec-")]
    conversation = RealtimeConversation(model, respond, kept)
    for reply in conversation.opened():
        writer.write(conn.send(TextMessage(data=reply)))
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
                for reply in conversation.answer(message):
                    writer.write(conn.send(TextMessage(data=reply)))
        await writer.drain()
        data = await reader.read(_READ_SIZE)
        if not data:
            return
        conn.receive_data(data)
