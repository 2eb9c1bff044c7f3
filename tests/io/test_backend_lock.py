"""The async driver's lock: mutual exclusion, first come first served, cancellation-safe.

A free lock is taken without a pass through the event loop; these tests check that
the waiting path keeps the guarantees of a lock on asyncio and on trio.
"""

from __future__ import annotations

import anyio
import pytest

from oxide_io._backends._anyio import AsyncLock


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.anyio
async def test_one_holder_at_a_time_in_arrival_order() -> None:
    lock = AsyncLock()
    inside: list[int] = []
    order: list[int] = []

    async def worker(n: int) -> None:
        async with lock:
            inside.append(n)
            assert len(inside) == 1
            order.append(n)
            await anyio.sleep(0.001)
            inside.remove(n)

    async with anyio.create_task_group() as tg:
        for n in range(5):
            tg.start_soon(worker, n)
            await anyio.sleep(0)  # each worker queues before the next starts
    assert order == [0, 1, 2, 3, 4]


@pytest.mark.anyio
async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    lock = AsyncLock()
    got: list[str] = []

    async def waiter(name: str) -> None:
        async with lock:
            got.append(name)

    async with lock, anyio.create_task_group() as tg:
        tg.start_soon(waiter, "cancelled")
        await anyio.sleep(0.01)
        tg.cancel_scope.cancel()
    # The lock is free again: nobody holds it on the cancelled waiter's behalf.
    with anyio.fail_after(1):
        async with lock:
            got.append("after")
    assert got == ["after"]


@pytest.mark.anyio
async def test_a_waiter_cancelled_as_the_lock_is_handed_over_passes_it_on() -> None:
    lock = AsyncLock()
    got: list[str] = []

    async def waiter(name: str, scope: anyio.CancelScope) -> None:
        with scope:
            async with lock:
                got.append(name)

    first, second = anyio.CancelScope(), anyio.CancelScope()
    async with anyio.create_task_group() as tg:
        await lock.__aenter__()
        tg.start_soon(waiter, "first", first)
        await anyio.sleep(0.01)
        tg.start_soon(waiter, "second", second)
        await anyio.sleep(0.01)
        await lock.__aexit__(None, None, None)  # handed to "first"...
        first.cancel()  # ...which is cancelled before it runs
    assert got in (["first", "second"], ["second"])
    with anyio.fail_after(1):
        async with lock:
            pass
