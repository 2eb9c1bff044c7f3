"""Methods whose answer carries nothing return None, against a local server.

`live.sessions.hangup`, `containers.delete` and the other operations the spec
answers without a body (or that the official SDK types `-> None`) return None,
whether the server answers 204, 200 with no body or 200 with a JSON body the
method does not promise. The body is still read (the connection goes back to
the pool) and stays available through `with_raw_response`, whose `parse()`
gives None as the method does; `with_streaming_response` likewise. The generic
`post(..., cast_to=type(None))` returns None too. One test body runs with the
blocking client, on asyncio and on trio.
"""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conformance.arguments import Call, Synthesizer, build_call
from tests.io.conftest import MakeClient

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

BODY = {"id": "x_1", "deleted": True}


def _no_body_calls() -> list[Call]:
    import generate_models
    import generate_operations

    spec = generate_models.load_spec(generate_models.DEFAULT_SPEC)
    _, named = generate_operations.load(spec)
    nodes = generate_operations.build_tree(
        named,
        spec.get("x-sdk-deprecated"),
        spec.get("x-sdk-text", ()),
        spec.get("x-sdk-no-body", ()),
    )
    synth = Synthesizer(spec)
    calls = []
    for path, node in sorted(nodes.items()):
        for name, method in sorted(node.methods.items()):
            if method.no_body:
                dotted = ".".join([*path, name])
                calls.append(build_call(dotted, method.op, spec, synth))
    return calls


CALLS = _no_body_calls()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[tuple[str, str]]


class _Handler(BaseHTTPRequestHandler):
    """Answers as the request's `x-answer` header says: `204`, `empty` (200, no
    body) or `json` (200 with `BODY`)."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def _any(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        self.server.seen.append((self.command, self.path))
        answer = self.headers.get("x-answer", "json")
        if answer == "204":
            self.send_response(204)
            self.end_headers()
            return
        payload = json.dumps(BODY).encode() if answer == "json" else b""
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _any

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.seen = []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def _lookup(root: object, dotted: str) -> Any:
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def test_the_operations_without_a_body_are_found() -> None:
    names = {call.name for call in CALLS}
    assert {
        "live.sessions.hangup",
        "live.sessions.accept",
        "live.sessions.refer",
        "live.sessions.reject",
        "realtime.calls.hangup",
        "containers.delete",
        "containers.files.delete",
        "responses.delete",
        "beta.responses.delete",
        "beta.agents.sessions.events.create",
    } <= names


@pytest.mark.parametrize("answer", ["204", "empty", "json"])
@pytest.mark.parametrize("call", CALLS, ids=[c.name for c in CALLS])
async def test_the_method_returns_none(
    call: Call, answer: str, server: _Server, make_client: MakeClient
) -> None:
    port = server.server_address[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    kwargs = {**call.kwargs, "extra_headers": {"x-answer": answer}}
    server.seen.clear()
    assert await _maybe_await(_lookup(client, call.name)(*call.args, **kwargs)) is None
    assert len(server.seen) == 1
    assert server.seen[0][0] == call.op.method

    resource, _, name = call.name.rpartition(".")
    method = getattr(_lookup(client, resource).with_raw_response, name)
    response = await _maybe_await(method(*call.args, **kwargs))
    assert response.status_code == (204 if answer == "204" else 200)
    assert response.parse() is None
    assert response.content == (json.dumps(BODY).encode() if answer == "json" else b"")
    if answer == "json":
        assert response.json() == BODY


@pytest.mark.parametrize("answer", ["204", "json"])
async def test_streaming_response_parses_to_none(
    answer: str, server: _Server, make_client: MakeClient
) -> None:
    port = server.server_address[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    headers = {"x-answer": answer}
    streaming = client.live.sessions.with_streaming_response
    async with streaming.hangup("sess_1", extra_headers=headers) as response:
        assert await _maybe_await(response.parse()) is None
    async with client.containers.with_streaming_response.delete(
        "cntr_1", extra_headers=headers
    ) as response:
        body = await _maybe_await(response.read())
        assert body == (json.dumps(BODY).encode() if answer == "json" else b"")
        assert await _maybe_await(response.parse()) is None


async def test_generic_post_with_cast_to_none_type(
    server: _Server, make_client: MakeClient
) -> None:
    port = server.server_address[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    path, options = "/live/sessions/sess_1/hangup", {"headers": {"x-answer": "json"}}
    assert await _maybe_await(client.post(path, cast_to=type(None), options=options)) is None
    # `object` keeps the JSON as decoded.
    assert await _maybe_await(client.post(path, cast_to=object, options=options)) == BODY
