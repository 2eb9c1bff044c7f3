"""Prism, Stoplight's mock server, serving the OpenAI spec with request validation.

Prism answers each operation with the spec's example response, but first checks
the request against the spec: a body, query or path parameter that breaks the
schema gets a 422 listing each violation, a request without credentials a 401.
It serves the paths without the `/v1` prefix and does not stream.

It is an npm package: `ensure_prism()` installs it into `.prism/` at the root of
the repository (`npm install --prefix .prism @stoplight/prism-cli@5`) unless it
is there already, and `run_prism()` starts it on a free port of 127.0.0.1, waits
until it answers (it reads the 4 MB spec for about 20 s) and stops it on exit.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

__all__ = ["PrismUnavailable", "ensure_prism", "run_prism", "SPEC"]

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPEC = ROOT / "spec" / "openai-openapi.prism.json"
PREFIX = ROOT / ".prism"
PACKAGE = "@stoplight/prism-cli@5"
BIN = PREFIX / "node_modules" / ".bin" / "prism"
INSTALL_TIMEOUT = 300.0
READY_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0


class PrismUnavailable(RuntimeError):
    """Node or npm is missing, or the package could not be installed."""


def ensure_prism() -> pathlib.Path:
    """The `prism` executable under `.prism/`, installed with npm if it is not there."""
    if BIN.exists():
        return BIN
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise PrismUnavailable("Prism needs Node.js and npm, which are not on PATH")
    command = ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(PREFIX), PACKAGE]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise PrismUnavailable(f"{' '.join(command)} took more than {INSTALL_TIMEOUT} s") from exc
    if done.returncode != 0 or not BIN.exists():
        raise PrismUnavailable(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return BIN


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/models", headers={"Authorization": "Bearer sk-ready"})
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


@contextlib.contextmanager
def run_prism(spec: pathlib.Path = SPEC) -> Iterator[str]:
    """Prism mocking `spec`; yields its base URL, ``http://127.0.0.1:PORT``."""
    executable = ensure_prism()
    port = _free_port()
    args = [str(executable), "mock", str(spec), "-h", "127.0.0.1", "-p", str(port)]
    # Prism logs every request; the log is kept for a start that fails.
    with tempfile.TemporaryFile() as log:
        env = {**os.environ, "NO_COLOR": "1"}
        process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while not _answers(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode(errors="replace")[-3000:]
                    state = (
                        f"exited with {process.returncode}"
                        if process.poll() is not None
                        else "timed out"
                    )
                    raise PrismUnavailable(f"Prism did not start ({state}): {args}\n{output}")
                time.sleep(0.25)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
