"""The adapter guide's example runs as written, against the embedded server."""

from __future__ import annotations

import pathlib
import re
from typing import Any

import pytest

import oxide_proto
from oxide_io.testing import Fail, MockServer
from tests.ws_api_server import CloseMid, Text, run_ws_api

GUIDE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "adapter.md"


def _example() -> dict[str, object]:
    code = re.search(r"```python\n(import socket.*?)```", GUIDE.read_text(), re.S)
    assert code is not None, "the guide lost its example"
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), str(GUIDE), "exec"), namespace)
    return namespace


def _pool_example() -> dict[str, object]:
    code = re.search(r"```python\n(import socket\nimport time.*?)```", GUIDE.read_text(), re.S)
    assert code is not None, "the guide lost its connection pool example"
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), str(GUIDE), "exec"), namespace)
    return namespace


@pytest.mark.parametrize(("expiry", "connections"), [(5.0, 1), (0.0, 3)])
def test_guide_pool_example_reuses_connections(expiry: float, connections: int) -> None:
    pooled_client = _pool_example()["PooledClient"]
    with MockServer(api_key="sk-guide", http2=False) as server:
        client = pooled_client(server.base_url, "sk-guide", keepalive_expiry=expiry)  # type: ignore[operator]
        bodies = [client.get("/models") for _ in range(3)]
        assert all(b'"object":"list"' in body.replace(b" ", b"") for body in bodies)
        assert client.opened == connections
        assert len(client.connections) == (1 if expiry else 0)
        client.close()
        assert client.connections == {}
    assert [r.path for r in server.requests] == ["/v1/models"] * 3


def test_guide_example_streams_a_reply() -> None:
    stream_chat = _example()["stream_chat"]
    with MockServer(api_key="sk-guide", http2=False) as server:
        server.reply_text = "sans-I/O keeps the parser testable"
        text = stream_chat(server.base_url, "sk-guide", "why?")  # type: ignore[operator]
    assert text == "sans-I/O keeps the parser testable"


def test_guide_example_raises_the_sdk_error_class() -> None:
    stream_chat = _example()["stream_chat"]
    with MockServer(api_key="sk-guide", http2=False) as server:
        server.enqueue(Fail(429, message="slow down"))
        with pytest.raises(oxide_proto.RateLimitError, match="slow down"):
            stream_chat(server.base_url, "sk-guide", "why?")  # type: ignore[operator]


def _websocket_example() -> dict[str, object]:
    code = re.search(r"```python\n(import random\nimport socket.*?)```", GUIDE.read_text(), re.S)
    assert code is not None, "the guide lost its WebSocket example"
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), str(GUIDE), "exec"), namespace)
    return namespace


def test_guide_websocket_example_runs_turns_over_one_connection() -> None:
    responses_socket: Any = _websocket_example()["ResponsesSocket"]
    with MockServer(api_key="sk-guide", http2=False) as server:
        server.reply_text = "one socket, many turns"
        conn = responses_socket(server.base_url, "sk-guide")
        first = conn.create(model="gpt-test", input="hi")
        second = conn.create(model="gpt-test", input="again", previous_response_id=first.id)
        server.enqueue(Fail(429, message="slow down"))
        with pytest.raises(oxide_proto.APIEventError, match="slow down"):
            conn.create(model="gpt-test", input="once more")
        conn.close()
    assert first.output_text == second.output_text == "one socket, many turns"
    assert [r.http_version for r in server.requests] == ["websocket"] * 3
    assert conn.proto.reconnects == 0


def test_guide_websocket_example_reopens_after_a_drop() -> None:
    responses_socket: Any = _websocket_example()["ResponsesSocket"]
    with run_ws_api() as server:
        server.script(CloseMid(code=1012), Text("after the drop"))
        conn = responses_socket(server.base_url, "sk-guide", reconnect=True, initial_delay=0.01)
        with pytest.raises(oxide_proto.WebSocketConnectionClosedError) as caught:
            conn.create(model="gpt-test", input="hi")
        assert caught.value.code == 1012
        response = conn.create(model="gpt-test", input="hi again")
        conn.close()
        assert response.output_text == "after the drop"
        assert server.connections == 2
        assert server.handshakes[1]["authorization"] == "Bearer sk-guide"
    assert conn.proto.reconnects == 1


def test_guide_websocket_example_does_not_reopen_without_reconnecting() -> None:
    responses_socket: Any = _websocket_example()["ResponsesSocket"]
    with run_ws_api() as server:
        server.script(CloseMid(code=1012))
        conn = responses_socket(server.base_url, "sk-guide")
        with pytest.raises(oxide_proto.WebSocketConnectionClosedError):
            conn.create(model="gpt-test", input="hi")
        with pytest.raises(oxide_proto.WebSocketConnectionClosedError) as caught:
            conn.create(model="gpt-test", input="hi again")
        assert caught.value.code == 1012
        conn.sock.close()
        assert server.connections == 1
