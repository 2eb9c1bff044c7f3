"""The adapter guide's example runs as written, against the embedded server."""

from __future__ import annotations

import pathlib
import re

import pytest

import oxide_proto
from oxide_io.testing import Fail, MockServer

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
