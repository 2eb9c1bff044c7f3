"""`beta.agents.sessions.artifacts.for_result(result)` against a real HTTP server.

The server (a `http.server` on 127.0.0.1) lists a session's artifacts (two
turns, one path published twice by the second) and serves each one's content.
"""

from __future__ import annotations

import json
import pathlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from tests.io.conftest import MakeClient

pytestmark = pytest.mark.anyio


def _artifact(artifact_id: str, turn_id: str, path: str) -> dict[str, Any]:
    return {
        "id": artifact_id,
        "object": "agent.session.artifact",
        "created_at": 1,
        "environment_id": "env_1",
        "path": path,
        "session_id": "sess_1",
        "size_bytes": 5,
        "turn_id": turn_id,
    }


ARTIFACTS = [
    _artifact("art_1", "turn_1", "out/report.md"),
    _artifact("art_2", "turn_2", "out/report.md"),
    _artifact("art_3", "turn_2", "dup.txt"),
    _artifact("art_4", "turn_2", "dup.txt"),
]


class _Artifacts(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.paths: list[str] = []
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: _Artifacts

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.paths.append(self.path)
        path = self.path.split("?")[0]
        if path == "/v1/agents/sessions/sess_1/artifacts":
            page = {"object": "list", "data": ARTIFACTS, "has_more": False}
            self._send(json.dumps(page).encode(), "application/json")
        elif path.startswith("/v1/agents/sessions/sess_1/artifacts/") and path.endswith("/content"):
            self._send(f"body of {path.split('/')[-2]}".encode(), "application/octet-stream")
        else:
            self.send_error(404)

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def artifacts_server() -> Iterator[_Artifacts]:
    server = _Artifacts()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


async def test_for_result_reads_and_downloads_one_turns_artifact(
    make_client: MakeClient, artifacts_server: _Artifacts, tmp_path: pathlib.Path
) -> None:
    port = artifacts_server.server_address[1]
    client = make_client(None, base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    # A result as the official SDK's AgentTurnResult names its turn.
    result = SimpleNamespace(session_id="sess_1", turn_id="turn_2")
    artifacts = client.beta.agents.sessions.artifacts.for_result(result)
    content = await artifacts.content("out/report.md")
    assert await content.aread() == b"body of art_2"
    target = tmp_path / "report.md"
    found = await artifacts.download("out/report.md", to=target)
    assert found.id == "art_2" and found.turn_id == "turn_2"
    assert target.read_bytes() == b"body of art_2"
    assert artifacts_server.paths[-1] == "/v1/agents/sessions/sess_1/artifacts/art_2/content"
    with pytest.raises(ValueError, match="more than one artifact"):
        await artifacts.content("dup.txt")
    with pytest.raises(ValueError, match="published no artifact"):
        await artifacts.content("missing.txt")
    # A Turn names its session and itself (`id`).
    turn = SimpleNamespace(session_id="sess_1", id="turn_1")
    first = client.beta.agents.sessions.artifacts.for_result(turn)
    assert await (await first.content("out/report.md")).aread() == b"body of art_1"
    with pytest.raises(TypeError, match="for_result"):
        client.beta.agents.sessions.artifacts.for_result(object())
