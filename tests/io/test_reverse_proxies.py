"""Through real reverse proxies: nginx and Caddy in front of the embedded server.

Opt-in (they need the `nginx` and `caddy` programs): run them with

    OXIDE_REVERSE_PROXIES=1 .venv/bin/python -m pytest tests/io/test_reverse_proxies.py

Without the variable they are skipped, and so is a proxy whose program is not
installed. See `tests/io/reverse_proxies.py` for how each proxy is set up.

- 100 requests at once over HTTP/2 (TLS, ALPN), with `max_retries=0`: nginx
  closes each connection after 10 requests (GOAWAY) and refuses streams over 8,
  Caddy takes them all on one connection. Every request succeeds and reaches
  the upstream once; the connections are counted from the proxy's access log.
- A streamed response passes event by event (`proxy_buffering off`, Caddy's
  flushing): the upstream stalls after two events, which the client still reads.
- The Responses WebSocket goes through the proxy's `Upgrade` handling.
"""

from __future__ import annotations

import math
import pathlib
import shutil
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from oxide_io.testing import MockServer, Stall
from tests.io.blocking import unwrap, wrap
from tests.io.conftest import MakeClient, Setup
from tests.io.reverse_proxies import PROXIES_ENABLED, ReverseProxy, run_caddy, run_nginx
from tests.io.test_pool import concurrently
from tests.servers import Certs

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.timeout(90),
    pytest.mark.skipif(
        not PROXIES_ENABLED, reason="opt-in: set OXIDE_REVERSE_PROXIES=1 (needs nginx, caddy)"
    ),
]

REQUESTS = 100
# nginx's settings here (see reverse_proxies.run_nginx).
KEEPALIVE_REQUESTS = 10
MAX_STREAMS = 8


@pytest.fixture(scope="module", params=["nginx", "caddy"])
def proxy(
    request: pytest.FixtureRequest,
    certs: Certs,
    plain_server: MockServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ReverseProxy]:
    name = str(request.param)
    if shutil.which(name) is None and not pathlib.Path(f"/usr/sbin/{name}").exists():
        pytest.skip(f"{name} is not installed")
    directory = tmp_path_factory.mktemp(name)
    if name == "nginx":
        run = run_nginx(
            certs,
            plain_server.port,
            directory,
            keepalive_requests=KEEPALIVE_REQUESTS,
            max_streams=MAX_STREAMS,
        )
    else:
        run = run_caddy(certs, plain_server.port, directory)
    with run as started:
        yield started


async def test_a_burst_of_requests_over_http2(
    runtime: str, proxy: ReverseProxy, mock: Setup, make_client: MakeClient, certs: Certs
) -> None:
    client = make_client(base_url=proxy.https_url, verify=certs.ca_pem, max_retries=0)
    before = len(proxy.requests())
    calls = [
        lambda i=i: client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": f"number {i}"}]
        )
        for i in range(REQUESTS)
    ]
    results = await concurrently(runtime, calls)
    assert len(results) == REQUESTS
    sent = Counter(r.json["messages"][0]["content"] for r in mock.server.requests)
    assert sent == Counter(f"number {i}" for i in range(REQUESTS)), "lost or repeated"
    await client.aclose()  # the proxy logs a request once its connection is done with it
    logged = proxy.requests()[before:]
    assert {protocol for _, protocol, _ in logged} == {"HTTP/2.0"}
    connections = proxy.connections_of(logged)
    if proxy.name == "nginx":
        # Each connection carries 10 requests at most: 10 connections at least.
        # A full one (8 streams) makes room for another: never more than both
        # limits call for (measured: 10 or 11).
        fewest = math.ceil(REQUESTS / KEEPALIVE_REQUESTS)
        assert fewest <= connections <= fewest + math.ceil(REQUESTS / MAX_STREAMS)
    else:
        assert connections == 1  # Go's server takes 250 streams a connection


async def test_a_stream_passes_event_by_event(
    runtime: str, proxy: ReverseProxy, mock: Setup, make_client: MakeClient, certs: Certs
) -> None:
    # The upstream sends two events and then nothing: a proxy that buffered them
    # would leave the client waiting until its read timeout.
    mock.server.enqueue(Stall(after_events=2))
    client = make_client(base_url=proxy.https_url, verify=certs.ca_pem, max_retries=0, timeout=30)
    stream = await client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    first = await stream.__anext__()
    second = await stream.__anext__()
    assert first.choices[0].delta.role == "assistant"
    assert second.choices[0].delta.content
    await stream.aclose()


@pytest.mark.parametrize("scheme", ["ws", "wss"])
async def test_the_responses_websocket_goes_through(
    runtime: str,
    proxy: ReverseProxy,
    mock: Setup,
    make_client: MakeClient,
    certs: Certs,
    scheme: str,
) -> None:
    url = proxy.https_url if scheme == "wss" else proxy.http_url
    client = make_client(base_url=url, verify=certs.ca_pem, max_retries=0)
    manager: Any = (
        wrap(unwrap(client).responses.connect())
        if runtime == "sync"
        else client.responses.connect()
    )
    kinds: list[str] = []
    async with manager as connection:
        await connection.response.create(model="gpt-4o-mini", input="Hi")
        async for event in connection:
            kinds.append(event.type)
            if event.type == "response.completed":
                break
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert [r.http_version for r in mock.server.requests] == ["websocket"]
