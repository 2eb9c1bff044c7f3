"""The connection pool: keep-alive reuse, HTTP/2 multiplexing, and streams handing back
their connection whether they end, are closed early or are simply dropped.

Connections are counted twice: by the pool (`client._transport.connections`)
and by the operating system (this process's sockets connected to the server's
port, see `tests.io.leaks`). An abandoned HTTP/1.1 response costs its
connection; an abandoned HTTP/2 stream is reset and the connection lives on.
"""

from __future__ import annotations

import gc
import inspect
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from types import FrameType
from typing import Any

import anyio
import pytest

import oxide_proto.http._connection_pool
from oxide_io import APITimeoutError, Timeout
from oxide_io._async import _connection as async_connection
from oxide_io._async import _transport as async_transport
from oxide_io._sync import _connection as sync_connection
from oxide_io._sync import _transport as sync_transport
from oxide_io.testing import Delay
from tests.io.blocking import run_now
from tests.io.conftest import MakeClient, Setup
from tests.io.leaks import client_sockets, open_fds

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MESSAGES = [{"role": "user", "content": "Hello there"}]


async def concurrently(runtime: str, calls: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    """Runs the calls at the same time: tasks in a task group, or threads for blocking code."""
    if runtime == "sync":
        with ThreadPoolExecutor(len(calls)) as pool:
            return list(pool.map(lambda call: run_now(call()), calls))
    results: list[Any] = [None] * len(calls)

    async def run(index: int) -> None:
        results[index] = await calls[index]()

    async with anyio.create_task_group() as group:
        for index in range(len(calls)):
            group.start_soon(run, index)
    return results


async def settled(predicate: Callable[[], bool]) -> bool:
    """Whether `predicate` holds within a few seconds (the server closes its ends on its own)."""
    with anyio.move_on_after(5):
        while not predicate():
            await anyio.sleep(0.02)
        return True
    return False


def pooled(client: Any) -> int:
    return len(client._transport.connections)


async def test_keep_alive_reuses_one_connection(
    any_transport: Setup, make_client: MakeClient
) -> None:
    client = make_client(any_transport)
    for _ in range(3):
        await client.models.list()
    await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert pooled(client) == 1
    assert client_sockets(any_transport.port) == 1


async def test_http2_multiplexes_concurrent_requests(
    runtime: str, h2_setups: Any, make_client: MakeClient
) -> None:
    for name in ("h2c", "h2-tls"):
        setup = h2_setups(name)
        client = make_client(setup)
        calls = [
            lambda i=i, client=client: client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": f"number {i}"}]
            )
            for i in range(10)
        ]
        results = await concurrently(runtime, calls)
        assert [r.choices[0].message.content for r in results] == [
            f'You said: "number {i}". This reply comes from the oxide mock server.'
            for i in range(10)
        ]
        assert pooled(client) == 1
        assert client_sockets(setup.port) == 1
        assert {r.http_version for r in setup.server.requests} == {"2"}
        await client.aclose()
        assert client_sockets(setup.port) == 0


async def test_one_tls_http2_connection_carries_many_concurrent_callers(
    runtime: str, h2_setups: Any, make_client: MakeClient
) -> None:
    # Threads of the blocking client send on the TLS connection while another
    # thread reads from it: reads and writes of one SSL object must not overlap.
    setup = h2_setups("h2-tls")
    client = make_client(setup)
    before = len(setup.server.requests)
    calls = [
        lambda i=i: client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": f"call {i}"}]
        )
        for i in range(40)
    ]
    for _ in range(3):
        results = await concurrently(runtime, calls)
        assert len(results) == 40
    assert pooled(client) == 1
    assert client_sockets(setup.port) == 1
    # None sent twice after a read that failed on a connection in use.
    assert len(setup.server.requests) - before == 120
    await client.aclose()


async def test_http2_concurrent_streams(
    runtime: str, h2_setups: Any, make_client: MakeClient
) -> None:
    setup = h2_setups("h2c")
    client = make_client(setup)

    async def one() -> str:
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True
        )
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    texts = await concurrently(runtime, [one] * 5)
    assert len(set(texts)) == 1
    assert pooled(client) == 1


