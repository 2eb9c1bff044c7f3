"""Cancellation in each runtime leaves nothing half-open.

An asyncio task cancelled, or a trio cancel scope exited, while a request waits
for its head or a stream waits for its next event must give the connection
back: HTTP/1.1 closes it (the exchange cannot be finished), HTTP/2 resets the
stream and keeps the connection. In blocking code, a KeyboardInterrupt raised
while a read blocks does the same.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from typing import Any

import anyio
import pytest

from oxide_io.testing import Delay, Stall
from tests.io.blocking import unwrap
from tests.io.conftest import MakeClient, Setup
from tests.io.leaks import client_sockets

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MESSAGES = [{"role": "user", "content": "Hello there"}]


def pooled(client: Any) -> int:
    return len(client._transport.connections)


def _kept(setup: Setup) -> int:
    return 1 if setup.http_version == "HTTP/2" else 0


async def _stream_until_stalled(client: Any, started: anyio.Event | None = None) -> None:
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    async with stream:
        async for _ in stream:
            if started is not None:
                started.set()


async def _check_clean_and_usable(setup: Setup, client: Any) -> None:
    kept = pooled(client)
    if setup.http_version == "HTTP/2" and setup.options["base_url"].startswith("https"):
        # Over TLS, a cancel that lands while the connection is in the middle of a
        # read may close the connection instead of keeping it (seen once under heavy
        # load); either way nothing may be left half-open.
        assert kept in (0, 1)
    else:
        assert kept == _kept(setup)
    assert client_sockets(setup.port) == kept
    await client.models.list()
    assert pooled(client) == 1
    assert client_sockets(setup.port) == 1


@pytest.mark.parametrize("runtime", ["asyncio"])
async def test_asyncio_task_cancelled_mid_stream(
    runtime: str, any_transport: Setup, make_client: MakeClient
) -> None:
    client = make_client(any_transport, max_retries=0)
    any_transport.server.enqueue(Stall(after_events=1))
    started = anyio.Event()
    task = asyncio.create_task(_stream_until_stalled(client, started))
    await started.wait()
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _check_clean_and_usable(any_transport, client)


@pytest.mark.parametrize("runtime", ["asyncio"])
async def test_asyncio_task_cancelled_mid_request(
    runtime: str, any_transport: Setup, make_client: MakeClient
) -> None:
    client = make_client(any_transport, max_retries=0)
    any_transport.server.enqueue(Delay(5))
    task = asyncio.create_task(client.models.list())
    while not any_transport.server.requests:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _check_clean_and_usable(any_transport, client)


@pytest.mark.parametrize("runtime", ["trio"])
async def test_trio_cancel_scope_mid_stream(
    runtime: str, any_transport: Setup, make_client: MakeClient
) -> None:
    import trio

    client = make_client(any_transport, max_retries=0)
    any_transport.server.enqueue(Stall(after_events=1))
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            started = anyio.Event()
            nursery.start_soon(_stream_until_stalled, client, started)
            await started.wait()
            await trio.sleep(0.05)
            scope.cancel()
    assert scope.cancelled_caught
    await _check_clean_and_usable(any_transport, client)


@pytest.mark.parametrize("runtime", ["trio"])
async def test_trio_cancel_scope_mid_request(
    runtime: str, any_transport: Setup, make_client: MakeClient
) -> None:
    import trio

    client = make_client(any_transport, max_retries=0)
    any_transport.server.enqueue(Delay(5))
    with trio.move_on_after(0.3) as scope:
        await client.models.list()
    assert scope.cancelled_caught
    await _check_clean_and_usable(any_transport, client)


@pytest.mark.parametrize("runtime", ["asyncio", "trio"])
async def test_cancelled_while_waiting_for_the_pool(
    runtime: str, mock: Setup, make_client: MakeClient
) -> None:
    client = make_client(mock, max_retries=0, max_connections=1)
    mock.server.enqueue(Delay(0.5))
    async with anyio.create_task_group() as group:
        group.start_soon(client.models.list)
        while not mock.server.requests:
            await anyio.sleep(0.01)
        with anyio.move_on_after(0.1) as scope:
            await client.models.list()  # waits: the one connection is busy
        assert scope.cancelled_caught
    await client.models.list()
    assert pooled(client) == 1


def _interrupt_when_blocked(setup: Setup, main: int) -> threading.Thread:
    def interrupt() -> None:
        deadline = time.monotonic() + 10
        while not setup.server.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # the main thread is now blocked in a read
        signal.pthread_kill(main, signal.SIGINT)

    thread = threading.Thread(target=interrupt, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("runtime", ["sync"])
@pytest.mark.parametrize("where", ["head", "stream"])
async def test_keyboard_interrupt_in_blocking_read(
    runtime: str, any_transport: Setup, make_client: MakeClient, where: str
) -> None:
    client = unwrap(make_client(any_transport, max_retries=0))
    any_transport.server.enqueue(Delay(5) if where == "head" else Stall(after_events=1))
    thread = _interrupt_when_blocked(any_transport, threading.main_thread().ident or 0)
    with pytest.raises(KeyboardInterrupt):
        if where == "head":
            client.models.list()
        else:
            with client.chat.completions.create(
                model="gpt-4o", messages=MESSAGES, stream=True
            ) as stream:
                for _ in stream:
                    pass
    thread.join()
    assert pooled(client) == _kept(any_transport)
    assert client_sockets(any_transport.port) == _kept(any_transport)
    client.models.list()
    assert client_sockets(any_transport.port) == 1
    client.close()
    assert client_sockets(any_transport.port) == 0
