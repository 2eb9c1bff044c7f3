"""HTTP/2 servers that push back the way reverse proxies do, for pool tests.

`PushbackServer` answers chat completions over h2c (or TLS with ALPN h2) on its own
thread and counts what a client cannot see from its side: the TCP connections it
accepted, the requests it processed (by the number in each request's message),
the streams it refused and the GOAWAYs it sent. Two habits of real proxies, each
optional:

- `goaway_every=N`: after the N-th request on a connection, a GOAWAY naming that
  stream as the last one processed; later streams are ignored (as nginx does at
  `keepalive_requests`), the ones in flight are answered, then the server stops
  writing and closes once the client has (or after `linger` seconds): closing with
  the client's bytes unread would reset the connection and could destroy answers
  the client has not read yet (nginx's lingering close avoids the same).
- `max_streams=M`: SETTINGS_MAX_CONCURRENT_STREAMS=M is advertised, and a stream
  opened while M are being answered is reset with REFUSED_STREAM (as nginx does
  above `http2_max_concurrent_streams`; a client that has not read the SETTINGS
  yet, or ignores them, sees it). `advertise=A` advertises A instead (a proxy whose
  backend takes fewer streams than the proxy says: every stream over M is refused).
- `raise_to=R`: as soon as a connection receives its first request (before it is
  answered), a SETTINGS frame raises its advertised limit to R (a server that
  said 0 until it was ready).

The GOAWAY and the advertised limit are written as raw frames: h2 itself would
close the connection for the in-flight streams, or treat a stream over the limit
as a connection error.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from collections import Counter
from typing import Any

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
from hyperframe.frame import GoAwayFrame, SettingsFrame

__all__ = ["PushbackServer"]


def completion(text: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-4o",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
        }
    ).encode()


class PushbackServer:
    """Runs until `close()`; `port`, `connections`, `processed`, `refused`, `goaways`."""

    def __init__(
        self,
        *,
        goaway_every: int | None = None,
        max_streams: int | None = None,
        delay: float = 0.005,
        tls: ssl.SSLContext | None = None,
        linger: float = 5.0,
        advertise: int | None = None,
        raise_to: int | None = None,
    ) -> None:
        self.goaway_every = goaway_every
        self.linger = linger
        self.max_streams = max_streams
        self.advertise = advertise if advertise is not None else max_streams
        self.raise_to = raise_to
        self.delay = delay
        self.tls = tls
        if tls is not None:
            tls.set_alpn_protocols(["h2"])
        self.connections = 0
        # The number in each processed request's message, as many times as processed.
        self.processed: Counter[int] = Counter()
        self.refused = 0
        self.goaways = 0
        # Most streams answered at once on one connection.
        self.peak_streams = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._started.wait(10)
        self.port: int = self._server.sockets[0].getsockname()[1]

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/v1"

    def reset(self) -> None:
        with self._lock:
            self.connections = self.refused = self.goaways = self.peak_streams = 0
            self.processed.clear()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._server = await asyncio.start_server(
                self._serve, "127.0.0.1", 0, ssl=self.tls, backlog=512
            )
            self._started.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()

    def close(self) -> None:
        async def stop() -> None:
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> PushbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.connections += 1
        try:
            await _Connection(self, reader, writer).run()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()


class _Connection:
    def __init__(
        self, server: PushbackServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=config)
        self.requests = 0
        # Streams being answered, and the request bodies still arriving.
        self.active: set[int] = set()
        self.bodies: dict[int, bytearray] = {}
        self.last_stream: int | None = None  # set once the GOAWAY went out
        self.raised = False
        self.tasks: set[asyncio.Task[None]] = set()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.writer.write(data)

    async def run(self) -> None:
        conn = self.conn
        conn.initiate_connection()
        limit = self.server.advertise
        if limit is not None:
            # Advertised in a SETTINGS frame of its own; h2 keeps its own (higher)
            # limit, so it does not turn the stream over the limit into a
            # connection error: this server refuses it itself.
            code = h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS
            frame = SettingsFrame(0, settings={code: limit})
            self.writer.write(conn.data_to_send() + frame.serialize())
        self.flush()
        try:
            while True:
                if self.last_stream is not None and not self.active and not self.tasks:
                    await self._linger()
                    return
                data = await self.reader.read(65536)
                if not data:
                    return
                try:
                    events = conn.receive_data(data)
                except h2.exceptions.ProtocolError:
                    self.flush()
                    return
                for event in events:
                    self._on(event)
                self.flush()
                await self.writer.drain()
        finally:
            for task in self.tasks:
                task.cancel()

    def _on(self, event: Any) -> None:
        server = self.server
        if isinstance(event, h2.events.RequestReceived):
            stream_id = event.stream_id
            if self.last_stream is not None and stream_id > self.last_stream:
                return  # after the GOAWAY: not processed, not answered
            if server.max_streams is not None and len(self.active) >= server.max_streams:
                self.conn.reset_stream(stream_id, h2.errors.ErrorCodes.REFUSED_STREAM)
                with server._lock:
                    server.refused += 1
                return
            self.active.add(stream_id)
            self.bodies[stream_id] = bytearray()
            with server._lock:
                server.peak_streams = max(server.peak_streams, len(self.active))
            self.requests += 1
            if server.raise_to is not None and not self.raised:
                self.raised = True
                self.flush()
                code = h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS
                self.writer.write(SettingsFrame(0, settings={code: server.raise_to}).serialize())
            if server.goaway_every is not None and self.requests >= server.goaway_every:
                self.last_stream = stream_id
                self.flush()
                self.writer.write(GoAwayFrame(0, last_stream_id=stream_id).serialize())
                with server._lock:
                    server.goaways += 1
        elif isinstance(event, h2.events.DataReceived):
            body = self.bodies.get(event.stream_id)
            if body is not None:
                body += event.data or b""
            self.conn.acknowledge_received_data(event.flow_controlled_length or 0, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            received = self.bodies.pop(event.stream_id, None)
            if received is not None:
                task = asyncio.ensure_future(self._answer(event.stream_id, bytes(received)))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
        elif isinstance(event, h2.events.StreamReset):
            self.active.discard(event.stream_id)
            self.bodies.pop(event.stream_id, None)

    async def _answer(self, stream_id: int, body: bytes) -> None:
        server = self.server
        text = json.loads(body)["messages"][0]["content"]
        await asyncio.sleep(server.delay)
        with server._lock:
            server.processed[int(text.split()[-1])] += 1
        payload = completion(f"answer to {text}")
        try:
            self.conn.send_headers(
                stream_id,
                [
                    (":status", "200"),
                    ("content-type", "application/json"),
                    ("content-length", str(len(payload))),
                ],
            )
            self.conn.send_data(stream_id, payload, end_stream=True)
        except h2.exceptions.ProtocolError:
            pass  # reset by the client meanwhile
        self.active.discard(stream_id)
        self.flush()
        await self.writer.drain()

    async def _linger(self) -> None:
        """Gone away and everything answered: no more writing; read (and drop) until
        the client closes, for at most `linger` seconds."""
        if self.writer.can_write_eof():
            self.writer.write_eof()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.server.linger
        while (left := deadline - loop.time()) > 0:
            try:
                if not await asyncio.wait_for(self.reader.read(65536), left):
                    return
            except asyncio.TimeoutError:
                return
