"""The benchmarks' server: oxide's MockServer in a child process, on a free port of 127.0.0.1.

A separate process, so that `time.process_time()` in the benchmark counts the
client's CPU only: the server's work is the same for every client and stays out
of the CPU column (it is in the wall clock). `serve()` starts it and stops it;
run as ``python -m oxide_io._bench.server`` it is the child: it prints its base
URL, then serves until its standard input closes (so it never outlives the
benchmark that started it, even one killed without a chance to clean up).

With `tls` the server speaks HTTPS (and h2 by ALPN) with a certificate from a
throwaway CA (trustme), whose file the clients trust; with `tool_calls` every
reply, over HTTP or the Responses WebSocket, is a forced `get_weather` function
call, after `delay` seconds: an agent's tool loop.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

__all__ = ["Server", "serve"]


@dataclass(frozen=True)
class Server:
    base_url: str
    ca_file: str | None  # the CA to trust when the server speaks TLS
    pid: int = 0  # the child process serving


def _certificates(directory: str) -> tuple[str, str, str]:
    """(CA file, certificate chain, key) for 127.0.0.1, written under `directory`."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file = os.path.join(directory, "ca.pem")
    chain, key = os.path.join(directory, "server.pem"), os.path.join(directory, "server.key")
    ca.cert_pem.write_to_path(ca_file)
    cert.private_key_pem.write_to_path(key)
    for i, blob in enumerate(cert.cert_chain_pems):
        blob.write_to_path(chain, append=i > 0)
    return ca_file, chain, key


@contextlib.contextmanager
def serve(tls: bool = False, tool_calls: bool = False, delay: float = 0.0) -> Iterator[Server]:
    """The mock server in a child process; stopped (stdin closed, then killed) on exit."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "oxide_io._bench.server", "--delay", str(delay)]
        ca_file = None
        if tls:
            ca_file, chain, key = _certificates(tmp)
            command += ["--certfile", chain, "--keyfile", key]
        if tool_calls:
            command.append("--tool-calls")
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline().strip()
            if not line.startswith("http"):
                raise RuntimeError(f"the mock server did not start (it printed {line!r})")
            yield Server(line, ca_file, process.pid)
        finally:
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """The child: serve until standard input closes."""
    from oxide_io.testing import Delay, MockServer, ToolCall, ToolCalls

    parser = argparse.ArgumentParser(prog="python -m oxide_io._bench.server")
    parser.add_argument("--certfile")
    parser.add_argument("--keyfile")
    parser.add_argument("--tool-calls", action="store_true")
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    context = None
    if args.certfile:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.certfile, args.keyfile)
    with MockServer(tls=context, host="127.0.0.1", port=0) as server:
        if args.delay > 0:
            server.enqueue(Delay(args.delay, times=None))
        if args.tool_calls:
            server.enqueue(ToolCalls([ToolCall("get_weather", {"city": "Paris"})], times=None))
        print(server.base_url, flush=True)
        sys.stdin.read()
    return 0


if __name__ == "__main__":
    sys.exit(main())
