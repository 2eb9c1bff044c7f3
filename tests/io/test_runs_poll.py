"""`beta.threads.runs.poll` with the official SDK's signature, against a real HTTP server.

The SDK takes every argument positionally (`poll(run_id, thread_id, extra_headers,
extra_query, extra_body, timeout, poll_interval_ms)`). The server (a
`http.server` on 127.0.0.1) answers a run `in_progress` twice, then `completed`,
and records what each poll asked.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from oxide_io import NOT_GIVEN
from tests.io.conftest import MakeClient

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.filterwarnings("ignore:The Assistants API is deprecated:DeprecationWarning"),
]

IN_PROGRESS = 2


class _Runs(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: _Runs

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.requests.append(
                (self.path, {k.lower(): v for k, v in self.headers.items()})
            )
            polls = len(self.server.requests)
        parts = self.path.split("?")[0].split("/")
        run = {
            "id": parts[-1],
            "object": "thread.run",
            "thread_id": parts[-3],
            "assistant_id": "asst_1",
            "created_at": 1,
            "status": "in_progress" if polls <= IN_PROGRESS else "completed",
        }
        body = json.dumps(run).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def runs_server() -> Iterator[_Runs]:
    server = _Runs()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


async def test_poll_takes_the_sdk_arguments_positionally(
    make_client: MakeClient, runs_server: _Runs
) -> None:
    port = runs_server.server_address[1]
    client = make_client(None, base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    run = await client.beta.threads.runs.poll(
        "run_1", "thread_1", {"X-Trace": "p1"}, {"lane": "a"}, None, 5.0, 1
    )
    assert run.status == "completed"
    assert run.thread_id == "thread_1"
    assert len(runs_server.requests) == IN_PROGRESS + 1
    for path, headers in runs_server.requests:
        assert path == "/v1/threads/thread_1/runs/run_1?lane=a"
        assert headers["x-trace"] == "p1"
        assert headers["x-stainless-poll-helper"] == "true"
        assert headers["x-stainless-custom-poll-interval"] == "1"
    # As keywords too, the interval left to the server's header (none here: the default).
    runs_server.requests.clear()
    run = await client.beta.threads.runs.poll(
        run_id="run_2", thread_id="thread_2", timeout=NOT_GIVEN, poll_interval_ms=1
    )
    assert run.id == "run_2" and run.status == "completed"
