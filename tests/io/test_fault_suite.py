"""Every fault of the fault server and the fault proxy, one at a time, on every runtime.

Each test makes one call that meets one fault (`tests.io.fault_server`, asked for
with the `x-fault` header, or `tests.io.fault_proxy`, armed on the TCP proxy in
front of the server) and checks the outcome: the call's own answer or the typed
error the fault calls for. A clean call follows on the same client and must get
its own answer: a fault never leaves a connection behind that answers the next
call with stale bytes. The long, random version of this is the soak
(`tests/soak.py`, `bash scripts/soak`).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
import trustme

import oxide_io
from oxide_io import APIError
from oxide_proto import (
    RemoteProtocolError,
    WebSocketConnectionClosedError,
    WebSocketHandshakeError,
)
from tests.io.conftest import MakeClient
from tests.io.fault_proxy import KINDS, Fault, FaultProxy
from tests.io.fault_server import FaultServer, fault_server
from tests.io.ws_fixtures import Runtime
from tests.io.ws_fixtures import ws as ws
from tests.ws_api_server import WsApiServer, run_ws_api

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

TIMEOUT = 1.0  # the clients' timeout; stalls last longer (a loaded machine is slow)

# fault -> what a call that meets it may end with, per transport ("ok": its own answer).
EXPECTED: dict[str, dict[str, set[str]]] = {
    "status:500": {"*": {"InternalServerError"}},
    "status:429": {"*": {"RateLimitError"}},
    "status:400": {"*": {"BadRequestError"}},
    "redirect:307": {"*": {"ok"}},
    "redirect:308": {"*": {"ok"}},
    "redirect-loop": {"*": {"RedirectError"}},
    "bomb": {"*": {"ResponseTooLargeError"}},
    "huge-head": {"*": {"ResponseTooLargeError"}},
    "not-json": {"*": {"APIResponseValidationError"}},
    "truncate": {"*": {"APIConnectionError"}},
    f"stall:{TIMEOUT * 2}": {"*": {"APITimeoutError"}},
    "drip:0.001": {"*": {"ok"}},
    "delay:0.05": {"*": {"ok"}},
    "rst:0": {"*": {"APIConnectionError"}},
    "rst:40": {"*": {"APIConnectionError"}},
    "fin:0": {"*": {"APIConnectionError"}},
    "fin:40": {"*": {"APIConnectionError"}},
    "after": {"*": {"ok"}},
    "goaway": {"h1": {"ok"}, "h2c": {"APIConnectionError"}},
    "goaway-graceful": {"*": {"ok"}},
    "rst-stream:2": {"h1": {"ok"}, "h2c": {"APIConnectionError"}},
    "rst-stream:8": {"h1": {"ok"}, "h2c": {"APIConnectionError"}},
    "refused": {"h1": {"ok"}, "h2c": {"APIConnectionError"}},
    f"flow-stall:{TIMEOUT * 2}": {"h1": {"ok"}, "h2c": {"APITimeoutError"}},
}


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with fault_server() as running:
        yield running


@pytest.fixture(scope="module")
def proxy(server: FaultServer) -> Iterator[FaultProxy]:
    with FaultProxy(server.port) as running:
        yield running


def _nonce(name: str) -> str:
    return f"nonce-{name}"


async def _chat(client: Any, nonce: str, fault: str | None, stream: bool) -> str:
    headers = {"x-fault": fault} if fault else None
    messages = [{"role": "user", "content": nonce}]
    if fault and fault.startswith("flow-stall"):
        messages.insert(0, {"role": "system", "content": "x" * 100_000})
    try:
        if stream:
            chunks = await client.chat.completions.create(
                model="m", messages=messages, stream=True, extra_headers=headers
            )
            text = "".join([c.choices[0].delta.content or "" async for c in chunks if c.choices])
        else:
            reply = await client.chat.completions.create(
                model="m", messages=messages, extra_headers=headers
            )
            text = reply.choices[0].message.content
    except APIError as exc:
        return type(exc).__name__
    assert nonce in text, f"another call's answer: {text!r}"
    return "ok"


def _client(make_client: MakeClient, port: int, transport: str, timeout: float = TIMEOUT) -> Any:
    options: dict[str, Any] = {"h2c": True} if transport == "h2c" else {}
    return make_client(
        None,
        base_url=f"http://127.0.0.1:{port}/v1",
        max_retries=0,
        timeout=timeout,
        **options,
    )


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize("transport", ["h1", "h2c"])
@pytest.mark.parametrize("fault", sorted(EXPECTED))
async def test_server_fault(
    make_client: MakeClient, server: FaultServer, fault: str, transport: str, stream: bool
) -> None:
    expected = EXPECTED[fault].get(transport) or EXPECTED[fault]["*"]
    client = _client(make_client, server.port, transport)
    outcome = await _chat(client, _nonce("faulty"), fault, stream)
    if stream and fault == "not-json":
        # Read as an event stream, an HTML page has no events and no end of stream.
        expected = {"APIResponseValidationError", "APIConnectionError"}
    assert outcome in expected
    if fault.startswith("stall") and transport == "h2c":
        # The fault server answers one stream at a time: the next waits out the stall.
        await anyio.sleep(TIMEOUT * 2)
    # The same client, the next call: its own answer.
    assert await _chat(client, _nonce("next"), None, stream) == "ok"


@pytest.mark.parametrize("transport", ["h1", "h2c"])
@pytest.mark.parametrize("after", [0, 200])
@pytest.mark.parametrize("kind", KINDS)
async def test_proxy_fault(
    make_client: MakeClient, proxy: FaultProxy, kind: str, after: int, transport: str
) -> None:
    # A drip or a delay must end in the answer: on a loaded machine the proxy's
    # thread can pause between two bytes for longer than the usual timeout.
    timeout = TIMEOUT * 10 if kind in ("drip", "delay") else TIMEOUT
    client = _client(make_client, proxy.port, transport, timeout)
    # A first clean call opens the connection, so the fault meets a reused one.
    assert await _chat(client, _nonce("first"), None, False) == "ok"
    seconds = {"stall": TIMEOUT * 2, "drip": 0.0005, "delay": 0.05}.get(kind, 0.0)
    proxy.arm(Fault(kind, after, seconds=seconds))
    try:
        outcome = await _chat(client, _nonce("faulty"), None, False)
    finally:
        proxy.arm(None)
    # Bytes that are not the answer's (garbage, a duplicated head) may spoil the JSON.
    assert outcome in {"ok", "APIConnectionError", "APITimeoutError", "APIResponseValidationError"}
    if kind in ("rst", "fin") and after >= 200:
        # Mid-answer. Before the answer's first bytes, a reused connection that breaks
        # is taken for one the server had closed: the request is sent again, once.
        assert outcome == "APIConnectionError"
    if kind in ("drip", "delay"):
        assert outcome == "ok"
    # At once, even after a stall: a connection silent past a read timeout is not
    # trusted with the next call (test_http2_connection_stalled_past_a_timeout).
    assert await _chat(client, _nonce("next"), None, False) == "ok"


async def test_http2_connection_stalled_past_a_timeout(
    make_client: MakeClient, proxy: FaultProxy
) -> None:
    client = _client(make_client, proxy.port, "h2c")
    assert await _chat(client, _nonce("first"), None, False) == "ok"
    accepted = proxy.accepted
    # The connection goes silent for far longer than the client waits for a read.
    proxy.arm(Fault("stall", 200, seconds=TIMEOUT * 10))
    try:
        assert await _chat(client, _nonce("faulty"), None, False) == "APITimeoutError"
    finally:
        proxy.arm(None)
    # The silent connection is asked for a PING first, which it never answers: the
    # next call goes over a new connection, well before the stall ends.
    assert await _chat(client, _nonce("next"), None, False) == "ok"
    assert proxy.accepted == accepted + 1
    assert await _chat(client, _nonce("then"), None, False) == "ok"
    assert proxy.accepted == accepted + 1  # the new connection, proved by its answers


async def test_a_call_cancelled_while_a_silent_connection_proves_itself(
    make_client: MakeClient, proxy: FaultProxy, runtime: str
) -> None:
    if runtime == "sync":
        pytest.skip("a blocking call cannot be cancelled")
    client = _client(make_client, proxy.port, "h2c")
    assert await _chat(client, _nonce("first"), None, False) == "ok"
    proxy.arm(Fault("stall", 200, seconds=TIMEOUT * 10))
    try:
        assert await _chat(client, _nonce("faulty"), None, False) == "APITimeoutError"
    finally:
        proxy.arm(None)
    # Cancelled while its PING waits (up to the connect timeout) for an ACK.
    with anyio.move_on_after(TIMEOUT / 4) as scope:
        await _chat(client, _nonce("cancelled"), None, False)
    assert scope.cancelled_caught
    # The stream it held is given back: the pool counts none in use, and the next
    # call proves the connection dead and goes over a new one.
    assert all(c.open_streams == 0 for c in client._transport._pool.snapshot())
    assert await _chat(client, _nonce("next"), None, False) == "ok"
    assert all(c.open_streams == 0 for c in client._transport._pool.snapshot())
    await client.aclose()
    assert proxy.wait_closed() == 0


async def test_http2_connection_slow_past_a_timeout_is_kept(
    make_client: MakeClient, proxy: FaultProxy
) -> None:
    # The PING may take as long as a connect: long enough for a loaded machine.
    timeout = oxide_io.Timeout(TIMEOUT, connect=30.0)
    client = make_client(
        None, base_url=f"http://127.0.0.1:{proxy.port}/v1", max_retries=0, timeout=timeout, h2c=True
    )
    assert await _chat(client, _nonce("first"), None, False) == "ok"
    accepted = proxy.accepted
    # One answer is late, the connection is not: it answers the PING, and stays.
    proxy.arm(Fault("delay", seconds=TIMEOUT * 1.5))
    try:
        assert await _chat(client, _nonce("faulty"), None, False) == "APITimeoutError"
    finally:
        proxy.arm(None)
    assert await _chat(client, _nonce("next"), None, False) == "ok"
    assert proxy.accepted == accepted


async def test_closing_the_client_closes_every_connection(
    make_client: MakeClient, proxy: FaultProxy
) -> None:
    client = _client(make_client, proxy.port, "h1")
    for index in range(3):
        assert await _chat(client, _nonce(str(index)), None, False) == "ok"
    assert proxy.open_connections >= 1
    await client.aclose()
    assert proxy.wait_closed() == 0


# -- WebSocket -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ws_server() -> Iterator[WsApiServer]:
    with run_ws_api() as running:
        yield running


@pytest.fixture
def ws_proxy(ws_server: WsApiServer) -> Iterator[FaultProxy]:
    with FaultProxy(ws_server.port) as running:
        yield running


async def _ws_turn(conn: Any, nonce: str) -> str:
    await conn.response.create(model="m", input=nonce)
    text = []
    async for event in conn:
        if event.type == "response.output_text.delta":
            text.append(event.delta)
        if event.type == "response.completed":
            return "".join(text)
    raise AssertionError("the connection ended without an answer")


async def _ws_faulty_turn(ws: Runtime, ws_proxy: FaultProxy, fault: Fault) -> Exception | str:
    """What the turn that meets `fault` ends with: its error, or its text."""
    client = ws.client(_Proxied(ws_proxy))  # type: ignore[arg-type]
    async with ws.connect_responses(client) as conn:
        assert nonce_in(await _ws_turn(conn, "nonce-before"), "nonce-before")
        ws_proxy.arm(fault)
        outcome: Exception | str
        try:
            outcome = await _ws_turn(conn, "nonce-faulty")
        except Exception as exc:
            outcome = exc
        finally:
            ws_proxy.arm(None)
    # A new connection on the same client answers its own request.
    async with ws.connect_responses(client) as conn:
        assert nonce_in(await _ws_turn(conn, "nonce-after"), "nonce-after")
    return outcome


def nonce_in(text: str, nonce: str) -> bool:
    return nonce in text


class _Proxied:
    """The WebSocket API server as seen through the proxy (what `ws.client` reads)."""

    def __init__(self, proxy: FaultProxy) -> None:
        self.base_url = f"http://127.0.0.1:{proxy.port}/v1"
        self.tls = None


@pytest.mark.parametrize("kind", ["rst", "fin", "stall"])
@pytest.mark.parametrize("after", [0, 3, 40])
async def test_websocket_dropped_mid_message(
    ws: Runtime, ws_proxy: FaultProxy, kind: str, after: int
) -> None:
    fault = Fault(kind, after, seconds=1.0)
    error = await _ws_faulty_turn(ws, ws_proxy, fault)
    assert isinstance(error, (WebSocketConnectionClosedError, oxide_io.APIConnectionError))
    if isinstance(error, oxide_io.APIConnectionError):
        assert not isinstance(error.__cause__, oxide_io.APIError)  # the transport's own


@pytest.mark.parametrize("kind", ["garbage", "duplicate"])
async def test_websocket_corrupt_frame_is_a_typed_error(
    ws: Runtime, ws_proxy: FaultProxy, kind: str
) -> None:
    outcome = await _ws_faulty_turn(ws, ws_proxy, Fault(kind, 2))
    if isinstance(outcome, str):
        # The whole answer came in the chunk whose rest was sent twice: the answer
        # was read before the copy, which nothing reads after the turn's end.
        assert kind == "duplicate", outcome
        assert nonce_in(outcome, "nonce-faulty"), outcome
        return
    assert isinstance(outcome, (APIError, WebSocketConnectionClosedError)), repr(outcome)
    if isinstance(outcome, oxide_io.APIConnectionError):
        # A frame that breaks the protocol: the session's error is the cause.
        assert isinstance(outcome.__cause__, RemoteProtocolError), repr(outcome.__cause__)


# -- TLS -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_proxy(tls_ca: trustme.CA) -> Iterator[FaultProxy]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("127.0.0.1").configure_cert(context)
    with fault_server(context) as running, FaultProxy(running.port) as proxy:
        yield proxy


@pytest.mark.parametrize("kind", ["fin", "rst"])
@pytest.mark.parametrize("after", [10, 2000])
async def test_tls_connection_cut_during_the_handshake(
    make_client: MakeClient,
    tls_proxy: FaultProxy,
    ca_path: str,
    runtime: str,
    kind: str,
    after: int,
    request: pytest.FixtureRequest,
) -> None:
    client = make_client(
        None,
        base_url=f"https://127.0.0.1:{tls_proxy.port}/v1",
        verify=ca_path,
        max_retries=0,
        timeout=TIMEOUT,
    )
    # The first bytes back on a new connection are the server's half of the handshake.
    tls_proxy.arm(Fault(kind, after))
    try:
        outcome = await _chat(client, _nonce("faulty"), None, False)
    finally:
        tls_proxy.arm(None)
    assert outcome == "APIConnectionError"
    assert await _chat(client, _nonce("next"), None, False) == "ok"


@pytest.mark.parametrize("kind", ["garbage", "fin"])
async def test_websocket_broken_handshake_is_a_typed_error(
    ws: Runtime, ws_proxy: FaultProxy, kind: str
) -> None:
    client = ws.client(_Proxied(ws_proxy))  # type: ignore[arg-type]
    ws_proxy.arm(Fault(kind, 5))  # the first answer bytes are the handshake's
    try:
        with pytest.raises(Exception) as caught:
            async with ws.connect_responses(client) as conn:
                await _ws_turn(conn, "nonce-faulty")
    finally:
        ws_proxy.arm(None)
    error = caught.value
    # No answer to the upgrade, or not an HTTP one: a connection failure, as over HTTP.
    assert isinstance(error, oxide_io.APIConnectionError), repr(error)
    assert isinstance(error.__cause__, WebSocketHandshakeError), repr(error.__cause__)
    assert error.__cause__.status_code is None
    # The next connection of the same client is answered.
    async with ws.connect_responses(client) as conn:
        assert nonce_in(await _ws_turn(conn, "nonce-after"), "nonce-after")
