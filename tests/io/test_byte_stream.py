"""The backends' byte stream against a scripted peer, on every runtime.

On asyncio the stream keeps reading into a buffer of its own (`_backends/_asyncio`),
where blocking code and trio (`_backends/_trio`) read the socket when asked:
whichever it is, a read hands over every byte in order, a read or write that times
out loses nothing, a peer's close or reset is seen (also by `is_readable` on an
idle connection), a close wakes a waiting read, and on asyncio the buffer stops
growing at its high-water mark while nobody reads. trio's stream keeps its timeouts
with one timekeeper task per run: a short timeout beside a long one, and a write
waiting while a read on the same socket times out, are tested on both event loops;
that a read is a cancellation point with bytes waiting, that a reader who keeps
finding bytes lets other tasks run, and that the timekeeper keeps no wait (and so no
socket) once the wait ended, on trio.
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
        self.alpn = sock.alpn

    async def send(self, data: bytes, timeout: float | None) -> None:
        self.sock.send(data, timeout)

    async def receive(self, timeout: float | None) -> bytes:
        return bytes(self.sock.receive(timeout))

    def is_readable(self) -> bool:
        return bool(self.sock.is_readable())

    async def aclose(self) -> None:
        self.sock.close()


async def _connect(
    runtime: str, port: int, context: ssl.SSLContext | None = None, host: str = "127.0.0.1"
) -> Any:
    if runtime == "sync":
        return _Blocking(SyncBackend().connect(host, port, ssl_context=context, timeout=5))
    return await AsyncBackend().connect(host, port, ssl_context=context, timeout=5)


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
        if runtime == "trio":
            from oxide_io._backends._trio import TrioSocket

            assert isinstance(stream, TrioSocket)
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


async def test_a_write_the_peer_does_not_read_times_out(
    peer: Callable[[Handler], _Peer], runtime: str
) -> None:
    release = threading.Event()

    def handler(conn: socket.socket) -> None:
        # Reads nothing until the client gave up, then everything (so it can close).
        release.wait(10)
        conn.settimeout(10)
        while conn.recv(1 << 20):
            pass

    server = peer(handler)
    stream = await _connect(runtime, server.port)
    try:
        # More than the two kernels' buffers hold: the write has to wait for the peer.
        with pytest.raises(TransportTimeout) as caught:
            await stream.send(bytes(64 * 1024 * 1024), 0.2)
        assert caught.value.phase == "write"
    finally:
        release.set()
        await stream.aclose()


async def _read_while(stream: Any, timeout: float, into: list[Any]) -> None:
    """Reads once, keeping what came or the error (for a task beside the test body)."""
    try:
        into.append(await stream.receive(timeout))
    except (ReadError, TransportTimeout) as exc:
        into.append(exc)


@pytest.mark.parametrize("runtime", ["asyncio", "trio"])
async def test_a_close_wakes_a_waiting_read(peer: Callable[[Handler], _Peer], runtime: str) -> None:
    def handler(conn: socket.socket) -> None:
        conn.settimeout(10)
        conn.recv(1)  # until the client closes

    server = peer(handler)
    stream = await _connect(runtime, server.port)
    outcome: list[Any] = []
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_read_while, stream, 20.0, outcome)
        await anyio.sleep(0.1)  # the read is waiting
        assert not outcome
        await stream.aclose()
    [error] = outcome
    assert isinstance(error, ReadError)


@pytest.mark.parametrize("runtime", ["asyncio", "trio"])
async def test_a_short_read_timeout_beside_a_long_one(
    peer: Callable[[Handler], _Peer], runtime: str
) -> None:
    # trio's timekeeper sleeps until the earliest deadline it knows: a shorter one
    # coming later must wake it, or the short read would wait as long as the long one.
    release = threading.Event()

    def handler(conn: socket.socket) -> None:
        release.wait(20)
        conn.sendall(b"late")

    long_peer, short_peer = peer(handler), peer(handler)
    waiting = await _connect(runtime, long_peer.port)
    short = await _connect(runtime, short_peer.port)
    outcome: list[Any] = []
    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_read_while, waiting, 25.0, outcome)
            await anyio.sleep(0.1)  # the long read is waiting, its deadline kept
            with pytest.raises(TransportTimeout):
                await short.receive(0.1)
            assert not outcome  # the long read still waits
            release.set()
        assert outcome == [b"late"]
        # The short stream is still usable after its timeout.
        assert await short.receive(5) == b"late"
    finally:
        release.set()
        await waiting.aclose()
        await short.aclose()


@pytest.mark.parametrize("runtime", ["asyncio", "trio"])
async def test_a_read_timing_out_leaves_a_waiting_write_alone(
    peer: Callable[[Handler], _Peer], runtime: str
) -> None:
    # One socket, a write waiting for room and a read for bytes (two HTTP/2 streams):
    # the read's timeout (on trio, a wake of every wait on the descriptor) must not
    # fail the write.
    release = threading.Event()
    payload = bytes(16 * 1024 * 1024)

    def handler(conn: socket.socket) -> None:
        release.wait(20)
        conn.settimeout(10)
        received = 0
        while received < len(payload) and (chunk := conn.recv(1 << 20)):
            received += len(chunk)
        conn.sendall(b"all %d" % received)

    server = peer(handler)
    stream = await _connect(runtime, server.port)
    written: list[Any] = []

    async def write() -> None:
        await stream.send(payload, 20.0)
        written.append(True)

    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(write)
            await anyio.sleep(0.1)  # the write fills the buffers and waits
            with pytest.raises(TransportTimeout):
                await stream.receive(0.2)
            assert not written
            release.set()
        assert written == [True]
        received = b""
        while chunk := await stream.receive(5):
            received += chunk
        assert received == b"all %d" % len(payload)
    finally:
        release.set()
        await stream.aclose()


@pytest.mark.parametrize(("alpn", "expected"), [(["h2", "http/1.1"], "h2"), (None, None)])
async def test_tls_negotiates_alpn_and_names_the_host(
    peer: Callable[[Handler], _Peer],
    runtime: str,
    tls_ca: trustme.CA,
    alpn: list[str] | None,
    expected: str | None,
) -> None:
    names: list[str | None] = []
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("localhost").configure_cert(server_context)
    server_context.set_alpn_protocols(["h2", "http/1.1"])
    server_context.sni_callback = lambda _sock, name, _context: names.append(name)
    client_context = ssl.create_default_context()
    tls_ca.configure_trust(client_context)
    if alpn is not None:
        client_context.set_alpn_protocols(alpn)

    def handler(conn: socket.socket) -> None:
        conn.settimeout(10)
        with server_context.wrap_socket(conn, server_side=True) as tls:
            tls.sendall(b"hello " + (tls.selected_alpn_protocol() or "none").encode())
            tls.recv(1)  # until the client closes

    server = peer(handler)
    stream = await _connect(runtime, server.port, client_context, host="localhost")
    try:
        assert stream.alpn == expected
        received = b""
        while len(received) < 8 and (chunk := await stream.receive(5)):
            received += chunk
        assert received == b"hello " + (expected or "none").encode()
        assert names == ["localhost"]
    finally:
        await stream.aclose()


@pytest.mark.parametrize("runtime", ["trio"])
async def test_trio_a_read_with_bytes_waiting_is_a_cancellation_point(
    peer: Callable[[Handler], _Peer], runtime: str
) -> None:
    import trio

    def handler(conn: socket.socket) -> None:
        conn.settimeout(10)
        conn.sendall(b"ready")
        conn.recv(1)  # until the client closes

    server = peer(handler)
    stream = await _connect(runtime, server.port)
    try:
        await trio.sleep(0.1)  # the bytes are in the socket
        with trio.CancelScope() as scope:
            scope.cancel()
            await stream.receive(5)
        assert scope.cancelled_caught
        # Nothing was taken by the cancelled read.
        assert await stream.receive(5) == b"ready"
    finally:
        await stream.aclose()


@pytest.mark.parametrize("runtime", ["trio"])
async def test_trio_a_reader_that_keeps_finding_bytes_lets_other_tasks_run(
    peer: Callable[[Handler], _Peer], runtime: str
) -> None:
    import trio

    from oxide_io._backends._trio import _READ_SIZE, _SCHEDULE_EVERY

    # Three rounds of reads that each end at a schedule point: trio runs the tasks of
    # a pass in random order, so the reader may go on first after one of them.
    size = 3 * _READ_SIZE * _SCHEDULE_EVERY
    payload = _pattern(size)
    go = threading.Event()

    def handler(conn: socket.socket) -> None:
        go.wait(10)
        conn.sendall(payload)
        conn.settimeout(10)
        conn.recv(1)  # until the client closes

    server = peer(handler)
    stream = await _connect(runtime, server.port)
    # Room for the whole payload, so that every read finds bytes without waiting.
    stream._raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2 * size)
    received = bytearray()
    ran: list[int] = []

    async def other() -> None:
        ran.append(len(received))

    try:
        go.set()
        await trio.sleep(0.3)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(other)
            while len(received) < size:
                received += await stream.receive(5)
        # The other task ran while the reads went on (at a schedule point of the
        # stream, or where a read waited, if the socket ran dry).
        assert len(ran) == 1
        assert ran[0] < size
        assert received == payload
    finally:
        await stream.aclose()


def test_trio_a_connection_used_in_a_later_run_still_times_out(
    peer: Callable[[Handler], _Peer],
) -> None:
    # A pooled connection may outlive the trio run that opened it: the next run's
    # timekeeper keeps its timeouts (the first run's is gone with its run).
    import trio

    release = threading.Event()

    def handler(conn: socket.socket) -> None:
        conn.settimeout(10)
        conn.sendall(b"one")
        release.wait(10)
        conn.sendall(b"two")
        conn.recv(1)  # until the client closes

    server = peer(handler)

    async def first() -> Any:
        stream = await _connect("trio", server.port)
        received = b""
        while len(received) < 3:
            received += await stream.receive(5)
        assert received == b"one"
        with pytest.raises(TransportTimeout):
            await stream.receive(0.1)
        return stream

    async def second(stream: Any) -> None:
        try:
            with pytest.raises(TransportTimeout):
                await stream.receive(0.1)
            release.set()
            received = b""
            while len(received) < 3:
                received += await stream.receive(5)
            assert received == b"two"
        finally:
            release.set()
            await stream.aclose()

    trio.run(second, trio.run(first))


@pytest.mark.parametrize("runtime", ["trio"])
@pytest.mark.parametrize("ending", ["bytes", "timeout", "cancelled", "closed"])
async def test_trio_the_timekeeper_lets_go_of_a_wait_once_it_ended(
    peer: Callable[[Handler], _Peer], runtime: str, ending: str
) -> None:
    # The timekeeper outlives the connections of its run: a wait it kept after it
    # ended would keep the connection's socket (and its descriptor) alive with it.
    import gc
    import weakref

    import trio

    from oxide_io._backends._trio import _KEEPER

    go = threading.Event()

    def handler(conn: socket.socket) -> None:
        go.wait(10)
        if ending == "bytes":
            conn.sendall(b"late")
        conn.settimeout(10)
        conn.recv(1)  # until the client closes

    server = peer(handler)
    stream = await _connect(runtime, server.port)
    outcome: list[Any] = []
    try:
        async with trio.open_nursery() as nursery:
            if ending == "cancelled":
                with trio.move_on_after(0.1) as scope:
                    await stream.receive(20.0)
                assert scope.cancelled_caught
            elif ending == "timeout":
                with pytest.raises(TransportTimeout):
                    await stream.receive(0.1)
            else:
                nursery.start_soon(_read_while, stream, 20.0, outcome)
                await trio.sleep(0.1)  # the read waits, its deadline with the keeper
                keeper = _KEEPER.get()
                assert keeper is not None and len(keeper._waits) == 1
                if ending == "bytes":
                    go.set()
                else:
                    await stream.aclose()
        keeper = _KEEPER.get()
        assert keeper is not None
        assert not keeper._waits
    finally:
        go.set()
        await stream.aclose()
    if ending == "bytes":
        assert outcome == [b"late"]
    elif ending == "closed":
        assert isinstance(outcome[0], ReadError)
    outcome.clear()  # the error's traceback holds the stream's frames
    raw = weakref.ref(stream._raw)
    del stream
    gc.collect()
    assert raw() is None  # nothing of the run (its keeper included) holds the socket
