"""The blocking client shared by threads: a small HTTP/1.1 pool under contention, and a
WebSocket that one thread writes while another reads.

16 threads make 20 calls each through a pool of at most 4 connections (plain and
TLS): every answer must be the one to its own request (the server echoes a tag),
no more than 4 connections may ever be open, and the pool must end consistent
(nothing waiting, every connection idle and reusable). On a Realtime WebSocket
(plain and TLS, where one SSL object must never be used by two threads at once), a
thread sends session updates while another is blocked reading their answers: each
answer arrives, whole and in order. Every wait is bounded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from oxide_io import Client
from tests.io.conftest import KEY, Setup
from tests.io.leaks import client_sockets
from tests.io.ws_fixtures import _ws_api_plain as _ws_api_plain
from tests.io.ws_fixtures import _ws_api_tls as _ws_api_tls
from tests.servers import Certs
from tests.ws_api_server import WsApiServer

pytestmark = [pytest.mark.timeout(120)]

THREADS = 16
CALLS = 20
MAX_CONNECTIONS = 4


@pytest.fixture(params=["h1", "h1-tls"])
def http11(request: pytest.FixtureRequest, plain_server: Any, ca_path: str) -> Iterator[Setup]:
    if request.param == "h1":
        setup = Setup(plain_server, {"base_url": plain_server.base_url}, "HTTP/1.1")
    else:
        tls = request.getfixturevalue("tls_server")
        options = {"base_url": tls.base_url, "http2": False, "verify": ca_path}
        setup = Setup(tls, options, "HTTP/1.1")
    setup.server.clear()
    previous = setup.server.reply_text
    # The answer names the request it answers: crossed answers cannot pass.
    setup.server.reply_text = lambda body: f"echo {body['messages'][0]['content']}"
    yield setup
    setup.server.reply_text = previous
    setup.server.clear()


def test_http11_pool_under_contention(http11: Setup) -> None:
    client = Client(
        api_key=KEY,
        max_connections=MAX_CONNECTIONS,
        max_retries=0,
        timeout=30.0,
        **http11.options,
    )
    open_at_most = 0
    watching = threading.Event()

    def watch() -> None:
        # Samples the sockets open to the server while the calls run.
        nonlocal open_at_most
        while not watching.wait(0.005):
            open_at_most = max(open_at_most, client_sockets(http11.port))

    def calls(thread: int) -> list[tuple[str, str]]:
        answers = []
        for call in range(CALLS):
            tag = f"{thread}-{call}"
            completion = client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": tag}]
            )
            answers.append((tag, completion.choices[0].message.content))
        return answers

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            results = [
                f.result(timeout=100) for f in [pool.submit(calls, t) for t in range(THREADS)]
            ]
    finally:
        watching.set()
        watcher.join(5)
    try:
        answers = [answer for per_thread in results for answer in per_thread]
        assert len(answers) == THREADS * CALLS
        assert all(content == f"echo {tag}" for tag, content in answers)
        assert len(http11.server.requests) == THREADS * CALLS
        assert 1 <= open_at_most <= MAX_CONNECTIONS
        transport = client._transport
        pool = transport._pool
        connections = transport.connections
        assert 1 <= len(connections) <= MAX_CONNECTIONS
        assert pool.waiting_count == 0 and transport._waiters == {}
        assert pool.idle_count == pool.connection_count == len(connections)
        assert all(c.is_reusable and c.http_version == "HTTP/1.1" for c in connections)
        assert sum(c.requests_started for c in connections) <= THREADS * CALLS
    finally:
        client.close()
    assert client_sockets(http11.port) == 0


MESSAGES = 40
PAYLOAD = 16_384


@pytest.mark.parametrize("tls", [False, True], ids=["ws", "wss"])
def test_websocket_send_in_one_thread_while_another_reads(
    tls: bool, request: pytest.FixtureRequest, certs: Certs
) -> None:
    server: WsApiServer = request.getfixturevalue("_ws_api_tls" if tls else "_ws_api_plain")
    server.clear()
    options: dict[str, Any] = {"api_key": KEY, "base_url": server.base_url, "timeout": 30.0}
    if tls:
        options["verify"] = certs.ca_pem
    client = Client(**options)
    try:
        with client.realtime.connect(model="gpt-realtime") as conn:
            assert conn.recv().type == "session.created"
            received: list[str] = []
            reading = threading.Event()
            failures: list[BaseException] = []

            def read() -> None:
                try:
                    reading.set()
                    for _ in range(MESSAGES):
                        event = conn.recv()
                        assert event.type == "session.updated", event
                        received.append(event.session.instructions)
                except BaseException as exc:
                    failures.append(exc)

            reader = threading.Thread(target=read, daemon=True)
            reader.start()
            assert reading.wait(10)
            sent = []
            for number in range(MESSAGES):
                instructions = f"{number}:" + "x" * PAYLOAD
                conn.session.update(session={"type": "realtime", "instructions": instructions})
                sent.append(instructions)
            reader.join(60)
            assert not reader.is_alive(), "the reader did not get every answer in time"
            assert not failures, failures
            assert received == sent
        assert [e["session"]["instructions"] for e in server.received] == sent
    finally:
        client.close()
