"""Runs one bulk job in a child process, for the tests that kill it part-way.

    python -m tests.io.bulk_child RUNTIME BASE_URL INPUT OUTPUT

RUNTIME is sync, asyncio or trio. Prints "started" once the job is under way.
"""

from __future__ import annotations

import sys

from oxide_io import AsyncClient, Client, bulk

KEY = "sk-test-0123456789abcdefSECRET"


def main() -> None:
    runtime, base_url, source, output = sys.argv[1:5]
    print("started", flush=True)
    if runtime == "sync":
        with Client(base_url=base_url, api_key=KEY) as client:
            bulk.run(client, source, output, concurrency=8)
        return

    async def job() -> None:
        async with AsyncClient(base_url=base_url, api_key=KEY) as client:
            await bulk.arun(client, source, output, concurrency=8)

    if runtime == "trio":
        import trio

        trio.run(job)
    else:
        import asyncio

        asyncio.run(job())


if __name__ == "__main__":
    main()
