"""A small HTTP forward proxy on a background thread, for the proxy tests.

It does what corporate proxies do with a client's traffic: `CONNECT host:port`
opens a tunnel (and the bytes are piped both ways untouched), an absolute-form
request (`GET http://host:port/path`) is relayed to its origin over a connection
the proxy keeps per client connection. With `auth`, a request without the right
`Proxy-Authorization: Basic` gets 407. It counts what it did, so tests can tell a
request went through it (and how many tunnels a pool opened). `routes` sends the
tunnel to a `host:port` elsewhere (a local server standing in for a named API host,
whose certificate carries that name), as a split-horizon DNS would.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import h11

_STOP_TIMEOUT = 10.0


class ForwardProxy:
    """An HTTP proxy on 127.0.0.1: `url` to give a client; counters to check."""

    def __init__(
        self, *, auth: tuple[str, str] | None = None, routes: dict[str, str] | None = None
    ) -> None:
        self.routes = dict(routes or {})
        self._auth = (
            None
            if auth is None
            else "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        )
        self.tunnels = 0  # CONNECT tunnels opened
        self.forwarded = 0  # absolute-form requests relayed
        self.refused = 0  # 407 answers
        self.targets: list[str] = []  # CONNECT targets and absolute URLs, in order
        self.port = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_with(self, user: str, password: str) -> str:
        return f"http://{user}:{password}@127.0.0.1:{self.port}"

    def reset(self) -> None:
        self.tunnels = self.forwarded = self.refused = 0
        self.targets.clear()

    @contextlib.contextmanager
    def running(self) -> Iterator[ForwardProxy]:
        ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(ready),), daemon=True)
        self._thread.start()
        if not ready.wait(_STOP_TIMEOUT):
            raise RuntimeError("the forward proxy did not start")
        try:
            yield self
        finally:
            loop, stopping = self._loop, self._stopping
            if loop is not None and stopping is not None:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(stopping.set)
            self._thread.join(_STOP_TIMEOUT)

    async def _main(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            try:
                await self._serve(reader, writer)
            except (OSError, h11.ProtocolError, asyncio.CancelledError):
                pass  # a client gone, or the proxy stopping
            finally:
                tasks.discard(task)
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await self._stopping.wait()
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = h11.Connection(h11.SERVER)
        upstream: tuple[str, h11.Connection, asyncio.StreamReader, asyncio.StreamWriter] | None
        upstream = None
        try:
            while True:
                event = await _next(client, reader)
                if isinstance(event, h11.ConnectionClosed):
                    return
                assert isinstance(event, h11.Request)
                headers = [(k, v) for k, v in event.headers if k != b"proxy-authorization"]
                given = dict(event.headers).get(b"proxy-authorization")
                if self._auth is not None and given != self._auth.encode():
                    self.refused += 1
                    writer.write(
                        client.send(
                            h11.Response(
                                status_code=407,
                                reason=b"Proxy Authentication Required",
                                headers=[
                                    (b"proxy-authenticate", b'Basic realm="test"'),
                                    (b"content-length", b"0"),
                                    (b"connection", b"close"),
                                ],
                            )
                        )
                        or b""
                    )
                    writer.write(client.send(h11.EndOfMessage()) or b"")
                    await writer.drain()
                    return
                target = event.target.decode()
                self.targets.append(target)
                if event.method == b"CONNECT":
                    await _next(client, reader)  # EndOfMessage
                    await self._tunnel(client, target, reader, writer)
                    return
                url = urlsplit(target)
                origin = f"{url.hostname}:{url.port or 80}"
                if upstream is None or upstream[0] != origin:
                    if upstream is not None:
                        upstream[3].close()
                    up_reader, up_writer = await asyncio.open_connection(
                        url.hostname, url.port or 80
                    )
                    upstream = (origin, h11.Connection(h11.CLIENT), up_reader, up_writer)
                self.forwarded += 1
                path = url.path + (f"?{url.query}" if url.query else "")
                await self._relay(client, event, headers, path, upstream, reader, writer)
                if client.our_state is h11.MUST_CLOSE or upstream[1].our_state is h11.MUST_CLOSE:
                    return
                client.start_next_cycle()
                upstream[1].start_next_cycle()
        finally:
            if upstream is not None:
                upstream[3].close()

    async def _tunnel(
        self,
        client: h11.Connection,
        target: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        host, _, port = self.routes.get(target, target).rpartition(":")
        up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
        self.tunnels += 1
        writer.write(client.send(h11.Response(status_code=200, headers=[])) or b"")
        leftover = client.trailing_data[0]
        if leftover:
            up_writer.write(leftover)
        await writer.drain()

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except OSError:
                pass
            finally:
                with contextlib.suppress(OSError):
                    dst.write_eof()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            up_writer.close()

    async def _relay(
        self,
        client: h11.Connection,
        request: h11.Request,
        headers: list[tuple[bytes, bytes]],
        path: str,
        upstream: tuple[str, h11.Connection, asyncio.StreamReader, asyncio.StreamWriter],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        _, up, up_reader, up_writer = upstream
        up_writer.write(
            up.send(h11.Request(method=request.method, target=path, headers=headers)) or b""
        )
        while True:  # the request body
            event = await _next(client, reader)
            if isinstance(event, h11.Data):
                up_writer.write(up.send(event) or b"")
            elif isinstance(event, h11.EndOfMessage):
                up_writer.write(up.send(event) or b"")
                break
        await up_writer.drain()
        while True:  # the response, relayed as it comes (server-sent events included)
            event = await _next(up, up_reader)
            if isinstance(event, (h11.InformationalResponse, h11.Response)):
                event = type(event)(
                    status_code=event.status_code, headers=event.headers, reason=event.reason
                )
            writer.write(client.send(event) or b"")
            await writer.drain()
            if isinstance(event, h11.EndOfMessage):
                return


async def _next(conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(65536))
            continue
        if event is h11.PAUSED:
            raise h11.RemoteProtocolError("paused")
        return event
