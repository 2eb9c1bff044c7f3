"""A TLS connection the peer closed: a write after a read that met the close.

Over HTTP/2 one task may read the peer's close while another writes on the same
connection. anyio's TLS stream then raises its `EndOfStream` from the write; the
backend must turn it into its own `WriteError` like any broken write (the client
maps that to `APIConnectionError`), on every runtime.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator

import anyio
import pytest
import trustme

from oxide_io._backends._anyio import AsyncBackend
from oxide_io._backends._errors import WriteError
from oxide_io._backends._sync import SyncBackend

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


@pytest.fixture
def closing_server(tls_ca: trustme.CA) -> Iterator[int]:
    """A TLS server that reads one byte of a connection, then closes it without a word."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("127.0.0.1").configure_cert(context)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            tls = context.wrap_socket(conn, server_side=True)
            tls.recv(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    thread.join(10)
    listener.close()


async def test_a_write_after_the_peers_close_is_a_write_error(
    closing_server: int, tls_ca: trustme.CA, runtime: str
) -> None:
    context = ssl.create_default_context()
    tls_ca.configure_trust(context)
    if runtime == "sync":
        sync = SyncBackend().connect("127.0.0.1", closing_server, ssl_context=context, timeout=5)
        sync.send(b"x", 5)
        assert sync.receive(5) == b""
        with pytest.raises(WriteError):
            for _ in range(20):  # the kernel may take a write or two before it refuses
                sync.send(b"y" * 1000, 5)
        sync.close()
        return
    stream = await AsyncBackend().connect(
        "127.0.0.1", closing_server, ssl_context=context, timeout=5
    )
    await stream.send(b"x", 5)
    assert await stream.receive(5) == b""
    with pytest.raises(WriteError):
        for _ in range(20):
            await stream.send(b"y" * 1000, 5)
            await anyio.sleep(0.01)
    await stream.aclose()
