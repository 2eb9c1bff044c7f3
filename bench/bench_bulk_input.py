"""Memory and time of a bulk job's input check and resume, without sending a request.

Generates an N-line JSONL input (and, with --done, an output holding results
for its first lines), runs the runner's `checked_input` and `resume_output`,
and prints the peak traced allocation and the process's peak RSS; with
--top, tracemalloc's largest allocation sites. What grows with N here is what
the runner keeps per line before its first request. With --resume, the run
goes on as a resumed job's does: it reads the input once more, as the
sending does, skipping the requests done (and sends nothing), and the
seconds are those of the whole resume.

    python bench/bench_bulk_input.py --lines 1000000 [--done 0] [--top 5]
    python bench/bench_bulk_input.py --lines 1000000 --done 1000000 --resume --no-trace
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc

from oxide_io._bulk_files import checked_input, read_input, resume_output
from oxide_proto import result_line


def _write_input(path: str, lines: int) -> None:
    with open(path, "wb") as file:
        for number in range(lines):
            file.write(
                b'{"custom_id":"request-%09d","method":"POST","url":"/v1/chat/completions",'
                b'"body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}}\n'
                % number
            )


def _write_output(path: str, lines: int) -> None:
    with open(path, "wb") as file:
        for number in range(lines):
            file.write(
                result_line(id="r", custom_id=f"request-{number:09d}", status_code=200, body={})
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--done", type=int, default=0, help="results already in the output")
    parser.add_argument("--top", type=int, default=0, help="show tracemalloc's top N sites")
    parser.add_argument("--no-trace", action="store_true", help="RSS only (faster)")
    parser.add_argument(
        "--resume", action="store_true", help="also read the input to send, as a resume does"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        input_path = os.path.join(directory, "input.jsonl")
        output_path = os.path.join(directory, "output.jsonl")
        _write_input(input_path, args.lines)
        if args.done:
            _write_output(output_path, args.done)
        base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if not args.no_trace:
            tracemalloc.start()
        started = time.perf_counter()
        total, ids = checked_input(input_path)
        checked = time.perf_counter()
        done, count, _failed = resume_output(output_path, ids)
        scanned = time.perf_counter()
        phases = f"check {checked - started:.1f} s, output {scanned - checked:.1f} s"
        if args.resume:
            del ids  # as the runner does: the done set is all its sending needs
            to_send = sum(1 for _ in read_input(input_path, skip=done))
            assert to_send == total - count, (to_send, total, count)
            phases += f", sending's reading {time.perf_counter() - scanned:.1f} s"
        elapsed = time.perf_counter() - started
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        print(f"lines={args.lines} done={count} total={total} seconds={elapsed:.1f} ({phases})")
        print(f"peak RSS {rss / 1024:.1f} MiB (before the check: {base_rss / 1024:.1f} MiB)")
        if not args.no_trace:
            snapshot = tracemalloc.take_snapshot()
            _current, peak = tracemalloc.get_traced_memory()
            print(f"traced peak {peak / 2**20:.1f} MiB = {peak / args.lines:.1f} bytes a line")
            for stat in snapshot.statistics("lineno")[: args.top]:
                print(f"  {stat}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
