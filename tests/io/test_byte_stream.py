"""The backends' byte stream against a scripted peer, on every runtime.

On asyncio the stream keeps reading into a buffer of its own (`_backends/_asyncio`),
where blocking code and trio read the socket when asked: whichever it is, a read
hands over every byte in order, a read that times out loses nothing, a peer's
close or reset is seen (also by `is_readable` on an idle connection), and on
asyncio the buffer stops growing at its high-water mark while nobody reads.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Any

import anyio
import pytest
import trustme

from oxide_io._backends._anyio import AsyncBackend
from oxide_io._backends._errors import ReadError, TransportTimeout
from oxide_io._backends._sync import SyncBackend

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

Handler = Callable[[socket.socket], None]


class _Peer:
    """A TCP server on 127.0.0.1 running `handler` on its one connection, in a thread."""

    def __init__(self, handler: Handler) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(10)
        self.port = self._listener.getsockname()[1]
        self._handler = handler
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        with conn, suppress(OSError):
            self._handler(conn)

    def close(self) -> None:
        self._thread.join(10)
        self._listener.close()


@pytest.fixture
def peer() -> Iterator[Callable[[Handler], _Peer]]:
    made: list[_Peer] = []

    def start(handler: Handler) -> _Peer:
        made.append(_Peer(handler))
        return made[-1]

    yield start
    for each in made:
        each.close()


class _Blocking:
    """The blocking socket behind the async methods the test body awaits."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock

    async def send(self, data: bytes, timeout: float | None) -> None:
        self.sock.send(data, timeout)

    async def receive(self, timeout: float | None) -> bytes:
        return bytes(self.sock.receive(timeout))

    def is_readable(self) -> bool:
        return bool(self.sock.is_readable())

    async def aclose(self) -> None:
        self.sock.close()


async def _connect(runtime: str, port: int, context: ssl.SSLContext | None = None) -> Any:
    if runtime == "sync":
        return _Blocking(SyncBackend().connect("127.0.0.1", port, ssl_context=context, timeout=5))
    return await AsyncBackend().connect("127.0.0.1", port, ssl_context=context, timeout=5)


async def _pause(runtime: str, seconds: float) -> None:
    if runtime == "sync":
        time.sleep(seconds)
    else:
        await anyio.sleep(seconds)


