"""Runs one bulk job in a child process, for the tests that kill or interrupt it
part-way or make its output unwritable.

    python -m tests.io.bulk_child RUNTIME BASE_URL INPUT OUTPUT [MAX_FILE_SIZE]
    python -m tests.io.bulk_child RUNTIME BASE_URL INPUT OUTPUT interrupt:N:POINT:HOW

RUNTIME is sync, asyncio or trio. Prints "started" once the job is under way.
With MAX_FILE_SIZE (bytes), no file of the process may grow past it (the OS
refuses the write, as on a full disk): the job's `except OSError` prints
"OSError <errno>" and exits with status 3.

With `interrupt:N:POINT:HOW`, the N-th result written is interrupted at POINT
of its write and count: "partial" (half the line written), "written" (the
whole line written, inside the writer) or "counted" (the writer done, before
the runner counts it). HOW is "raise" (a KeyboardInterrupt raised right
there, as one landing at that bytecode is) or "signal" (a real SIGINT sent to
the process right there, which the runtime handles as it does a Ctrl-C). The
job's `except KeyboardInterrupt` prints "KeyboardInterrupt" and exits with
status 130.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import oxide_io._bulk_files as files
from oxide_io import AsyncClient, Client, bulk

KEY = "sk-test-0123456789abcdefSECRET"


def _interrupt_at(number: int, point: str, how: str) -> None:
    """Makes the `number`-th result's write stop at `point` (see the module docstring)."""
    writes = 0

    def interrupt() -> None:
        if how == "signal":
            os.kill(os.getpid(), signal.SIGINT)  # to the process: its main thread takes it
        else:
            raise KeyboardInterrupt

    system_write = files.ResultWriter._os_write
    writer_write = files.ResultWriter.write
    halves: list[int] = []

    def os_write(fd: int, data: Any) -> int:
        if writes != number:
            return system_write(fd, data)
        if point == "partial":
            if not halves:  # a short write, as the OS may do
                halves.append(system_write(fd, data[: len(data) // 2]))
                return halves[0]
            interrupt()  # before the second half
        written = system_write(fd, data)
        if point == "written":
            interrupt()
        return written

    def write(writer: files.ResultWriter, line: bytes, failed: bool = False) -> None:
        nonlocal writes
        writes += 1
        writer_write(writer, line, failed)
        if writes == number and point == "counted":
            interrupt()

    files.ResultWriter._os_write = staticmethod(os_write)
    files.ResultWriter.write = write  # type: ignore[method-assign,assignment]


def main() -> None:
    runtime, base_url, source, output = sys.argv[1:5]
    if len(sys.argv) > 5 and sys.argv[5].startswith("interrupt:"):
        _, number, point, how = sys.argv[5].split(":")
        _interrupt_at(int(number), point, how)
    elif len(sys.argv) > 5:
        import resource

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
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
