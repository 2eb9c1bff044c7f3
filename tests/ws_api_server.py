"""An OpenAI-shaped WebSocket server (the `websockets` package) for the io tests and benchmarks.

It speaks these protocols on 127.0.0.1, plain or TLS, from a thread of this process:

- `/v1/responses`: each `response.create` is answered with the events of one
  response. What the response is comes from the script: `server.script(...)`
  queues behaviours (`Text`, `ToolCall`, `ErrorEvent`, `Failed`, `Incomplete`,
  `CloseMid`, `Malformed`, `Stall`, `Oversize`, and, after a whole answer,
  `CloseWhenIdle` and `GoSilent`), one per `response.create`; with
  an empty script the server uses `default` (a text saying "echo: <input>" unless
  told otherwise). `delay` holds every answer.
- `/v1/realtime`: `session.created` on connect; `session.updated` echoes a
  `session.update`; appended audio is kept and `input_audio_buffer.commit`
  answered; `response.create` streams the committed audio back as
  `response.output_audio.delta` events, with a transcript, then `response.done`;
  `conversation.item.create` is echoed as `conversation.item.added`; a
  `test.close` event makes the server close with the event's `code`.
- `/v1/live/sessions` (and a session's `/fork` and `/attach`) and
  `/v1/realtime/translations`: see `tests/ws_live_server.py`.

Every connection's handshake headers, every message received and every
connection count are recorded for the tests to look at (`handshakes`,
`received`, `connections`). `run_ws_api()` starts and stops one.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import socket
import ssl
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

import attrs
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from tests.ws_live_server import live_session, translation_session

__all__ = [
    "CloseMid",
    "CloseWhenIdle",
    "GoSilent",
    "ErrorEvent",
    "Failed",
    "Incomplete",
    "Malformed",
    "Oversize",
    "Stall",
    "Text",
    "ToolCall",
    "WsApiServer",
    "run_ws_api",
]


@attrs.frozen
class Text:
    text: str | None = None  # None: "echo: <input>"
    deltas: int = 3


@attrs.frozen
class ToolCall:
    name: str = "get_weather"
    arguments: str = '{"city": "Paris"}'


@attrs.frozen
class ErrorEvent:
    code: str = "invalid_request_error"
    message: str = "something was wrong with the request"
    status: int = 400


@attrs.frozen
class Failed:
    message: str = "the model failed"


@attrs.frozen
class Incomplete:
    reason: str = "max_output_tokens"


@attrs.frozen
class CloseMid:
    """Close after `response.created` and one delta: with `code`, or (None) drop the TCP."""

    code: int | None = 1011


@attrs.frozen
class CloseWhenIdle:
    """Answer as `Text`, then `after` seconds later send `event` (if any) and close.

    With `code`, a Close frame; with None, the TCP connection is dropped.
    """

    code: int | None = 1001
    after: float = 0.05
    event: Any = None
    text: str | None = None


@attrs.frozen
class GoSilent:
    """Answer as `Text`, then read nothing (pings unanswered); drop the TCP after `seconds`."""

    seconds: float = 3.0
    text: str | None = None


@attrs.frozen
class Malformed:
    pass


@attrs.frozen
class Stall:
    pass


@attrs.frozen
class Oversize:
    size: int = 2 * 1024 * 1024


Behaviour = (
    Text
    | ToolCall
    | ErrorEvent
    | Failed
    | Incomplete
    | CloseMid
    | Malformed
    | Stall
    | Oversize
    | CloseWhenIdle
    | GoSilent
)


class WsApiServer:
    def __init__(
        self, tls: ssl.SSLContext | None = None, delay: float = 0.0, default: Behaviour = Text()
    ) -> None:
        self.tls = tls
        self.delay = delay
        self.default = default
        self.port = 0
        self.handshakes: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.received: list[dict[str, Any]] = []
        self.connections = 0
        self.idle_closes = 0  # CloseWhenIdle closes started (Close frame or drop)
        self._script: deque[Behaviour] = deque()
        self._later: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Future[None] | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}/v1"

    @property
    def websocket_base_url(self) -> str:
        scheme = "wss" if self.tls else "ws"
        return f"{scheme}://127.0.0.1:{self.port}/v1"

    def script(self, *behaviours: Behaviour) -> None:
        with self._lock:
            self._script.extend(behaviours)

    def clear(self) -> None:
        with self._lock:
            self._script.clear()
            self.handshakes.clear()
            self.paths.clear()
            self.received.clear()
            self.connections = 0
            self.idle_closes = 0

    def _next_behaviour(self) -> Behaviour:
        with self._lock:
            return self._script.popleft() if self._script else self.default

    # -- running ------------------------------------------------------------------

    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            asyncio.run(self._main(ready))

        self._thread = threading.Thread(target=run, name="ws-api-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the WebSocket API server did not start")

    def stop(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            loop.call_soon_threadsafe(lambda: stop.done() or stop.set_result(None))
        if self._thread is not None:
            self._thread.join(10)

    async def _main(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = self._loop.create_future()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        async with serve(self._handle, sock=sock, ssl=self.tls, max_size=None, ping_interval=None):
            ready.set()
            await self._stop

    async def _handle(self, connection: ServerConnection) -> None:
        request = connection.request
        assert request is not None
        # Several small messages go out per response: without TCP_NODELAY, Nagle's
        # algorithm holds each one until the client's delayed ACK (40 ms) arrives.
        raw = connection.transport.get_extra_info("socket")
        if raw is not None:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self.connections += 1
            self.handshakes.append({k.lower(): v for k, v in request.headers.raw_items()})
            self.paths.append(request.path)
        path = request.path.split("?")[0]
        try:
            if path.endswith("/responses"):
                await self._responses(connection)
            elif path.endswith("/realtime"):
                await self._realtime(connection)
            elif path.endswith("/realtime/translations"):
                await translation_session(connection, request.path, self._record)
            elif "/live/sessions" in path:
                await live_session(connection, request.path, self._record)
            else:
                await connection.close(4404, "no such endpoint")
        except ConnectionClosed:
            pass

    def _record(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.received.append(event)

    # -- Responses ----------------------------------------------------------------

    async def _responses(self, connection: ServerConnection) -> None:
        async for message in connection:
            event = json.loads(message)
            with self._lock:
                self.received.append(event)
            if event.get("type") != "response.create":
                continue
            if self.delay:
                await asyncio.sleep(self.delay)
            behaviour = self._next_behaviour()
            if not await self._respond(connection, event, behaviour):
                return

    async def _respond(
        self, connection: ServerConnection, request: dict[str, Any], behaviour: Behaviour
    ) -> bool:
        """Sends one response's events; False when the connection must end."""
        if isinstance(behaviour, (CloseWhenIdle, GoSilent)):
            await self._respond(connection, request, Text(behaviour.text))
            task = asyncio.create_task(self._when_idle(connection, behaviour))
            self._later.add(task)
            task.add_done_callback(self._later.discard)
            return True
        seq = itertools.count()
        response_id = f"resp_{next(self._ids)}"
        model = request.get("model", "gpt-test")

        def response(status: str, output: list[Any], **extra: Any) -> dict[str, Any]:
            return {
                "id": response_id,
                "object": "response",
                "created_at": 1700000000,
                "status": status,
                "model": model,
                "output": output,
                "previous_response_id": request.get("previous_response_id"),
                "error": None,
                "incomplete_details": None,
                "usage": {
                    "input_tokens": 5,
                    "output_tokens": 7,
                    "total_tokens": 12,
                    "input_tokens_details": {"cached_tokens": 0},
                    "output_tokens_details": {"reasoning_tokens": 0},
                },
                **extra,
            }

        async def send(kind: str, **fields: Any) -> None:
            await connection.send(
                json.dumps({"type": kind, "sequence_number": next(seq), **fields})
            )

        if isinstance(behaviour, ErrorEvent):
            await connection.send(
                json.dumps(
                    {
                        "type": "error",
                        "status": behaviour.status,
                        "error": {
                            "type": "invalid_request_error",
                            "code": behaviour.code,
                            "message": behaviour.message,
                            "param": None,
                        },
                    }
                )
            )
            return True
        await send("response.created", response=response("in_progress", []))
        if isinstance(behaviour, Stall):
            return True
        if isinstance(behaviour, Malformed):
            await connection.send('{"type": "response.output_text.delta", "delta": ')
            return True
        if isinstance(behaviour, Oversize):
            await send("response.output_text.delta", delta="x" * behaviour.size, item_id="msg_1")
            return True
        if isinstance(behaviour, CloseMid):
            await send("response.output_text.delta", delta="partial", item_id="msg_1")
            if behaviour.code is None:
                transport = connection.transport
                transport.abort()
                return False
            await connection.close(behaviour.code, "server going wrong")
            return False
        if isinstance(behaviour, Failed):
            failed = response(
                "failed", [], error={"code": "server_error", "message": behaviour.message}
            )
            await send("response.failed", response=failed)
            return True
        if isinstance(behaviour, Incomplete):
            incomplete = response("incomplete", [], incomplete_details={"reason": behaviour.reason})
            await send("response.incomplete", response=incomplete)
            return True
        await send("response.in_progress", response=response("in_progress", []))
        if isinstance(behaviour, ToolCall):
            call = {
                "type": "function_call",
                "id": f"fc_{response_id}",
                "call_id": f"call_{response_id}",
                "name": behaviour.name,
                "arguments": behaviour.arguments,
                "status": "completed",
            }
            await send("response.output_item.added", output_index=0, item={**call, "arguments": ""})
            await send(
                "response.function_call_arguments.delta",
                item_id=call["id"],
                output_index=0,
                delta=behaviour.arguments,
            )
            await send(
                "response.function_call_arguments.done",
                item_id=call["id"],
                output_index=0,
                arguments=behaviour.arguments,
                name=behaviour.name,
            )
            await send("response.output_item.done", output_index=0, item=call)
            await send("response.completed", response=response("completed", [call]))
            return True
        text = behaviour.text
        if text is None:
            text = f"echo: {_input_text(request.get('input'))}"
        item_id = f"msg_{response_id}"
        message = {
            "type": "message",
            "id": item_id,
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }
        await send(
            "response.output_item.added",
            output_index=0,
            item={**message, "status": "in_progress", "content": []},
        )
        await send(
            "response.content_part.added",
            item_id=item_id,
            output_index=0,
            content_index=0,
            part={"type": "output_text", "text": "", "annotations": []},
        )
        step = max(1, -(-len(text) // max(behaviour.deltas, 1)))
        for start in range(0, len(text), step):
            await send(
                "response.output_text.delta",
                item_id=item_id,
                output_index=0,
                content_index=0,
                delta=text[start : start + step],
                logprobs=[],
            )
        await send(
            "response.output_text.done",
            item_id=item_id,
            output_index=0,
            content_index=0,
            text=text,
            logprobs=[],
        )
        await send("response.output_item.done", output_index=0, item=message)
        await send("response.completed", response=response("completed", [message]))
        return True

    async def _when_idle(
        self, connection: ServerConnection, behaviour: CloseWhenIdle | GoSilent
    ) -> None:
        with contextlib.suppress(ConnectionClosed):
            if isinstance(behaviour, GoSilent):
                # Like a NAT that dropped the connection: nothing read, nothing answered.
                connection.transport.pause_reading()
                await asyncio.sleep(behaviour.seconds)
                connection.transport.abort()
                return
            await asyncio.sleep(behaviour.after)
            if behaviour.event is not None:
                await connection.send(json.dumps(behaviour.event))
            with self._lock:
                self.idle_closes += 1
            if behaviour.code is None:
                connection.transport.abort()
            else:
                await connection.close(behaviour.code, "idle connection closed")

    # -- Realtime -----------------------------------------------------------------

    async def _realtime(self, connection: ServerConnection) -> None:
        ids = itertools.count(1)

        def event(kind: str, **fields: Any) -> str:
            return json.dumps({"type": kind, "event_id": f"event_{next(ids)}", **fields})

        session: dict[str, Any] = {"type": "realtime", "id": "sess_1", "model": "gpt-realtime"}
        await connection.send(event("session.created", session=session))
        buffer = bytearray()
        committed = b""
        async for message in connection:
            received = json.loads(message)
            with self._lock:
                self.received.append(received)
            kind = received.get("type")
            if kind == "session.update":
                session = {**session, **received.get("session", {})}
                await connection.send(event("session.updated", session=session))
            elif kind == "input_audio_buffer.append":
                buffer += base64.b64decode(received["audio"])
            elif kind == "input_audio_buffer.commit":
                committed, buffer = bytes(buffer), bytearray()
                await connection.send(
                    event("input_audio_buffer.committed", item_id="item_in", previous_item_id=None)
                )
            elif kind == "input_audio_buffer.clear":
                buffer = bytearray()
                await connection.send(event("input_audio_buffer.cleared"))
            elif kind == "conversation.item.create":
                item = {"id": "item_1", **received.get("item", {})}
                await connection.send(
                    event("conversation.item.added", previous_item_id=None, item=item)
                )
            elif kind == "response.create":
                await self._realtime_response(connection, event, committed)
            elif kind == "test.close":
                await connection.close(received.get("code", 1012), "closing as asked")
                return
            else:
                error = {
                    "type": "invalid_request_error",
                    "code": "unknown_event",
                    "message": f"unknown event {kind}",
                }
                await connection.send(event("error", error=error))

    async def _realtime_response(
        self, connection: ServerConnection, event: Any, audio: bytes
    ) -> None:
        base = {
            "response_id": "resp_rt",
            "item_id": "item_out",
            "output_index": 0,
            "content_index": 0,
        }
        response = {
            "object": "realtime.response",
            "id": "resp_rt",
            "status": "in_progress",
            "output": [],
        }
        await connection.send(event("response.created", response=response))
        for start in range(0, len(audio), 4800):
            chunk = base64.b64encode(audio[start : start + 4800]).decode()
            await connection.send(event("response.output_audio.delta", delta=chunk, **base))
        for word in ("you ", "said ", "something"):
            await connection.send(
                event("response.output_audio_transcript.delta", delta=word, **base)
            )
        await connection.send(event("response.output_audio.done", **base))
        await connection.send(event("response.done", response={**response, "status": "completed"}))


def _input_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        last = value[-1]
        if isinstance(last, dict):
            if last.get("type") == "function_call_output":
                return f"tool output {last.get('output')}"
            content = last.get("content")
            if isinstance(content, str):
                return content
    return ""


@contextlib.contextmanager
def run_ws_api(
    tls: ssl.SSLContext | None = None, delay: float = 0.0, default: Behaviour = Text()
) -> Iterator[WsApiServer]:
    """A running server (in a thread of this process), stopped on exit."""
    server = WsApiServer(tls, delay, default)
    server.start()
    try:
        yield server
    finally:
        server.stop()
