"""A Live session over a WebSocket: `GET /v1/live/sessions` upgraded, for `live.connect()`.

One session per connection, driven by the client's events:

- `session.start`: `session.started` with the session (`active`, the model and
  audio settings given);
- `session.input_audio.append` (base64 PCM16 at 24 kHz): the audio is listened
  to in 20 ms frames. Audible frames make an utterance; the first silent frame
  after one ends it, and the server then sends the user's transcript
  (`session.input_transcript.delta`, one word a 100 ms, timed in the session's
  audio) and the assistant's reply as `POST /v1/responses` would give it for that
  input (the same app and reply text; recorded as such a request with
  `http_version` ``"websocket"``): `session.output_transcript.delta` a word each,
  timed from the utterance's end. The mock cannot hear words, so the transcript
  says how long the user spoke ("(2.7 seconds of speech)");
- `session.close`: `session.closed` with reason `close_requested`, the session
  and its usage (the seconds of audio received); the client then closes.

Anything else is an `error` event (`unknown_event`, or `invalid_event` for text
that is not a JSON event, `session_not_started` before `session.start`); the
connection stays open.
"""

from __future__ import annotations

import array
import asyncio
import base64
import binascii
import itertools
import json
import sys
from collections.abc import Mapping
from typing import Any

from wsproto.connection import Connection, ConnectionType
from wsproto.events import CloseConnection, Ping, TextMessage

from ._app import RecordedRequest
from ._websocket import Respond
from ._wire import dumps, new_id

__all__ = ["LiveSession", "serve_live_websocket"]

_READ_SIZE = 65536
_RATE = 24_000
_FRAME_BYTES = _RATE * 2 // 50  # 20 ms of PCM16
_AUDIBLE = 300  # mean absolute sample value above which a frame is speech
_WORD_MS = 100


def _audible(frame: bytes) -> bool:
    samples = array.array("h")
    samples.frombytes(frame[: len(frame) - len(frame) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    return bool(samples) and sum(abs(s) for s in samples) / len(samples) > _AUDIBLE


class LiveSession:
    """The state of one Live connection and the events each client event gets."""

    def __init__(self, respond: Respond, headers: list[tuple[str, str]]) -> None:
        self._ids = itertools.count(1)
        self._respond_http = respond
        self._headers = headers
        self.session: dict[str, Any] | None = None
        self._pending = bytearray()  # audio not yet a whole frame
        self._heard_ms = 0  # audio received, in milliseconds
        self._speech_start: int | None = None  # where the current utterance began
        self.closed = False

    def event(self, kind: str, **fields: Any) -> str:
        return dumps({"type": kind, "event_id": f"event_{next(self._ids)}", **fields}).decode()

    def answer(self, message: str) -> list[str]:
        try:
            received = json.loads(message)
        except ValueError:
            received = None
        if not isinstance(received, dict) or not isinstance(received.get("type"), str):
            return [self._error("invalid_event", "Expected a JSON object with a `type`.")]
        kind = received["type"]
        if kind == "session.start":
            config = received.get("session")
            if not isinstance(config, Mapping) or not isinstance(config.get("model"), str):
                return [self._error("missing_required_parameter", "Missing `session.model`.")]
            self.session = {
                "id": new_id("live_"),
                "object": "live.session",
                "expires_at": 4_102_444_800,
                "status": "active",
                **{key: value for key, value in config.items() if key != "status"},
            }
            return [self.event("session.started", session=self.session)]
        if self.session is None:
            return [self._error("session_not_started", "Send `session.start` first.")]
        if kind == "session.input_audio.append":
            try:
                audio = base64.b64decode(str(received.get("audio", "")), validate=True)
            except (ValueError, binascii.Error):
                return [self._error("invalid_value", "`audio` is not base64.", "audio")]
            return self._listen(audio)
        if kind == "session.close":
            self.closed = True
            usage = {"seconds": self._heard_ms / 1000}
            return [
                self.event(
                    "session.closed", reason="close_requested", session=self.session, usage=usage
                )
            ]
        return [self._error("unknown_event", f"Unknown event type: {kind!r}.")]

    def _error(self, code: str, message: str, param: str | None = None) -> str:
        error = {"type": "invalid_request_error", "code": code, "message": message}
        return self.event("error", error={**error, "param": param})

    def _listen(self, audio: bytes) -> list[str]:
        self._pending += audio
        replies: list[str] = []
        while len(self._pending) >= _FRAME_BYTES:
            frame = bytes(self._pending[:_FRAME_BYTES])
            del self._pending[:_FRAME_BYTES]
            if _audible(frame):
                if self._speech_start is None:
                    self._speech_start = self._heard_ms
            elif self._speech_start is not None:
                replies += self._utterance(self._speech_start, self._heard_ms)
                self._speech_start = None
            self._heard_ms += 20
        return replies

    def _utterance(self, start: int, end: int) -> list[str]:
        heard = f"({(end - start) / 1000:.1f} seconds of speech)"
        events = self._words("session.input_transcript.delta", heard, start, end)
        assert self.session is not None
        body = {"model": self.session["model"], "input": heard}
        instructions = self.session.get("instructions")
        if isinstance(instructions, str):
            body["instructions"] = instructions
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
            return [*events, self.event("error", error=error)]
        text = "".join(
            part.get("text", "")
            for item in created.get("output", [])
            if item.get("type") == "message"
            for part in item.get("content", [])
        )
        spoken = _WORD_MS * max(1, len(text.split()))
        return events + self._words("session.output_transcript.delta", text, end, end + spoken)

    def _words(self, kind: str, text: str, start: int, end: int) -> list[str]:
        words = text.split(" ")
        step = max(1, (end - start) // max(1, len(words)))
        return [
            self.event(
                kind,
                delta=word if index == 0 else f" {word}",
                start_ms=start + index * step,
                end_ms=end if index == len(words) - 1 else start + (index + 1) * step,
            )
            for index, word in enumerate(words)
        ]


async def serve_live_websocket(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    headers: list[tuple[str, str]],
    trailing: bytes,
    respond: Respond,
) -> None:
    """Hold one Live session until the client closes the WebSocket."""
    conn = Connection(ConnectionType.SERVER)
    if trailing:
        conn.receive_data(trailing)
    kept = [(name, value) for name, value in headers if not name.lower().startswith("sec-")]
    session = LiveSession(respond, kept)
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
                for reply in session.answer(message):
                    writer.write(conn.send(TextMessage(data=reply)))
        await writer.drain()
        data = await reader.read(_READ_SIZE)
        if not data:
            return
        conn.receive_data(data)
