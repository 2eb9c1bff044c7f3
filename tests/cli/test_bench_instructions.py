"""The instruction-count benchmark: its workloads run and its table reads right.

The counts themselves need valgrind and minutes; here every workload runs once,
without valgrind, against the mock server in a child process (a failing call
fails the workload), and the table is checked on made-up figures.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from oxide_io._bench.instructions import BATCH_TARGETS, CALL_TARGETS, Figure, _levels, table
from oxide_io._bench.server import serve

RUNS = [
    *[(target, "call") for target in CALL_TARGETS],
    ("trio", "stream"),
    ("floor_sync", "stream"),
    *[(target, "batch") for target in BATCH_TARGETS],
]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve(False) as server:
        yield server.base_url


@pytest.mark.parametrize(("target", "work"), RUNS)
def test_every_workload_runs(url: str, target: str, work: str) -> None:
    command = [sys.executable, "-m", "oxide_io._bench.instructions", "run"]
    done = subprocess.run(
        [*command, target, work, url, "5", "2"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_the_table_divides_by_the_floor_of_the_same_runtime_and_protocol() -> None:
    figures = [
        Figure("floor_sync", "call", 100),
        Figure("floor_asyncio", "call", 200),
        Figure("sync", "call", 150),
        Figure("trio", "call", 300),
        Figure("asyncio-h2", "batch", 500),
        Figure("floor_asyncio", "batch", 250),
        Figure("floor_asyncio-h2", "batch", 400),
        Figure("import oxide_io", "import", 10),
        Figure("import openai", "import", 100),
    ]
    rows = table(figures).splitlines()[2:]
    assert rows == [
        "| call | floor_sync | 100 |  |  |",
        "| call | floor_asyncio | 200 |  |  |",
        "| call | sync | 150 | 1.500 |  |",
        "| call | trio | 300 | 1.500 |  |",
        "| batch | asyncio-h2 | 500 | 1.250 | 2.000 |",
        "| batch | floor_asyncio | 250 |  |  |",
        "| batch | floor_asyncio-h2 | 400 |  | 1.600 |",
        "| import | import oxide_io | 10 | 0.100 of openai |  |",
        "| import | import openai | 100 | 1.000 of openai |  |",
    ]


def test_a_sweep_divides_each_level_by_the_floor_of_that_level() -> None:
    figures = [
        Figure("floor_asyncio", "batch 10", 100),
        Figure("asyncio", "batch 10", 150),
        Figure("floor_asyncio", "batch 500", 5000),
        Figure("asyncio", "batch 500", 6000),
    ]
    rows = table(figures).splitlines()[2:]
    assert rows[1] == "| batch 10 | asyncio | 150 | 1.500 |  |"
    assert rows[3] == "| batch 500 | asyncio | 6,000 | 1.200 |  |"
    assert _levels("1,10,100,500") == [1, 10, 100, 500]
    with pytest.raises(ValueError):
        _levels("10,0")


def test_the_h2_floor_multiplexes_a_batch_on_one_connection(url: str) -> None:
    import asyncio

    from oxide_io._bench.client import request_work
    from oxide_io._bench.floor_h2 import AsyncH2FloorClient

    job = request_work()

    async def main() -> int:
        client = AsyncH2FloorClient(base_url=url, api_key="sk-test")
        try:
            for _ in range(2):
                done = await asyncio.gather(*(job.acall(client) for _ in range(30)))
                assert done == [1] * 30
            return len(client._connections)
        finally:
            await client.aclose()

    # 30 streams fit in one connection (the mock server takes 100 at once).
    assert asyncio.run(main()) == 1
