"""HTTP/2 streams of one connection read by one task (or thread) for all.

While one caller reads the connection, the others wait each for its own stream:
a read wakes the callers it brought something for, a caller whose read timeout
passes gives up without waiting for the reader, and a caller that leaves
(cancelled, timed out, answered) hands the reading on, so nobody is left waiting
for a read that no one makes.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from oxide_io import APITimeoutError
from oxide_io.testing import Delay, MockServer
from tests.io.conftest import MakeClient
from tests.io.test_pool import concurrently

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MESSAGES = [{"role": "user", "content": "Hello there"}]


@pytest.fixture
def server(plain_server: MockServer) -> Any:
    plain_server.clear()
    yield plain_server
    plain_server.clear()


def h2c_client(make_client: MakeClient, server: MockServer, **options: Any) -> Any:
    return make_client(base_url=server.base_url, h2c=True, max_retries=0, **options)


async def pause(runtime: str, seconds: float) -> None:
    if runtime == "sync":
        time.sleep(seconds)
    else:
        await anyio.sleep(seconds)


class Counting:
    """Counts the waits of the callers of one client's connections and their wake-ups."""

    def __init__(self, client: Any) -> None:
        backend = client._transport.backend
        make_factory = backend.waiter_factory
        self.waits = 0
        self.wakes = 0

        def factory() -> Callable[[], Any]:
            make = make_factory()

            def counted() -> Any:
                self.waits += 1
                return _CountedWaiter(make(), self)

            return counted

        backend.waiter_factory = factory


class _CountedWaiter:
    def __init__(self, inner: Any, counts: Counting) -> None:
        self._inner = inner
        self._counts = counts

    def wake(self) -> None:
        self._counts.wakes += 1
        self._inner.wake()

    def wait(self, timeout: float | None) -> Any:
        return self._inner.wait(timeout)


async def test_a_waiting_call_times_out_while_another_reads(
    runtime: str, server: MockServer, make_client: MakeClient
) -> None:
    client = h2c_client(make_client, server)
    await client.models.list()  # the connection is open: both calls share it
    server.enqueue(Delay(3, times=2))
    outcome: dict[str, Any] = {}

    async def slow() -> None:
        await client.models.list()
        outcome["slow"] = "answered"

    async def hurried() -> None:
        await pause(runtime, 0.3)  # the slow call reads by now
        try:
            await client.models.list(timeout=0.3)
        except APITimeoutError:
            # The slow call is still waiting for its answer: this one did not
            # wait for the read that serves it.
            outcome["hurried"] = "timed out" + (" first" if "slow" not in outcome else "")

    await concurrently(runtime, [slow, hurried])
    assert outcome == {"slow": "answered", "hurried": "timed out first"}
    assert len(client._transport.connections) == 1
    assert (await client.models.list()).data  # and the connection still serves


async def test_concurrent_calls_wait_for_their_own_streams(
    runtime: str, server: MockServer, make_client: MakeClient
) -> None:
    # One connection, 40 calls at once: each caller waits about once for its
    # answer, woken by the read that brought it (a read that woke every waiting
    # caller would have them wait again and again), and nobody is woken twice.
    client = h2c_client(make_client, server, max_connections=1)
    await client.models.list()
    counting = Counting(client)
    calls = 40
    answers = await concurrently(
        runtime,
        [
            lambda: client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            for _ in range(calls)
        ],
    )
    assert all(answer.choices[0].message.content for answer in answers)
    assert len(client._transport.connections) == 1
    assert 0 < counting.waits <= 3 * calls
    assert counting.wakes <= counting.waits


@pytest.mark.parametrize("cancelled", [[0], [1], [0, 1]])
async def test_a_call_cancelled_while_others_wait_hands_the_reading_on(
    runtime: str, server: MockServer, make_client: MakeClient, cancelled: list[int]
) -> None:
    # The first call reads for all, the others wait. Cancelling the reader, or a
    # waiting call, or both, leaves the rest served.
    if runtime == "sync":
        pytest.skip("a blocking call cannot be cancelled")
    client = h2c_client(make_client, server)
    await client.models.list()
    server.enqueue(Delay(0.5, times=3))
    scopes = [anyio.CancelScope() for _ in range(3)]
    answered: list[int] = []

    async def call(index: int) -> None:
        with scopes[index]:
            await client.models.list()
            answered.append(index)

    async with anyio.create_task_group() as group:
        for index in range(3):
            group.start_soon(call, index)
            await anyio.sleep(0.05)  # in this order: the first reads
        for index in cancelled:
            scopes[index].cancel()
    assert sorted(answered) == [i for i in range(3) if i not in cancelled]
    assert (await client.models.list()).data


async def test_a_stream_waits_for_window_while_another_reads(
    runtime: str, server: MockServer, make_client: MakeClient
) -> None:
    # Uploads larger than the peer's windows, side by side on one connection:
    # a body waiting for window is woken by the read (its own or another's) that
    # brought the WINDOW_UPDATE.
    client = h2c_client(make_client, server, max_connections=1)
    await client.models.list()
    payload = b"x" * 300_000

    def upload(n: int) -> Callable[[], Awaitable[Any]]:
        return lambda: client.files.create(file=(f"f{n}.jsonl", payload), purpose="batch")

    files = await concurrently(runtime, [upload(n) for n in range(4)])
    assert [f.bytes for f in files] == [len(payload)] * 4
    assert len(client._transport.connections) == 1
