"""Runs one bulk job in a child process, for the tests that kill it part-way or
make its output unwritable.

    python -m tests.io.bulk_child RUNTIME BASE_URL INPUT OUTPUT [MAX_FILE_SIZE]

RUNTIME is sync, asyncio or trio. Prints "started" once the job is under way.
With MAX_FILE_SIZE (bytes), no file of the process may grow past it (the OS
refuses the write, as on a full disk): the job's `except OSError` prints
"OSError <errno>" and exits with status 3.
"""

from __future__ import annotations

import sys

from oxide_io import AsyncClient, Client, bulk

KEY = "sk-test-0123456789abcdefSECRET"


def main() -> None:
    runtime, base_url, source, output = sys.argv[1:5]
    if len(sys.argv) > 5:
        import resource
        import signal

        # Without this the signal a refused write sends kills the process.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
        resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[5]), hard))
    print("started", flush=True)
    try:
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
    except OSError as exc:  # what a caller writes: an exception group would slip past it
        print("OSError", exc.errno, flush=True)
        sys.exit(3)


if __name__ == "__main__":
    main()