async def test_http11_concurrency_opens_connections_then_keeps_them(
    runtime: str, mock: Setup, make_client: MakeClient
) -> None:
    client = make_client(mock)
    await concurrently(runtime, [client.models.list] * 4)
    assert 1 <= pooled(client) <= 4
    assert client_sockets(mock.port) == pooled(client)


@pytest.mark.parametrize("kind", ["chat", "responses"])
async def test_finished_stream_returns_its_connection(
    any_transport: Setup, make_client: MakeClient, kind: str
) -> None:
    client = make_client(any_transport)
    for _ in range(3):
        if kind == "chat":  # ends with data: [DONE]
            stream = await client.chat.completions.create(
                model="gpt-4o", messages=MESSAGES, stream=True
            )
        else:  # ends with the end of the body
            stream = await client.responses.create(model="gpt-4o", input="hi", stream=True)
        async for _ in stream:
            pass
        assert stream.response.is_closed
    assert pooled(client) == 1
    assert client_sockets(any_transport.port) == 1


def _expected_after_abandon(setup: Setup) -> int:
    # HTTP/1.1 cannot skip the rest of a body: the connection goes. HTTP/2 resets
    # the stream and keeps the connection.
    return 1 if setup.http_version == "HTTP/2" else 0


async def test_stream_left_inside_with_block(any_transport: Setup, make_client: MakeClient) -> None:
    client = make_client(any_transport)
    await client.models.list()
    fds = open_fds()
    async with await client.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True
    ) as stream:
        async for _ in stream:
            break
    expected = _expected_after_abandon(any_transport)
    assert pooled(client) == expected
    assert client_sockets(any_transport.port) == expected
    assert await settled(lambda: open_fds() <= fds - 2 * (1 - expected))
    # The pool still works, on the same connection for HTTP/2.
    await client.models.list()
    assert pooled(client) == 1
    assert client_sockets(any_transport.port) == 1


async def test_stream_closed_explicitly(any_transport: Setup, make_client: MakeClient) -> None:
    client = make_client(any_transport)
    stream = await client.responses.create(model="gpt-4o", input="hi", stream=True)
    first = await stream.__anext__()
    assert first.type == "response.created"
    await stream.aclose()
    await stream.aclose()  # idempotent
    expected = _expected_after_abandon(any_transport)
    assert pooled(client) == expected
    assert client_sockets(any_transport.port) == expected
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()


async def test_stream_dropped_without_closing(
    any_transport: Setup, make_client: MakeClient
) -> None:
    client = make_client(any_transport)
    for _ in range(3):
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True
        )
        async for _ in stream:
            break
        del stream
        gc.collect()
        await client.models.list()
    # Every dropped stream's connection was reclaimed: one connection in use.
    assert pooled(client) == 1
    assert client_sockets(any_transport.port) == 1


async def test_unread_raw_response_with_error_body_does_not_leak(
    mock: Setup, make_client: MakeClient
) -> None:
    client = make_client(mock)
    for _ in range(3):
        raw = await client.models.with_raw_response.list()
        assert raw.status_code == 200
    assert pooled(client) == 1


async def test_client_close_closes_every_socket(
    any_transport: Setup, make_client: MakeClient
) -> None:
    client = make_client(any_transport)
    await client.models.list()
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    await stream.__anext__()
    await client.aclose()
    assert pooled(client) == 0
    assert client_sockets(any_transport.port) == 0


POOL_FILES = {
    oxide_proto.http._connection_pool.__file__,
    async_transport.__file__,
    sync_transport.__file__,
}


async def pool_work(call: Callable[[], Awaitable[Any]]) -> int:
    """Lines of the pool and of the transport one call executes in this thread (work, not
    time): the server runs on its own thread, untraced."""
    count = 0

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if frame.f_code.co_filename not in POOL_FILES:
            return None
        if event == "line":
            count += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        await call()
    finally:
        sys.settrace(previous)
    return count


