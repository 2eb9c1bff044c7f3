"""Request bodies larger than the socket takes at once, in every runtime.

A plain-TCP request is written straight to the socket; what the socket does not
take at once waits for it to drain, within the write timeout. A body bigger than
loopback's buffers makes the first write partial: the rest must follow, whole and
in order, and a peer that never reads must end in a write timeout, not a hang.
"""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import oxide_io
from tests.io.conftest import MakeClient
from tests.io.scripted import Seen, response, scripted_server

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

# Well over what loopback buffers hold, so the first write cannot take it all.
BIG = 12 * 1024 * 1024


def _digest(seen: Seen) -> bytes:
    answer = {"size": len(seen.body), "sha256": hashlib.sha256(seen.body).hexdigest()}
    return response(200, json.dumps(answer).encode())


async def test_a_body_bigger_than_the_socket_buffers_arrives_whole(
    make_client: MakeClient,
) -> None:
    text = "".join(chr(ord("a") + i % 26) for i in range(BIG // 16)) * 16
    sent = json.dumps({"data": text}, separators=(",", ":")).encode()
    with scripted_server(_digest) as server:
        client = make_client(None, base_url=server.base_url, max_retries=0)
        for _ in range(2):  # the connection stays usable after a drained write
            got = await client.post("/echo", cast_to=dict, body={"data": text})
            assert got == {"size": len(sent), "sha256": hashlib.sha256(sent).hexdigest()}
        assert server.connections == 1


@contextmanager
def _deaf_server() -> Iterator[str]:
    """Accepts connections and never reads from them."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    try:
        listener.settimeout(0.1)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    finally:
        try:
            while True:
                accepted.append(listener.accept()[0])
        except OSError:
            pass
        for peer in accepted:
            peer.close()
        listener.close()


async def test_a_peer_that_never_reads_ends_in_a_write_timeout(make_client: MakeClient) -> None:
    with _deaf_server() as base_url:
        client = make_client(
            None, base_url=base_url, max_retries=0, timeout=oxide_io.Timeout(10, write=0.5)
        )
        with pytest.raises(oxide_io.APITimeoutError):
            await client.post("/echo", cast_to=dict, body={"data": "x" * BIG})
