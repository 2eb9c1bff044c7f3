"""The operations the SDK supplement adds, called against a recording local server.

Prism serves only the published spec, so the operations `spec/sdk-supplement.json`
adds (Agents, Live, Safety, Decisions, webhook endpoints, organization health,
...) are called here against a small HTTP server on 127.0.0.1 that records each
request and answers with the smallest valid value of the operation's response
schema. Each call carries the operation's path parameters, every query parameter
and the required body fields (`tests/conformance/arguments.py` synthesizes them
from the merged spec); the test checks the method, path, query, body and headers
the server received, and that the answer decoded to the operation's model. One
test body runs with the blocking client, on asyncio and on trio.
"""

from __future__ import annotations

import inspect
import json
import re
import threading
import urllib.parse
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import oxide_io
from oxide_proto import resolve_type
from tests.conformance.arguments import Call, Synthesizer, build_call
from tests.io import blocking
from tests.io.conftest import MakeClient

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


def _merged() -> tuple[dict[str, Any], list[Call]]:
    import generate_models
    import generate_operations

    spec = generate_models.load_spec(generate_models.DEFAULT_SPEC)
    _, named = generate_operations.load(spec)
    synth = Synthesizer(spec)
    calls = []
    for name, op in sorted(named.items()):
        if op.sdk_name is None:
            continue
        call = build_call(name, op, spec, synth)
        raw = spec["paths"][op.path][op.method.lower()]
        for param in raw.get("parameters", []):
            param = synth.resolve(param)
            if param["in"] == "query" and not param.get("required"):
                # Optional query parameters too: they must reach the query string.
                value = synth.value(param.get("schema", {}))
                if value not in (None, {}, []):  # an empty map or list sends nothing
                    call.kwargs[param["name"].removesuffix("[]")] = value
        calls.append(call)
    return spec, calls


