"""Bulk jobs: oxide's runner against the official SDK with asyncio.gather and a semaphore.

N small chat completions against a local HTTP/2 server (`python -m oxide_io.testing`,
h2c with prior knowledge, in a child process), at the same concurrency:

- `oxide bulk.arun`: the runner on asyncio (`AsyncClient(h2c=True)`), reading a
  JSONL file and writing results to a JSONL file;
- `oxide bulk.run`: the blocking runner (a pool of threads, `Client(h2c=True)`);
- `openai gather`: the SDK's `AsyncOpenAI` over httpx HTTP/2 (`http1=False,
  http2=True`), the usual script: read the file, one task per line under an
  `asyncio.Semaphore`, `asyncio.gather` them all, write each result as a line.

Each contender runs in a fresh child process, so its CPU time and peak RSS
(`ru_maxrss`) are its own; the table shows requests per second (wall), client
CPU per request, peak RSS, and ratios against the SDK. Before the numbers count,
each contender's output is checked: N lines, every custom_id once, every status
200. The server's rate limit is off: this measures the client side of a bulk
job, not the pacing.

The second table is the runner's memory against the input's size: the same job
at 1x and 10x the lines (`--flat-sizes`); a flat runner has the same peak RSS
for both, where gather's grows with N (it holds every task at once).

Run: `python bench/bench_bulk.py` (about a minute on 2 cores), `--quick` for a
smoke run, `--requests 100000 --flat-sizes 100000,1000000` for large inputs
(minutes; the 1,000,000-line file is ~200 MB; the SDK runs the memory table only
up to `--sdk-max-lines`, `--flat-only` runs that table alone). Needs the official SDK
(`pip install -c constraints.txt -e . --group bench`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from typing import Any

CONTENDERS = ("oxide-async", "oxide-sync", "openai-gather")


@contextlib.contextmanager
def serve() -> Iterator[str]:
    """`python -m oxide_io.testing` (HTTP/1.1 and h2c) in a child process; its base URL."""
    command = [sys.executable, "-m", "oxide_io.testing", "--host", "127.0.0.1", "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("http"):
            raise RuntimeError(f"the mock server did not start (it printed {line!r})")
        yield line
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def write_input(path: str, count: int) -> None:
    with open(path, "w") as file:
        for number in range(count):
            body = {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": f"n{number}"}],
                "max_tokens": 16,
            }
            line = {
                "custom_id": f"r{number}",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": body,
            }
            file.write(json.dumps(line, separators=(",", ":")) + "\n")


def check_output(path: str, count: int) -> None:
    """Every custom_id once, every answer a 200: a contender that skipped work cannot win."""
    seen: set[str] = set()
    with open(path) as file:
        for line in file:
            record = json.loads(line)
            assert record["response"]["status_code"] == 200, record
            assert record["custom_id"] not in seen, record["custom_id"]
            seen.add(record["custom_id"])
    assert len(seen) == count, f"{path}: {len(seen)} results, not {count}"


# -- the contenders, each in a child process ------------------------------------------


def run_oxide_async(base_url: str, source: str, output: str, concurrency: int) -> None:
    from oxide_io import AsyncClient, bulk

    async def job() -> None:
        async with AsyncClient(base_url=base_url, api_key="sk-bench", h2c=True) as client:
            await bulk.arun(
                client, source, output, concurrency=concurrency, job_file=False, count_tokens=False
            )

    asyncio.run(job())


def run_oxide_sync(base_url: str, source: str, output: str, concurrency: int) -> None:
    from oxide_io import Client, bulk

    with Client(base_url=base_url, api_key="sk-bench", h2c=True) as client:
        bulk.run(
            client, source, output, concurrency=concurrency, job_file=False, count_tokens=False
        )


def run_openai_gather(base_url: str, source: str, output: str, concurrency: int) -> None:
    import openai

    async def job() -> None:
        http_client = openai.DefaultAsyncHttpxClient(http1=False, http2=True)
        client = openai.AsyncOpenAI(base_url=base_url, api_key="sk-bench", http_client=http_client)
        semaphore = asyncio.Semaphore(concurrency)
        with open(source) as file:
            requests = [json.loads(line) for line in file]
        with open(output, "w") as out:

            async def one(request: dict[str, Any]) -> None:
                async with semaphore:
                    raw = await client.chat.completions.with_raw_response.create(**request["body"])
                completion = raw.parse()
                record = {
                    "id": "",
                    "custom_id": request["custom_id"],
                    "response": {
                        "status_code": raw.status_code,
                        "request_id": raw.headers.get("x-request-id"),
                        "body": completion.model_dump(),
                    },
                    "error": None,
                }
                out.write(json.dumps(record) + "\n")

            await asyncio.gather(*(one(request) for request in requests))
        await client.close()

    asyncio.run(job())


def child(args: argparse.Namespace) -> int:
    runs = {
        "oxide-async": run_oxide_async,
        "oxide-sync": run_oxide_sync,
        "openai-gather": run_openai_gather,
    }
    # The imports are not the job's cost: load them before the clock starts.
    if args.child == "openai-gather":
        import openai  # noqa: F401
    else:
        import oxide_io.bulk  # noqa: F401
    started, cpu = time.perf_counter(), time.process_time()
    runs[args.child](args.base_url, args.input, args.output, args.concurrency)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    print(json.dumps({"wall": wall, "cpu": cpu, "rss": rss}))
    return 0


def measure(
    name: str, base_url: str, source: str, count: int, concurrency: int
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        output = os.path.join(tmp, "out.jsonl")
        command = [sys.executable, __file__, "--child", name, "--base-url", base_url]
        command += ["--input", source, "--output", output, "--concurrency", str(concurrency)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{name} failed:\n{done.stderr}")
        check_output(output, count)
        result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def _table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


def _mib(value: float) -> str:
    return f"{value / 2**20:.1f} MiB"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per run")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight")
    parser.add_argument("--rounds", type=int, default=2, help="runs per contender (median)")
    parser.add_argument(
        "--flat-sizes",
        default="2000,20000",
        help="input sizes for the runner's memory table (e.g. 100000,1000000)",
    )
    parser.add_argument(
        "--sdk-max-lines",
        type=int,
        default=100_000,
        help="largest input the SDK runs in the memory table (at ~50 req/s a "
        "1,000,000-line job would take hours)",
    )
    parser.add_argument(
        "--flat-only", action="store_true", help="only the memory table, not the speed table"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    if args.quick:
        args.requests, args.rounds, args.flat_sizes = 300, 1, "300,1500"
    sizes = [int(size) for size in args.flat_sizes.split(",")]
    with serve() as base_url, tempfile.TemporaryDirectory() as tmp:
        if not args.flat_only:
            source = os.path.join(tmp, "in.jsonl")
            write_input(source, args.requests)
            results: dict[str, list[dict[str, float]]] = {name: [] for name in CONTENDERS}
            for round_number in range(args.rounds):
                # Alternate the order, so a change of load hits every contender alike.
                order = CONTENDERS if round_number % 2 == 0 else tuple(reversed(CONTENDERS))
                for name in order:
                    results[name].append(
                        measure(name, base_url, source, args.requests, args.concurrency)
                    )

            def median(name: str, key: str) -> float:
                values = sorted(run[key] for run in results[name])
                return values[len(values) // 2]

            base_rate = args.requests / median("openai-gather", "wall")
            base_cpu = median("openai-gather", "cpu") / args.requests
            base_rss = median("openai-gather", "rss")
            rows = []
            for name in CONTENDERS:
                rate = args.requests / median(name, "wall")
                cpu = median(name, "cpu") / args.requests
                rss = median(name, "rss")
                rows.append(
                    [
                        name,
                        f"{rate:,.0f}",
                        f"{cpu * 1e6:,.0f} us",
                        _mib(rss),
                        f"{rate / base_rate:.2f}",
                        f"{cpu / base_cpu:.2f}",
                        f"{rss / base_rss:.2f}",
                    ]
                )
            _table(
                f"{args.requests} chat completions over h2c, concurrency {args.concurrency} "
                f"(median of {args.rounds}; ratios against openai-gather; CPU is the client's)",
                ["contender", "req/s", "CPU/req", "peak RSS", "x req/s", "x CPU", "x RSS"],
                rows,
            )

        rows = []
        for size in sizes:
            path = os.path.join(tmp, f"in-{size}.jsonl")
            write_input(path, size)
            row = [f"{size:,}"]
            for name in ("oxide-async", "openai-gather"):
                if name == "openai-gather" and size > args.sdk_max_lines:
                    row.append(f"not run (> {args.sdk_max_lines:,} lines)")
                    continue
                row.append(_mib(measure(name, base_url, path, size, args.concurrency)["rss"]))
            rows.append(row)
            os.unlink(path)
        _table(
            "peak RSS against the input's size (a flat runner stays the same)",
            ["lines", "oxide-async", "openai-gather"],
            rows,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