async def test_pool_work_per_request_does_not_grow_with_the_pool(
    runtime: str, mock: Setup, make_client: MakeClient
) -> None:
    # A request's pool bookkeeping is the same with 1 or 32 kept-alive connections:
    # no snapshot of every connection at each checkout or release.
    client = make_client(mock, max_keepalive_connections=None, keepalive_expiry=None)
    work: dict[int, list[int]] = {}
    for concurrent in (1, 8, 32):
        await concurrently(runtime, [client.models.list] * concurrent)
        await client.models.list()
        work[pooled(client)] = [await pool_work(client.models.list) for _ in range(3)]
    assert len(work) >= 2, f"the pool did not grow: {sorted(work)}"
    assert max(work) >= 8
    counts = {count for runs in work.values() for count in runs}
    assert len(counts) == 1, work


CONNECTION_FILES = {async_connection.__file__, sync_connection.__file__}


def connection_frames(runtime: str) -> int:
    """Frames of the connection module held by calls suspended in other tasks (or
    blocked in other threads, for the blocking client)."""
    if runtime == "sync":
        count = 0
        me = threading.get_ident()
        for ident, frame in sys._current_frames().items():
            walk: FrameType | None = None if ident == me else frame
            while walk is not None:
                count += walk.f_code.co_filename in CONNECTION_FILES
                walk = walk.f_back
        return count
    return sum(
        1
        for o in gc.get_objects()
        if inspect.iscoroutine(o)
        and o.cr_code.co_filename in CONNECTION_FILES
        and inspect.getcoroutinestate(o) == inspect.CORO_SUSPENDED
    )


async def test_an_http11_request_waiting_for_its_answer_holds_one_connection_frame(
    runtime: str, mock: Setup, make_client: MakeClient
) -> None:
    # Each request waiting for its answer keeps its frames until the answer comes,
    # and the garbage collector walks them at every collection: with hundreds
    # waiting, each frame the read holds costs every request. The HTTP/1.1 read
    # holds the connection's `next_event` only (it once went through two more).
    client = make_client(mock)
    await client.models.list()
    waiting = 3
    mock.server.enqueue(Delay(1.0, times=waiting))
    seen: list[int] = []

    async def call() -> None:
        if runtime == "sync":
            await anyio.to_thread.run_sync(lambda: run_now(client.models.list()))
        else:
            await client.models.list()

    async def look() -> None:
        assert await settled(lambda: len(mock.server.requests) == 1 + waiting)
        await anyio.sleep(0.2)  # the server holds the answers for a second: all read now
        seen.append(connection_frames(runtime))

    async with anyio.create_task_group() as group:
        for _ in range(waiting):
            group.start_soon(call)
        group.start_soon(look)
    assert seen == [waiting]


async def test_waiters_share_the_one_connection_in_turn(
    runtime: str, mock: Setup, make_client: MakeClient
) -> None:
    client = make_client(mock, max_connections=1)
    results = await concurrently(runtime, [client.models.list] * 6)
    assert len(results) == 6
    assert pooled(client) == 1
    assert client_sockets(mock.port) == 1


async def test_pool_timeout_while_the_only_connection_is_busy(
    runtime: str, mock: Setup, make_client: MakeClient
) -> None:
    client = make_client(mock, max_retries=0, max_connections=1, timeout=Timeout(10, pool=0.2))
    mock.server.enqueue(Delay(1.0))
    errors: list[BaseException] = []

    async def slow() -> None:
        await client.models.list()

    async def impatient() -> None:
        # Starts once the slow call holds the connection.
        deadline = time.monotonic() + 5
        while not mock.server.requests and time.monotonic() < deadline:
            if runtime == "sync":
                time.sleep(0.01)
            else:
                await anyio.sleep(0.01)
        try:
            await client.models.list()
        except APITimeoutError as exc:
            errors.append(exc)

    await concurrently(runtime, [slow, impatient])
    assert len(errors) == 1
    # The connection went back to the pool; the next call uses it.
    await client.models.list()
    assert pooled(client) == 1
    assert client_sockets(mock.port) == 1
