"""A plain HTTP/1.1 server on 127.0.0.1 that records every request and answers any path.

The mock API server only serves `/v1/...`; the Azure client's URLs
(`/openai/deployments/{name}/chat/completions?api-version=...`) and the generic
`client.get()`/`post()` paths need a server that takes whatever comes. Each
request's method, path, query and headers are recorded (`requests`); the answer
depends on the path's end: a chat completion, a model list, an embedding list,
plain text under `/text`, a 401 under `/unauthorized`, an SSE stream under
`/stream`, and otherwise a JSON object echoing the method and path. `answers`
queues (status, JSON body) replies, or (status, JSON body, headers), that come
first, one per request.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs

__all__ = ["CHAT_COMPLETION", "Recorded", "RecordingServer", "run_recording_server"]

CHAT_COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "finish_reason": "stop",
            "logprobs": None,
            "message": {"role": "assistant", "content": "hello", "refusal": None},
        }
    ],
}


@attrs.frozen
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    # The request target as it arrived (the path still percent-encoded, the raw query).
    target: str = ""

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _answer(path: str, method: str) -> tuple[int, str, bytes]:
    if path.endswith("/chat/completions"):
        return 200, "application/json", json.dumps(CHAT_COMPLETION).encode()
    if path.endswith("/models"):
        model = {"id": "m1", "object": "model", "created": 1, "owned_by": "o"}
        models = {"object": "list", "data": [model]}
        return 200, "application/json", json.dumps(models).encode()
    if path.endswith("/embeddings"):
        usage = {"prompt_tokens": 0, "total_tokens": 0}
        data = {"object": "list", "data": [], "model": "e", "usage": usage}
        return 200, "application/json", json.dumps(data).encode()
    if path.endswith("/text"):
        return 200, "text/plain", "plain text é".encode()
    if path.endswith("/unauthorized"):
        error = {"error": {"message": "no", "type": "invalid_request_error", "code": "bad_key"}}
        return 401, "application/json", json.dumps(error).encode()
    if path.endswith("/stream"):
        events = [{"n": 1}, {"n": 2}]
        text = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        return 200, "text/event-stream", text.encode()
    return 200, "application/json", json.dumps({"method": method, "path": path}).encode()


class RecordingServer:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.answers: deque[tuple[Any, ...]] = deque()
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def handle(self) -> None:
                # A client closing its keep-alive connection is not an error here.
                with contextlib.suppress(ConnectionError):
                    super().handle()

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                recorded = Recorded(
                    method=self.command,
                    path=split.path,
                    query=dict(parse_qsl(split.query, keep_blank_values=True)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    target=self.path,
                )
                with owner._lock:
                    owner.requests.append(recorded)
                    queued = owner.answers.popleft() if owner.answers else None
                extra: dict[str, str] = {}
                if queued is not None:
                    status, content_type = queued[0], "application/json"
                    payload = json.dumps(queued[1]).encode()
                    # A third item: more response headers (a redirect's Location).
                    extra = dict(queued[2]) if len(queued) > 2 else {}
                else:
                    status, content_type, payload = _answer(split.path, self.command)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.answers.clear()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def run_recording_server() -> Iterator[RecordingServer]:
    server = RecordingServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
