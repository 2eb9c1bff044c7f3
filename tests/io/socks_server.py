"""A small SOCKS5 server on a background thread, for the SOCKS tests.

It does what the tests need to see and a ready-made server does not tell: what
address each client asked for (a name for socks5h://, an address for socks5://),
how many tunnels it opened, and, when told, a refusal with a chosen reply code.
With `auth`, only that username and password get in (RFC 1929). The tunnel's
bytes are piped both ways untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import threading
from collections.abc import Iterator

_STOP_TIMEOUT = 10.0


class SocksServer:
    """A SOCKS5 server on 127.0.0.1: `url()` to give a client; counters to check."""

    def __init__(self, *, auth: tuple[str, str] | None = None) -> None:
        self._auth = auth
        self.refuse_with: int | None = None  # a reply code to answer every CONNECT with
        self.tunnels = 0
        self.refused = 0  # authentication failures
        self.targets: list[str] = []  # as asked: "name:port" or "address:port"
        self.port = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    def url(self, scheme: str = "socks5h", credentials: str = "") -> str:
        at = f"{credentials}@" if credentials else ""
        return f"{scheme}://{at}127.0.0.1:{self.port}"

    def reset(self) -> None:
        self.tunnels = self.refused = 0
        self.refuse_with = None
        self.targets.clear()

    @contextlib.contextmanager
    def running(self) -> Iterator[SocksServer]:
        ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(ready),), daemon=True)
        self._thread.start()
        if not ready.wait(_STOP_TIMEOUT):
            raise RuntimeError("the SOCKS server did not start")
        try:
            yield self
        finally:
            if self._loop is not None and self._stopping is not None:
                self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(_STOP_TIMEOUT)

    async def _main(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await self._stopping.wait()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: asyncio.StreamWriter | None = None
        try:
            version, count = await reader.readexactly(2)
            methods = await reader.readexactly(count)
            if version != 5:
                return
            wanted = 2 if self._auth is not None else 0
            if wanted not in methods:
                # Counted before the answer goes out: the client may check the count
                # as soon as it reads the refusal.
                self.refused += 1
                writer.write(b"\x05\xff")
                return
            writer.write(bytes([5, wanted]))
            if self._auth is not None:
                _, size = await reader.readexactly(2)
                user = (await reader.readexactly(size)).decode()
                size = (await reader.readexactly(1))[0]
                password = (await reader.readexactly(size)).decode()
                if (user, password) != self._auth:
                    self.refused += 1
                    writer.write(b"\x01\x01")
                    return
                writer.write(b"\x01\x00")
            _, command, _, kind = await reader.readexactly(4)
            if kind == 1:
                host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
            elif kind == 4:
                host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
            else:
                host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
            port = int.from_bytes(await reader.readexactly(2), "big")
            self.targets.append(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
            code = 7 if command != 1 else self.refuse_with
            if code is None:
                try:
                    up_reader, upstream = await asyncio.open_connection(host, port)
                except OSError:
                    code = 5
            if code is not None:
                writer.write(bytes([5, code, 0, 1, 0, 0, 0, 0, 0, 0]))
                return
            assert upstream is not None
            writer.write(b"\x05\x00\x00\x01\x7f\x00\x00\x01" + port.to_bytes(2, "big"))
            self.tunnels += 1
            await asyncio.gather(_pipe(reader, upstream), _pipe(up_reader, writer))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            for each in (writer, upstream):
                if each is not None:
                    each.close()
                    with contextlib.suppress(Exception):
                        await each.wait_closed()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.write_eof()