SPEC, CALLS = _merged()
SYNTH = Synthesizer(SPEC)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[Seen]
    answers: list[tuple[str, re.Pattern[str], int, str, bytes]]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Recorder

    def _any(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.seen.append(Seen(self.command, url.path, query, headers, body))
        status, kind, payload = 404, "application/json", b'{"error": {"message": "no route"}}'
        for method, pattern, code, media, answer in self.server.answers:
            if method == self.command and pattern.fullmatch(url.path):
                status, kind, payload = code, media, answer
                break
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _any

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _answer(call: Call) -> tuple[int, str, bytes]:
    op = call.op
    raw = SPEC["paths"][op.path][op.method.lower()]
    content = raw["responses"]["200"].get("content", {})
    if op.binary:
        return 200, next(iter(content)), b"\x00\x01binary"
    if op.always_streams:
        # The first event of the union that is not an `error` (which a stream raises).
        union = SYNTH.resolve(content["text/event-stream"]["schema"])
        values = [SYNTH.value(v) for v in union.get("anyOf") or union.get("oneOf") or [union]]
        event = json.dumps(next(v for v in values if v.get("type") != "error"))
        return 200, "text/event-stream", f"data: {event}\n\ndata: [DONE]\n\n".encode()
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return 200, "application/json", b"{}"
    return 200, "application/json", json.dumps(SYNTH.value(schema)).encode()


@pytest.fixture(scope="module")
def recorder() -> Iterator[_Recorder]:
    server = _Recorder(("127.0.0.1", 0), _Handler)
    server.seen = []
    server.answers = []
    for call in CALLS:
        path = call.op.path.split("?")[0]
        pattern = re.compile("/v1" + re.sub(r"\{\w+\}", "[^/]+", path))
        server.answers.append((call.op.method, pattern, *_answer(call)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def lookup(root: object, dotted: str) -> Any:
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


def _expected_path(call: Call) -> tuple[str, dict[str, list[str]]]:
    path, _, fixed = call.op.path.partition("?")
    values = dict(zip(call.op.path_params[-1:], call.args, strict=True))
    values |= {p: str(call.kwargs[p]) for p in call.op.path_params[:-1]}
    for name, value in values.items():
        path = path.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
    return "/v1" + path, urllib.parse.parse_qs(fixed)


def _wire(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_the_supplement_adds_operations() -> None:
    names = {c.name for c in CALLS}
    assert len(CALLS) == sum(len(item) for item in SPEC_SUPPLEMENT_PATHS)
    for expected in (
        "beta.agents.create",
        "beta.agents.sessions.turns.items.list",
        "live.sessions.accept",
        "safety.alerts.retrieve",
        "decisions.create",
        "webhooks.create",
        "webhooks.rotate_secret",
        "admin.organization.external_keys.validate",
        "admin.organization.health.alert_rules.update",
        "admin.organization.workload_identity_providers.federation_rules.list",
        "audio.voices.delete",
    ):
        assert expected in names


def _supplement_paths() -> list[dict[str, Any]]:
    import supplement

    return list(supplement.load()["paths"].values())


SPEC_SUPPLEMENT_PATHS = _supplement_paths()


@pytest.mark.parametrize("call", CALLS, ids=[c.name for c in CALLS])
async def test_operation_request(call: Call, recorder: _Recorder, make_client: MakeClient) -> None:
    port = recorder.server_address[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    recorder.seen.clear()
    result = lookup(client, call.name)(*call.args, **call.kwargs)
    if inspect.isawaitable(result):  # the blocking wrapper hands `stream` back as is
        result = await result
    assert len(recorder.seen) == 1
    seen = recorder.seen[0]
    path, fixed_query = _expected_path(call)
    assert (seen.method, seen.path) == (call.op.method, path)
    query_names = {p.name: p.key for p in call.op.query}
    sent_query = {k.removesuffix("[]"): v for k, v in seen.query.items()}
    expected_query = dict(fixed_query)
    for name, value in call.kwargs.items():
        if name in query_names and not isinstance(value, list | dict):
            expected_query[query_names[name]] = [_wire(value)]
    assert {k: v for k, v in sent_query.items() if k in expected_query} == expected_query
    assert set(sent_query) >= {query_names[n] for n in call.kwargs if n in query_names}
    body_names = {p.name: p.key for p in call.op.body}
    expected_body = {body_names[n]: v for n, v in call.kwargs.items() if n in body_names}
    if call.op.body_kind == "multipart":
        for key in expected_body:
            assert f'name="{key}"'.encode() in seen.body
    elif expected_body:
        assert json.loads(seen.body) == expected_body
    else:
        assert seen.body in (b"", b"{}")
    for header, value in call.op.headers.items():
        assert seen.headers[header.lower()] == value
    if call.op.always_streams:
        events = [event async for event in result]
        assert len(events) == 1
        assert type(events[0]).__name__ != "UnknownEvent"
    elif call.op.binary:
        assert await result.aread() == b"\x00\x01binary"
    elif call.op.page is not None:
        assert isinstance(result.data, list)
    elif call.op.response is not None:
        model = resolve_type(call.op.response)
        if isinstance(model, type):
            assert isinstance(result, model)


async def test_betas_become_the_openai_beta_header(
    recorder: _Recorder, make_client: MakeClient
) -> None:
    port = recorder.server_address[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    recorder.seen.clear()
    with pytest.raises(oxide_io.NotFoundError):
        await client.beta.responses.delete("resp_1", betas=["one-2026-01-01", "two"])
    assert recorder.seen[-1].headers["openai-beta"] == "one-2026-01-01,two"
    assert recorder.seen[-1].query == {"beta": ["true"]}


def _deprecated() -> list[tuple[str, str, Call]]:
    import generate_operations

    _, named = generate_operations.load(SPEC)
    nodes = generate_operations.build_tree(named, SPEC.get("x-sdk-deprecated"))
    found = []
    for path, node in sorted(nodes.items()):
        for name, method in sorted(node.methods.items()):
            if method.deprecated:
                dotted = ".".join([*path, name])
                call = build_call(dotted, method.op, SPEC, SYNTH)
                found.append((dotted, method.deprecated, call))
    return found


DEPRECATED = _deprecated()


def test_deprecations_are_the_sdks_and_the_specs() -> None:
    openai = pytest.importorskip("openai")
    theirs = openai.OpenAI(api_key="sk-test")
    names = {name for name, _, _ in DEPRECATED}
    assert {"beta.assistants.create", "videos.create", "evals.list"} <= names
    for name, message, _ in DEPRECATED:
        # The SDK's message where it deprecates the method too, else the spec's flag.
        assert message == getattr(lookup(theirs, name), "__deprecated__", "deprecated")


@pytest.mark.parametrize("name,message,call", DEPRECATED, ids=[d[0] for d in DEPRECATED])
async def test_deprecated_operations_warn(
    name: str, message: str, call: Call, recorder: _Recorder, make_client: MakeClient
) -> None:
    port = recorder.server_address[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    with pytest.warns(DeprecationWarning) as caught:
        try:
            result = lookup(client, name)(*call.args, **call.kwargs)
            if inspect.isawaitable(result):
                await result
        except oxide_io.APIStatusError:
            pass  # the recording server knows only the supplement's operations
    assert [str(w.message) for w in caught if w.category is DeprecationWarning] == [message]
    # Reported where the method was called (the blocking client's wrapper calls it there).
    assert caught[0].filename in (__file__, blocking.__file__)


def _with_headers() -> list[Call]:
    import generate_operations

    _, named = generate_operations.load(SPEC)
    return [
        build_call(name, op, SPEC, SYNTH)
        for name, op in sorted(named.items())
        if op.headers and op.sdk_name is None
    ]


WITH_HEADERS = _with_headers()


def test_spec_operations_get_the_sdks_headers() -> None:
    names = {call.name for call in WITH_HEADERS}
    assert {
        "beta.assistants.create",
        "beta.threads.runs.list",
        "beta.chatkit.threads.list",
    } <= names
    assert {c.op.headers["OpenAI-Beta"] for c in WITH_HEADERS} == {
        "assistants=v2",
        "chatkit_beta=v1",
    }


@pytest.mark.parametrize("call", WITH_HEADERS, ids=[c.name for c in WITH_HEADERS])
async def test_spec_operations_send_the_sdks_headers(
    call: Call, recorder: _Recorder, make_client: MakeClient
) -> None:
    port = recorder.server_address[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    recorder.seen.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Assistants: tested above
        try:
            result = lookup(client, call.name)(*call.args, **call.kwargs)
            if inspect.isawaitable(result):
                await result
        except oxide_io.NotFoundError:
            pass  # the recording server knows only the supplement's operations
    assert [seen.headers.get("openai-beta") for seen in recorder.seen] == [
        call.op.headers["OpenAI-Beta"]
    ]
