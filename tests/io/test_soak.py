"""A small seeded sample of the fault soak (`tests.soak`), run with the test suite.

Each runtime (blocking, asyncio, trio) makes a few dozen calls over each transport
(HTTP/1.1, h2c, HTTP/2 over TLS, the Responses WebSocket) through the fault proxy
and the fault server, with faults drawn from the same table as the long soak
(`bash scripts/soak`); then again over HTTP/1.1, h2c and HTTP/2 over TLS with
several calls in flight at once. Every call must end with its own answer or a typed error, within
the deadline, and closing the client must leave no connection, file descriptor or
thread behind.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.soak import Leg, Soak, run_leg, soak_servers, table

pytestmark = pytest.mark.timeout(120)

SEED = 20261205
CALLS = 40
CONCURRENCY = 6


@pytest.fixture(scope="module")
def soak() -> Iterator[Soak]:
    with soak_servers() as servers:
        yield servers


@pytest.mark.parametrize("transport", ["h1", "h2c", "tls", "ws"])
@pytest.mark.parametrize("runtime", ["sync", "asyncio", "trio"])
def test_soak_sample(soak: Soak, runtime: str, transport: str) -> None:
    check(soak, Leg("oxide", runtime, transport))


@pytest.mark.parametrize("transport", ["h1", "h2c", "tls"])
@pytest.mark.parametrize("runtime", ["sync", "asyncio", "trio"])
def test_soak_sample_concurrent(soak: Soak, runtime: str, transport: str) -> None:
    check(soak, Leg("oxide", runtime, transport, concurrency=CONCURRENCY))


def check(soak: Soak, leg: Leg) -> None:
    result = run_leg(soak, leg, calls=CALLS, seed=SEED, timeout=0.5, deadline=15.0)
    report = table([result])
    assert result.calls == CALLS, report
    assert not result.untyped, report
    assert result.wrong == 0, report
    assert result.hangs == 0, report
    assert result.server_connections_after == 0, report
    assert result.client_sockets_after == 0, report
    assert result.thread_delta <= 0, report
    assert result.fd_delta <= 0, report
    # The sample is drawn so that faults happen and most calls still succeed.
    assert sum(result.typed.values()) > 0, report
    assert result.ok > CALLS // 2, report
