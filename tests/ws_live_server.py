"""The Live and the Realtime translation WebSockets of the test server (`tests/ws_api_server.py`).

- `/v1/live/sessions` (primary) and `/v1/live/sessions/{id}/fork`: wait for
  `session.start` and answer `session.started` (a fork's session is the stored
  one's id); then each command is acknowledged with its server event
  (`session.updated`, `session.input_audio.muted`, `session.instructions.appended`,
  `decision.item.created`, ...). Appended input audio comes back as one
  `session.input_transcript.delta` per append (its byte count), a played
  fixture as `fixture.playing`, one `session.output_audio.delta` and
  `fixture.played`; `session.close` ends with `session.closed` and a normal close.
- `/v1/live/sessions/{id}/attach` (sideband): as a running session, without
  `session.start`; `transport.dtmf.send` is answered `transport.dtmf.sent`.
- `/v1/realtime/translations?model=…`: `session.created` on connect,
  `session.updated` for an update, a transcript and an audio delta per appended
  chunk (the audio echoed), `session.closed` and a normal close for `session.close`.

A command the server does not know is an `error` event carrying its
`client_event_id`; `test.close` closes with the event's `code`.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection

__all__ = ["live_session", "translation_session"]

Record = Callable[[dict[str, Any]], None]

# Commands answered by one event of this type, with no fields besides the ids.
_ACKS = {
    "session.input_audio.mute": "session.input_audio.muted",
    "session.input_audio.unmute": "session.input_audio.unmuted",
}
# Context commands, answered with their span in the session's timeline.
_CONTEXT = {
    "session.instructions.append": "session.instructions.appended",
    "session.thinking.append": "session.thinking.appended",
    "session.commentary.append": "session.commentary.appended",
}


async def live_session(connection: ServerConnection, path: str, record: Record) -> None:
    """A Live primary, fork or sideband socket, by `path`."""
    ids = itertools.count(1)
    parts = path.split("?")[0].rstrip("/").split("/")
    kind = parts[-1] if parts[-1] in ("fork", "attach") else "primary"
    session: dict[str, Any] = {
        "id": parts[-2] if kind != "primary" else "lsess_1",
        "model": "gpt-live",
        "status": "active",
    }
    started = kind == "attach"
    clock = 0

    async def send(event_type: str, received: dict[str, Any] | None = None, **fields: Any) -> None:
        event = {"type": event_type, "event_id": f"sevt_{next(ids)}", **fields}
        if received is not None and received.get("event_id") is not None:
            event["client_event_id"] = received["event_id"]
        await connection.send(json.dumps(event))

    async for message in connection:
        received = json.loads(message)
        record(received)
        command = received.get("type")
        if command == "test.close":
            await connection.close(received.get("code", 1012), "closing as asked")
            return
        if not started:
            if command == "session.start":
                session = {**session, **received.get("session", {})}
                started = True
                await send("session.started", received, session=session)
            else:
                error = {"type": "invalid_request_error", "code": "session_not_started"}
                await send("error", received, error={**error, "message": "start first"})
            continue
        if command == "session.update":
            session = {**session, **received.get("session", {})}
            await send("session.updated", received, session=session)
        elif command in _ACKS:
            await send(_ACKS[command], received)
        elif command in _CONTEXT:
            span = len(received.get("content", ""))
            await send(_CONTEXT[command], received, start_ms=clock, end_ms=clock + span)
            clock += span
        elif command == "session.input_audio.append" and kind != "attach":
            size = len(base64.b64decode(received["audio"]))
            await send(
                "session.input_transcript.delta",
                received,
                delta=f"{size} bytes",
                start_ms=clock,
                end_ms=clock + size,
            )
            clock += size
        elif command == "session.output_audio.fixture.play":
            await send("session.output_audio.fixture.playing", received)
            await connection.send(
                json.dumps({"type": "session.output_audio.delta", "delta": received["audio"]})
            )
            await send("session.output_audio.fixture.played", received)
        elif command == "decision.item.create":
            item = {"id": "ditem_1", **received.get("item", {})}
            await send("decision.item.created", received, item=item)
        elif command == "decision.item.delete":
            await send("decision.item.deleted", received, item_id=received["item_id"])
        elif command == "response.item.create":
            event = {"type": "response.input_item.added", "item": received["item"]}
            await send("response.event", received, event=event)
        elif command == "transport.dtmf.send" and kind == "attach":
            await send("transport.dtmf.sent", received, event=received["event"])
        elif command == "session.close":
            usage = {"seconds": clock / 1000}
            await send(
                "session.closed", received, reason="close_requested", session=session, usage=usage
            )
            await connection.close(1000, "session closed")
            return
        else:
            error = {
                "type": "invalid_request_error",
                "code": "unknown_event",
                "message": f"unknown event {command}",
            }
            await send("error", received, error=error)


async def translation_session(connection: ServerConnection, path: str, record: Record) -> None:
    """A Realtime translation socket."""
    ids = itertools.count(1)
    model = path.partition("model=")[2].partition("&")[0]

    async def send(event_type: str, **fields: Any) -> None:
        event = {"type": event_type, "event_id": f"tevt_{next(ids)}", **fields}
        await connection.send(json.dumps(event))

    session: dict[str, Any] = {"id": "tsess_1", "model": model, "type": "translation"}
    await send("session.created", session=session)
    async for message in connection:
        received = json.loads(message)
        record(received)
        command = received.get("type")
        if command == "session.update":
            session = {**session, **received.get("session", {})}
            await send("session.updated", session=session)
        elif command == "session.input_audio_buffer.append":
            size = len(base64.b64decode(received["audio"]))
            await send("session.output_transcript.delta", delta=f"{size} bytes")
            await send("session.output_audio.delta", delta=received["audio"])
        elif command == "session.close":
            await send("session.closed")
            await connection.close(1000, "session closed")
            return
        elif command == "test.close":
            await connection.close(received.get("code", 1012), "closing as asked")
            return
        else:
            error = {"type": "invalid_request_error", "message": f"unknown event {command}"}
            await send("error", error=error)
