"""The suite's server: Prism for the spec's endpoints, local answers for the SDK's others.

One base URL for the whole suite (the official tests build every client with the
same `base_url`). A request whose endpoint the public OpenAPI spec has goes on to
Prism unchanged; one the spec lacks but the official SDK calls is answered here
with data shaped like the SDK's response model for that endpoint (every required
field, built by `example_for` from the model's annotations and checked by
validating it with the SDK's own strict model validation). An endpoint neither
knows gets a 404. Tests that mock a route with `respx2` (which only intercepts the
official SDK's HTTP library) register the same answer as an override here, so a
client that does not use that library receives it over real HTTP.

Every request is logged with who answered it, so the summary can say whether a
test's endpoint was served at all.
"""

from __future__ import annotations

import datetime
import http.client
import http.server
import json
import threading
import types
import typing
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Union

from .routes import OfficialRoute, PathMatcher, official_routes, path_key

__all__ = ["FrontServer", "Served", "example_for", "spec_keys"]

_MAX_DEPTH = 6
_CONTROL_TIMEOUT = 60.0


def spec_keys(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """The endpoints of an OpenAPI document, by `path_key`."""
    verbs = ("get", "post", "put", "patch", "delete")
    return [
        path_key(method, path)
        for path, operations in spec.get("paths", {}).items()
        for method in operations
        if method in verbs
    ]


def _unwrap(tp: Any) -> Any:
    while True:
        value = getattr(tp, "__value__", None)  # a `type X = ...` alias
        if value is not None and not isinstance(tp, type):
            tp = value
            continue
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        return tp


def _admits_none(tp: Any) -> bool:
    tp = _unwrap(tp)
    if tp is None or tp is type(None) or tp is Any or tp is object:
        return True
    if typing.get_origin(tp) in (Union, types.UnionType):
        return any(_admits_none(arg) for arg in typing.get_args(tp))
    return False


def example_for(tp: Any, depth: int = 0) -> Any:
    """JSON data of type `tp` (a pydantic model or typing form) with every required field."""
    import pydantic

    tp = _unwrap(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is type(None) or tp is None:
        return None
    if origin is Literal:
        return args[0]
    if origin in (Union, types.UnionType):
        variants = [v for v in args if v is not type(None)]
        if len(variants) < len(args) and depth >= _MAX_DEPTH:
            return None
        return example_for(variants[0], depth + 1)
    if origin in (list, typing.List, tuple, typing.Sequence) or tp in (list, tuple):  # noqa: UP006
        if not args or depth >= _MAX_DEPTH:
            return []
        return [example_for(args[0], depth + 1)]
    if origin in (dict, typing.Dict, typing.Mapping) or tp is dict:  # noqa: UP006
        return {}
    if isinstance(tp, type) and issubclass(tp, pydantic.BaseModel):
        data: dict[str, Any] = {}
        for name, info in tp.model_fields.items():
            # Required fields, and optional ones whose type has no None (a model
            # can declare `Dict[str, X] = None`; the value must then be a dict).
            if not info.is_required() and _admits_none(info.annotation):
                continue
            data[info.alias or name] = example_for(info.annotation, depth + 1)
        return data
    if tp is str:
        return "string"
    if tp is bool:
        return False
    if tp is int:
        return 0
    if tp is float:
        return 0.0
    if tp is datetime.datetime:
        return "2024-01-01T00:00:00Z"
    if tp is datetime.date:
        return "2024-01-01"
    return {}


@dataclass
class Served:
    """One request the front server saw and who answered it."""

    method: str
    path: str
    # "prism", "local", "override" or "none" (no one knows the endpoint)
    by: str
    status: int
    endpoint: tuple[str, str] | None


@dataclass
class _Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class _State:
    prism: str | None
    spec: PathMatcher
    sdk: PathMatcher
    routes: dict[tuple[str, str], OfficialRoute]
    overrides: dict[tuple[str, str], _Answer] = field(default_factory=dict)
    log: list[Served] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    examples: dict[tuple[str, str], bytes] = field(default_factory=dict)


def _local_body(route: OfficialRoute) -> tuple[str, bytes]:
    if route.binary or route.cast_to is object:
        return "application/octet-stream", b"binary content"
    target = route.page if route.page is not None else route.cast_to
    data = example_for(target)
    if route.page is not None and isinstance(data, dict) and not data.get("data"):
        data["data"] = [example_for(route.cast_to)]
    return "application/json", json.dumps(data).encode()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, answer: _Answer) -> None:
        self.send_response(answer.status)
        skip = {"content-length", "transfer-encoding", "connection", "keep-alive"}
        for name, value in answer.headers:
            if name.lower() not in skip:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def _handle(self) -> None:
        state = self.server.state
        body = self._read_body()
        path = urllib.parse.urlsplit(self.path).path
        method = self.command
        override = state.overrides.get((method, path))
        spec_key = state.spec.match(method, path)
        sdk_key = state.sdk.match(method, path)
        if override is not None:
            by, answer, endpoint = "override", override, sdk_key or spec_key
        elif spec_key is not None and state.prism is not None:
            by, answer, endpoint = "prism", self._forward(state.prism, body), spec_key
        elif sdk_key is not None:
            route = state.routes[sdk_key]
            content_type, payload = _local_body(route)
            if route.streams and b'"stream":true' in body.replace(b" ", b""):
                content_type = "text/event-stream"
                payload = b"data: " + payload + b"\n\ndata: [DONE]\n\n"
            answer = _Answer(200, [("Content-Type", content_type)], payload)
            by, endpoint = "local", sdk_key
        else:
            message = json.dumps({"error": {"message": f"no endpoint {method} {path}"}})
            answer = _Answer(404, [("Content-Type", "application/json")], message.encode())
            by, endpoint = "none", None
        with state.lock:
            state.log.append(Served(method, path, by, answer.status, endpoint))
        self._send(answer)

    def _forward(self, prism: str, body: bytes) -> _Answer:
        target = urllib.parse.urlsplit(prism)
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=60)
        try:
            headers = {
                name: value
                for name, value in self.headers.items()
                if name.lower() not in {"host", "transfer-encoding", "connection", "content-length"}
            }
            conn.request(self.command, self.path, body=body or None, headers=headers)
            response = conn.getresponse()
            return _Answer(response.status, response.getheaders(), response.read())
        finally:
            conn.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    state: _State

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client closing its connection mid-answer (a test that closes a stream
        # early) is its business; anything else is printed as usual.
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class FrontServer:
    """The suite's server on 127.0.0.1, in a thread; `url` is its base URL."""

    def __init__(self, prism: str | None, spec: dict[str, Any]) -> None:
        routes = official_routes()
        self._state = _State(
            prism=prism,
            spec=PathMatcher(spec_keys(spec)),
            sdk=PathMatcher(list(routes)),
            routes=routes,
        )
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self._state
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(_CONTROL_TIMEOUT)

    def mark(self) -> int:
        """A position in the request log, for `since`."""
        with self._state.lock:
            return len(self._state.log)

    def since(self, mark: int) -> list[Served]:
        with self._state.lock:
            return list(self._state.log[mark:])

    def override(
        self, method: str, path: str, status: int, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        self._state.overrides[(method.upper(), path)] = _Answer(status, headers, body)

    def clear_overrides(self) -> None:
        self._state.overrides.clear()

    def local_examples(self) -> Iterator[tuple[tuple[str, str], OfficialRoute]]:
        """The endpoints this server answers itself (the SDK's that the spec lacks)."""
        for key, route in self._state.routes.items():
            if self._state.spec.match(key[0], key[1].replace("{}", "x")) is None:
                yield key, route
