"""HTTP/2 peers that push back as reverse proxies do: GOAWAY every N requests, a
small SETTINGS_MAX_CONCURRENT_STREAMS, streams refused over it.

100 requests at once, on each runtime, over h2c and TLS: every one succeeds,
the server processes each exactly once, and the TCP connections it accepted stay
within what the peer's limits call for. The clients run with `max_retries=0`: a
request the peer refused without processing it is requeued in the pool, which is
not a retry. The pool's own operations are counted too (connections it opened,
requests it requeued), never the time anything took.
"""

from __future__ import annotations

import math
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
import trustme

from oxide_io import APIConnectionError
from oxide_proto import MAX_REFUSALS, ConnectionPool
from tests.io.blocking import unwrap
from tests.io.conftest import MakeClient
from tests.io.h2_peers import PushbackServer
from tests.io.test_pool import concurrently

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

REQUESTS = 100


@pytest.fixture(scope="module")
def peer_tls(tls_ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture(params=["h2c", "h2-tls"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def peer(transport: str, peer_tls: ssl.SSLContext) -> Iterator[Any]:
    """`peer(**options)`: a `PushbackServer` over the test's transport, closed afterwards."""
    servers: list[PushbackServer] = []

    def start(**options: Any) -> PushbackServer:
        server = PushbackServer(tls=peer_tls if transport == "h2-tls" else None, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


class Counted:
    """Counts the pool operations of one client: connections opened, requeues, and the
    most connections open (or being opened) at once."""

    def __init__(self, client: Any) -> None:
        transport = client._transport
        pool: ConnectionPool = transport._pool
        self.opened = 0
        self.requeued = 0
        self.peak = 0
        opened, checkout = pool.opened, pool.checkout

        def counted_opened(*args: Any, **kwargs: Any) -> Any:
            self.opened += 1
            return opened(*args, **kwargs)

        def counted_checkout(*args: Any, **kwargs: Any) -> Any:
            self.requeued += bool(kwargs.get("requeue"))
            result = checkout(*args, **kwargs)
            self.peak = max(self.peak, pool.connection_count)
            return result

        pool.opened = counted_opened  # type: ignore[method-assign]
        pool.checkout = counted_checkout  # type: ignore[method-assign]


def client_for(
    make_client: MakeClient, server: PushbackServer, transport: str, ca_path: str, **more: Any
) -> Any:
    options: dict[str, Any] = {"base_url": server.base_url, "max_retries": 0, **more}
    if transport == "h2c":
        options["h2c"] = True
    else:
        options["verify"] = ca_path
    return make_client(**options)


async def burst(runtime: str, client: Any) -> list[str]:
    calls = [
        lambda i=i: client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": f"number {i}"}]
        )
        for i in range(REQUESTS)
    ]
    results = await concurrently(runtime, calls)
    return [r.choices[0].message.content for r in results]


def assert_each_processed_once(server: PushbackServer, answers: list[str]) -> None:
    assert answers == [f"answer to number {i}" for i in range(REQUESTS)]
    assert sorted(server.processed) == list(range(REQUESTS))
    assert set(server.processed.values()) == {1}, "a request was processed twice"


@pytest.mark.parametrize("every", [10, 50])
async def test_goaway_every_n_requests(
    runtime: str,
    transport: str,
    peer: Any,
    make_client: MakeClient,
    ca_path: str,
    every: int,
) -> None:
    # Each connection processes `every` requests and goes away; the requests it
    # refused share the next connection. Fewer connections cannot do.
    server = peer(goaway_every=every)
    client = client_for(make_client, server, transport, ca_path)
    counted = Counted(client)
    assert_each_processed_once(server, await burst(runtime, client))
    expected = math.ceil(REQUESTS / every)
    assert server.goaways == expected
    assert server.connections == counted.opened == expected
    # Each request refused comes back once per refusal, not once per connection.
    assert counted.requeued <= REQUESTS * expected


async def test_max_concurrent_streams_is_respected(
    runtime: str, transport: str, peer: Any, make_client: MakeClient, ca_path: str
) -> None:
    # The peer says 10 streams: the client waits for its SETTINGS before sharing
    # the connection, so nothing is refused; a full connection lets the pool open
    # another, never more than the 100 requests call for at 10 each.
    server = peer(max_streams=10)
    client = client_for(make_client, server, transport, ca_path)
    counted = Counted(client)
    assert_each_processed_once(server, await burst(runtime, client))
    assert server.refused == 0 and counted.requeued == 0
    assert server.peak_streams == 10
    assert 1 <= server.connections == counted.opened <= REQUESTS // 10


async def test_streams_refused_over_an_understated_limit_are_requeued(
    runtime: str, transport: str, peer: Any, make_client: MakeClient, ca_path: str
) -> None:
    # The peer says 100 streams but processes 10 and refuses the rest
    # (REFUSED_STREAM): each refusal lowers what the client sends it, and the
    # refused requests wait their turn without a retry.
    server = peer(max_streams=10, advertise=100)
    client = client_for(make_client, server, transport, ca_path)
    counted = Counted(client)
    assert_each_processed_once(server, await burst(runtime, client))
    assert server.refused > 0 and counted.requeued >= server.refused
    assert server.peak_streams == 10
    assert server.connections == counted.opened <= REQUESTS // 10


async def test_requeued_requests_stay_within_max_connections(
    runtime: str, transport: str, peer: Any, make_client: MakeClient, ca_path: str
) -> None:
    # Two connections allowed: a connection that went away is closed once its
    # streams end, and only then does the next one open.
    server = peer(goaway_every=10)
    client = client_for(make_client, server, transport, ca_path, max_connections=2)
    counted = Counted(client)
    assert_each_processed_once(server, await burst(runtime, client))
    assert counted.peak <= 2
    assert server.connections == counted.opened == 10


async def test_the_limit_learned_holds_for_the_next_connection(
    runtime: str, transport: str, peer: Any, make_client: MakeClient, ca_path: str
) -> None:
    # 10 streams at once, GOAWAY every 25 requests: each new connection is sent as
    # many streams as the last one took before its own SETTINGS arrive, and the
    # peer refuses none of them.
    server = peer(max_streams=10, goaway_every=25)
    client = client_for(make_client, server, transport, ca_path)
    counted = Counted(client)
    assert_each_processed_once(server, await burst(runtime, client))
    assert server.refused == 0 and server.peak_streams == 10
    assert server.connections == counted.opened


@pytest.mark.parametrize("raise_to", [None, 10], ids=["stays-0", "raised-to-10"])
async def test_a_peer_that_advertises_no_streams(
    runtime: str,
    transport: str,
    peer: Any,
    make_client: MakeClient,
    ca_path: str,
    raise_to: int | None,
) -> None:
    # SETTINGS_MAX_CONCURRENT_STREAMS = 0, yet the peer answers the stream each
    # connection opened with (sent before the SETTINGS came): no request hangs.
    # A connection at 0 takes no other request and is closed once idle; one raised
    # while its first request runs is shared as the peer then says.
    server = peer(advertise=0, raise_to=raise_to)
    client = client_for(make_client, server, transport, ca_path)
    counted = Counted(client)
    assert_each_processed_once(server, await burst(runtime, client))
    assert server.refused == 0 and server.connections == counted.opened
    if raise_to is None:
        assert counted.opened == REQUESTS  # one request per connection, none idle after
        assert unwrap(client)._transport.connections == []
    else:
        assert counted.opened < REQUESTS and server.peak_streams > 1


async def test_a_peer_that_refuses_every_stream_is_a_typed_error(
    runtime: str, transport: str, peer: Any, make_client: MakeClient, ca_path: str
) -> None:
    # It says 0 and refuses every stream, the one sent before its SETTINGS too:
    # each refusal requeues the request on a new connection, a bounded number of
    # times, then the refusal is the error.
    server = peer(max_streams=0)
    client = client_for(make_client, server, transport, ca_path)
    with pytest.raises(APIConnectionError) as info:
        await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "number 0"}]
        )
    assert "REFUSED_STREAM" in str(info.value.__cause__)
    assert server.refused == server.connections == MAX_REFUSALS + 1
    assert not server.processed
