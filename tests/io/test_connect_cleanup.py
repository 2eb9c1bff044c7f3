"""A connection that fails or is given up while it is being made leaves no socket open.

A server that accepts and then never answers holds the client where a connection
is made: in the TLS handshake, in the wait for an HTTP proxy's answer to CONNECT,
or in the TLS handshake inside the tunnel once the proxy said yes. The connect
timeout, a cancellation (a cancel scope on asyncio and trio) or, in blocking code,
a KeyboardInterrupt must close the socket right there: not leave it to the garbage
collector. So the checks run with the collector off and the exception still held
(its traceback keeps every frame that held the socket alive): a socket that only
the collector would have closed counts as open.
"""

from __future__ import annotations

import gc
import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from oxide_io import APITimeoutError, Timeout
from tests.io.blocking import unwrap
from tests.io.conftest import MakeClient
from tests.io.leaks import client_sockets

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

CONNECT_OK = b"HTTP/1.1 200 Connection established\r\n\r\n"


class SilentServer:
    """Accepts connections and never answers; with `answer`, it sends that once the
    client sent something (a proxy's yes to CONNECT), then falls silent.

    The accepted sockets stay open until the server stops, so the client is the
    only side that can end a connection.
    """

    def __init__(self, answer: bytes = b"") -> None:
        self._answer = answer
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self.accepted = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="silent-server")

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(conn)
            if self._answer:
                conn.settimeout(5)
                try:
                    if conn.recv(65536):
                        conn.sendall(self._answer)
                except OSError:
                    pass
            self.accepted.set()

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()
        for conn in self._held:
            conn.close()


@pytest.fixture(params=["tls", "proxy-connect", "tls-in-tunnel"])
def silent(request: pytest.FixtureRequest) -> Iterator[tuple[SilentServer, dict[str, Any]]]:
    """The stalling server and the client options that make a call stall on it."""
    answer = CONNECT_OK if request.param == "tls-in-tunnel" else b""
    with SilentServer(answer) as server:
        if request.param == "tls":
            options: dict[str, Any] = {"base_url": f"https://127.0.0.1:{server.port}/v1"}
        else:
            # The origin behind the proxy is never reached: nothing listens there.
            options = {
                "base_url": "https://127.0.0.1:9/v1",
                "proxy": f"http://127.0.0.1:{server.port}",
            }
        yield server, options


@pytest.fixture
def no_gc() -> Iterator[None]:
    """The garbage collector off, so no cycle holding a socket is broken behind the test."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("no_gc")
async def test_connect_timeout_closes_the_socket(
    silent: tuple[SilentServer, dict[str, Any]], make_client: MakeClient
) -> None:
    server, options = silent
    client = make_client(timeout=Timeout(10, connect=0.3), max_retries=0, **options)
    with pytest.raises(APITimeoutError) as caught:
        await client.models.list()
    assert server.accepted.wait(10)  # the client did reach the server
    assert client_sockets(server.port) == 0, caught.value
    assert not unwrap(client)._transport.connections


@pytest.mark.usefixtures("no_gc")
async def test_cancelled_connect_closes_the_socket(
    runtime: str, silent: tuple[SilentServer, dict[str, Any]], make_client: MakeClient
) -> None:
    server, options = silent
    client = make_client(timeout=10, max_retries=0, **options)
    held: BaseException | None = None
    if runtime == "sync":
        thread = _interrupt_once_accepted(server, threading.main_thread().ident or 0)
        with pytest.raises(KeyboardInterrupt) as caught:
            unwrap(client).models.list()
        thread.join()
        held = caught.value
    else:
        with anyio.move_on_after(0.3) as scope:
            try:
                await client.models.list()
            except anyio.get_cancelled_exc_class() as exc:
                held = exc  # the cancellation, its traceback and frames kept alive
                raise
        assert scope.cancelled_caught
    assert server.accepted.wait(10)  # the client did reach the server
    assert client_sockets(server.port) == 0, held
    assert not unwrap(client)._transport.connections


def _interrupt_once_accepted(server: SilentServer, main: int) -> threading.Thread:
    def interrupt() -> None:
        server.accepted.wait(10)
        time.sleep(0.2)  # the main thread is now blocked in the handshake or the tunnel
        signal.pthread_kill(main, signal.SIGINT)

    thread = threading.Thread(target=interrupt, daemon=True)
    thread.start()
    return thread