def _pattern(size: int) -> bytes:
    # Distinct bytes at each offset, so a lost, doubled or reordered piece shows.
    return b"".join(struct.pack(">I", i) for i in range(size // 4))


async def test_a_fast_peer_is_read_whole_and_in_order(
    peer: Callable[[Handler], _Peer], runtime: str
) -> None:
    payload = _pattern(3 * 1024 * 1024)
    server = peer(lambda conn: conn.sendall(payload))
    stream = await _connect(runtime, server.port)
    try:
        # Nobody reads for a while: the peer fills whatever buffers there are.
        await _pause(runtime, 0.3)
        if runtime == "asyncio":
            from oxide_io._backends._asyncio import _HIGH_WATER, ProtocolSocket

            assert isinstance(stream, ProtocolSocket)
            protocol = stream._reader._protocol
            # Reading paused at the mark; one transport read (256 KiB) may pass it.
            assert protocol.paused
            assert _HIGH_WATER <= protocol.size <= _HIGH_WATER + 256 * 1024
        received = bytearray()
        while chunk := await stream.receive(5):
            received += chunk
        assert received == payload
    finally:
        await stream.aclose()


async def test_a_read_timeout_loses_nothing(peer: Callable[[Handler], _Peer], runtime: str) -> None:
    def handler(conn: socket.socket) -> None:
        conn.sendall(b"first")
        conn.settimeout(10)
        assert conn.recv(2) == b"go"
        conn.sendall(b"second")

    server = peer(handler)
    stream = await _connect(runtime, server.port)
    try:
        received = b""
        while len(received) < 5:
            received += await stream.receive(5)
        assert received == b"first"
        with pytest.raises(TransportTimeout):
            await stream.receive(0.1)
        await stream.send(b"go", 5)
        received = b""
        while len(received) < 6:
            received += await stream.receive(5)
        assert received == b"second"
        assert await stream.receive(5) == b""
    finally:
        await stream.aclose()


@pytest.mark.parametrize("then", ["writes", "closes"])
@pytest.mark.parametrize("tls", [False, True], ids=["tcp", "tls"])
async def test_an_idle_connection_the_peer_wrote_to_or_closed_is_readable(
    peer: Callable[[Handler], _Peer], runtime: str, tls: bool, then: str, tls_ca: trustme.CA
) -> None:
    # What a pooled connection or an idle WebSocket checks before its next use: a
    # peer's Close frame (bytes) or its close must show, though on asyncio the loop
    # has already taken them off the socket.
    done = threading.Event()
    client_context = None
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    if tls:
        tls_ca.issue_cert("127.0.0.1").configure_cert(server_context)
        client_context = ssl.create_default_context()
        tls_ca.configure_trust(client_context)

    def handler(conn: socket.socket) -> None:
        conn.settimeout(10)
        if tls:
            conn = server_context.wrap_socket(conn, server_side=True)
        assert conn.recv(4) == b"bye?"
        if then == "writes":
            conn.sendall(b"gone")
            done.set()
            conn.recv(1)  # until the client closes
        else:
            conn.close()
            done.set()

    server = peer(handler)
    stream = await _connect(runtime, server.port, client_context)
    try:
        await _pause(runtime, 0.05)
        if not tls:  # TLS 1.3 session tickets follow the handshake: bytes of the TLS layer
            assert not stream.is_readable()
        await stream.send(b"bye?", 5)
        assert done.wait(10)
        # The bytes or the close have reached us (and on asyncio the loop took them).
        await _pause(runtime, 0.2)
        assert stream.is_readable()
        received = b""
        while len(received) < 4 and (chunk := await stream.receive(5)):
            received += chunk
        assert received == (b"gone" if then == "writes" else b"")
    finally:
        await stream.aclose()


async def test_a_reset_is_a_read_error(peer: Callable[[Handler], _Peer], runtime: str) -> None:
    def handler(conn: socket.socket) -> None:
        conn.settimeout(10)
        assert conn.recv(4) == b"ping"
        # Linger 0: the close sends RST, not FIN.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    server = peer(handler)
    stream = await _connect(runtime, server.port)
    try:
        await stream.send(b"ping", 5)
        with pytest.raises(ReadError) as caught:
            await stream.receive(5)
        assert str(caught.value)
    finally:
        await stream.aclose()


async def test_a_read_after_close_is_a_read_error(
    peer: Callable[[Handler], _Peer], runtime: str
) -> None:
    def handler(conn: socket.socket) -> None:
        conn.settimeout(10)
        conn.recv(1)

    server = peer(handler)
    stream = await _connect(runtime, server.port)
    await stream.aclose()
    with pytest.raises(ReadError):
        await stream.receive(5)


async def test_a_write_after_the_peers_half_close_is_taken(
    peer: Callable[[Handler], _Peer], runtime: str
) -> None:
    # An HTTP/2 peer sends GOAWAY and closes its side; the WINDOW_UPDATE for the last
    # response read still goes out, and must not fail on our side of the socket.
    heard = threading.Event()

    def handler(conn: socket.socket) -> None:
        conn.settimeout(10)
        conn.sendall(b"last")
        conn.shutdown(socket.SHUT_WR)
        if conn.recv(5) == b"after":
            heard.set()

    server = peer(handler)
    stream = await _connect(runtime, server.port)
    try:
        received = b""
        while chunk := await stream.receive(5):
            received += chunk
        assert received == b"last"
        # On asyncio the loop has seen the EOF by now: the transport must stay writable.
        await _pause(runtime, 0.05)
        await stream.send(b"after", 5)
        assert heard.wait(10)
    finally:
        await stream.aclose()
