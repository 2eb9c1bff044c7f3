"""A client used before `os.fork()` keeps working in both processes.

The parent makes a call (its pool then holds a connection), forks, and the child
makes calls on the same client object: they must go over a connection of the
child's own. After the child exited, the parent's next call must reuse the very
connection it had: had the child sent anything on it (a TLS close_notify, an
HTTP/2 GOAWAY) or shut it down, the server would have closed it and the parent
would be on a new one. Covered over HTTP/1.1, h2c, HTTP/1.1+TLS and HTTP/2+TLS,
with the blocking client and `AsyncClient` on asyncio and on trio; plus a fork
taken while another thread holds the locks a child would need.

Forks happen outside any event loop (as pre-forking servers do); the child runs
its own loop. Children are bounded by an alarm and reaped (killed if late).
"""

from __future__ import annotations

import gc
import os
import shutil
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.from_thread import start_blocking_portal

from oxide_io import AsyncClient, Client, _tls
from tests.io.conftest import KEY, Setup

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform"),
]

CHILD_TIMEOUT = 20.0
MESSAGES = [{"role": "user", "content": "Hello there"}]


def _in_child(body: Callable[[], None]) -> int:
    """Forks; the child runs `body` and exits 0 if it returned, 1 if it raised. Returns
    the child's exit status (killed after `CHILD_TIMEOUT`)."""
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            signal.alarm(int(CHILD_TIMEOUT))
            body()
            code = 0
        except BaseException as exc:
            print(f"fork child failed: {exc!r}", file=sys.stderr, flush=True)
        finally:
            os._exit(code)
    deadline = time.monotonic() + CHILD_TIMEOUT + 5
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return -signal.SIGKILL
        time.sleep(0.01)


def _client(runtime: str, setup: Setup) -> Any:
    options = {"api_key": KEY, "timeout": 10.0, "max_retries": 0, **setup.options}
    return Client(**options) if runtime == "sync" else AsyncClient(**options)


@contextmanager
def _parent_runner(runtime: str) -> Iterator[Callable[..., Any]]:
    """Runs the parent's calls: directly, or on an event loop in a thread (its
    connections belong to that loop, which stays up across the fork, as a server's
    loop would)."""
    if runtime == "sync":
        yield lambda call, *args: call(*args)
        return
    with start_blocking_portal(backend=runtime) as portal:
        yield portal.call


@pytest.mark.parametrize("runtime", ["sync", "asyncio", "trio"])
def test_parent_and_child_share_a_client_not_a_connection(
    runtime: str, any_transport: Setup
) -> None:
    client = _client(runtime, any_transport)
    server = any_transport.server
    create = client.chat.completions.create
    with _parent_runner(runtime) as run:
        try:
            run(partial(create, model="gpt-4o", messages=MESSAGES))
            (before,) = client._transport.connections
            assert before.http_version == any_transport.http_version
            started = before.requests_started

            async def calls() -> None:
                for _ in range(2):
                    completion = await create(model="gpt-4o", messages=MESSAGES)
                    assert completion.choices[0].message.content

            def child() -> None:
                # The inherited pool is empty: the child opens its own connection.
                assert client._transport.connections == []
                assert client._transport._pool.connection_count == 0
                if runtime == "sync":
                    for _ in range(2):
                        assert create(model="gpt-4o", messages=MESSAGES).choices
                else:
                    anyio.run(calls, backend=runtime)
                (own,) = client._transport.connections
                assert own is not before and own.requests_started == 2

            assert _in_child(child) == 0
            # The child's requests reached the server, over the same protocol.
            assert [r.http_version for r in server.requests[-2:]] == [
                "2" if any_transport.http_version == "HTTP/2" else "1.1"
            ] * 2
            run(partial(create, model="gpt-4o", messages=MESSAGES))
            # Same connection, one more request on it: nothing the child did reached it.
            assert client._transport.connections == [before]
            assert before.requests_started == started + 1
            assert before.is_reusable
        finally:
            run(client.close)


def test_fork_while_other_threads_hold_locks(mock: Setup, ca_path: str, tmp_path: Path) -> None:
    """The transport's state lock and the TLS context cache's lock, taken by another
    thread at the moment of the fork, are not held in the child."""
    client = _client("sync", mock)
    ca_copy = tmp_path / "ca.pem"
    shutil.copy(ca_path, ca_copy)  # a trust the cache has not seen: the child builds it
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with client._transport._state, _tls._lock:
            taken.set()
            release.wait(30)

    try:
        client.models.list()
        holder = threading.Thread(target=hold, daemon=True)
        holder.start()
        assert taken.wait(10)

        def child() -> None:
            assert client.models.list().data
            assert _tls.ssl_context(str(ca_copy), "http") is not None

        try:
            assert _in_child(child) == 0
        finally:
            release.set()
            holder.join(10)
        client.models.list()
    finally:
        client.close()


def test_transports_are_registered_weakly(mock: Setup) -> None:
    from oxide_io._sync import _transport

    client = _client("sync", mock)
    transport = client._transport
    assert transport in _transport._TRANSPORTS
    gone = weakref.ref(transport)
    del client, transport
    gc.collect()
    assert gone() is None
