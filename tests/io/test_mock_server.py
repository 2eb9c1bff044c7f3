"""The embedded OpenAI-like server, spoken to with the stdlib, a raw h2 client and the SDK.

Every endpoint, plain and streamed; each scripted behaviour; authentication;
HTTP/1.1 and HTTP/2, plain and TLS; and a clean shutdown. The official SDK runs
against it end to end, which is the best evidence the wire formats are right.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import http.client
import json
import socket
import ssl
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import trustme

from oxide_io.testing import (
    MODELS,
    CutStream,
    Delay,
    Fail,
    Gzip,
    Malformed,
    MockServer,
    Reply,
    SlowFirstToken,
    Stall,
    ToolCall,
    ToolCalls,
    Truncate,
    embedding,
)
from tests.io.h2_raw import H2Client

KEY = "sk-test"
AUTH = {"Authorization": f"Bearer {KEY}"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello there"}]}
STREAM_CHAT = {**CHAT, "stream": True}
RESPONSES = {"model": "gpt-4o-mini", "input": "Hello there"}
WEATHER_TOOL = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object"}},
}


# -- fixtures and helpers -----------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def client_tls(ca: trustme.CA, alpn: list[str] | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    if alpn:
        context.set_alpn_protocols(alpn)
    return context


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(api_key=KEY) as running:
        yield running


class Reply1:
    """A whole HTTP/1.1 response as http.client read it."""

    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = {k.lower(): v for k, v in response.getheaders()}
        self.body = response.read()

    def json(self) -> Any:
        return json.loads(self.body)


def h1(
    server: MockServer,
    method: str,
    path: str,
    body: object = None,
    headers: dict[str, str] | None = None,
    *,
    tls: ssl.SSLContext | None = None,
) -> Reply1:
    if tls is None:
        conn: http.client.HTTPConnection = http.client.HTTPConnection(
            "127.0.0.1", server.port, timeout=10
        )
    else:
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=10, context=tls)
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    try:
        conn.request(method, path, data, {**AUTH, **(headers or {})})
        return Reply1(conn.getresponse())
    finally:
        conn.close()


def events(body: bytes) -> list[tuple[str | None, str]]:
    """Server-sent events as (event name, data), in order."""
    out = []
    for block in body.decode().split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        out.append((name, "\n".join(data)))
    return out


def payloads(body: bytes) -> list[Any]:
    return [json.loads(data) for _, data in events(body) if data != "[DONE]"]


def content_of(chunks: list[Any], index: int = 0) -> str:
    return "".join(
        choice["delta"].get("content") or ""
        for chunk in chunks
        for choice in chunk["choices"]
        if choice["index"] == index
    )


# -- chat completions ---------------------------------------------------------


def test_chat_completion_object(server: MockServer) -> None:
    reply = h1(server, "POST", "/v1/chat/completions", CHAT)
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["x-request-id"].startswith("req_")
    body = reply.json()
    assert body["id"].startswith("chatcmpl-")
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4o-mini"
    assert isinstance(body["created"], int)
    assert body["system_fingerprint"] and body["service_tier"] == "default"
    [choice] = body["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop" and choice["logprobs"] is None
    assert choice["message"]["role"] == "assistant"
    assert "Hello there" in choice["message"]["content"]
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_chat_reply_is_deterministic_and_settable(server: MockServer) -> None:
    first = h1(server, "POST", "/v1/chat/completions", CHAT).json()
    second = h1(server, "POST", "/v1/chat/completions", CHAT).json()
    assert first["choices"][0]["message"] == second["choices"][0]["message"]
    server.reply_text = "Fixed."
    assert h1(server, "POST", "/v1/chat/completions", CHAT).json()["choices"][0]["message"][
        "content"
    ] == ("Fixed.")
    server.reply_text = lambda body: body["messages"][-1]["content"].upper()
    reply = h1(server, "POST", "/v1/chat/completions", CHAT).json()
    assert reply["choices"][0]["message"]["content"] == "HELLO THERE"


def test_chat_n_choices(server: MockServer) -> None:
    body = h1(server, "POST", "/v1/chat/completions", {**CHAT, "n": 3}).json()
    assert [choice["index"] for choice in body["choices"]] == [0, 1, 2]


def test_chat_stream(server: MockServer) -> None:
    reply = h1(server, "POST", "/v1/chat/completions", STREAM_CHAT)
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    assert "content-length" not in reply.headers
    assert reply.headers["transfer-encoding"] == "chunked"
    raw = events(reply.body)
    assert all(name is None for name, _ in raw), "chat streams are data-only"
    assert raw[-1][1] == "[DONE]"
    chunks = payloads(reply.body)
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert len(chunks) > 4, "content arrives a word or so at a time"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all("usage" not in chunk for chunk in chunks)
    whole = h1(server, "POST", "/v1/chat/completions", CHAT).json()
    assert content_of(chunks) == whole["choices"][0]["message"]["content"]


def test_chat_stream_include_usage_and_n(server: MockServer) -> None:
    request = {**STREAM_CHAT, "n": 2, "stream_options": {"include_usage": True}}
    chunks = payloads(h1(server, "POST", "/v1/chat/completions", request).body)
    *body, last = chunks
    assert last["choices"] == [] and last["usage"]["total_tokens"] > 0
    assert all(chunk["usage"] is None for chunk in body)
    assert content_of(body, 0) == content_of(body, 1) != ""
    finishes = [c["choices"][0] for c in body if c["choices"][0]["finish_reason"]]
    assert sorted(choice["index"] for choice in finishes) == [0, 1]


# -- Responses ----------------------------------------------------------------


def test_responses_object(server: MockServer) -> None:
    reply = h1(server, "POST", "/v1/responses", {**RESPONSES, "instructions": "Be brief."})
    body = reply.json()
    assert body["id"].startswith("resp_") and body["object"] == "response"
    assert body["status"] == "completed" and body["instructions"] == "Be brief."
    [item] = body["output"]
    assert item["type"] == "message" and item["role"] == "assistant"
    [part] = item["content"]
    assert part["type"] == "output_text" and "Hello there" in part["text"]
    usage = body["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_responses_stream(server: MockServer) -> None:
    reply = h1(server, "POST", "/v1/responses", {**RESPONSES, "stream": True})
    raw = events(reply.body)
    assert all(data != "[DONE]" for _, data in raw), "Responses streams have no [DONE]"
    data = [json.loads(d) for _, d in raw]
    assert [name for name, _ in raw] == [item["type"] for item in data]
    assert [item["sequence_number"] for item in data] == list(range(len(data)))
    kinds = [item["type"] for item in data]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    deltas = [item["delta"] for item in data if item["type"] == "response.output_text.delta"]
    assert len(deltas) > 2
    final = data[-1]["response"]
    assert final["status"] == "completed"
    assert "".join(deltas) == final["output"][0]["content"][0]["text"]


def test_responses_input_items(server: MockServer) -> None:
    request = {
        "model": "gpt-4o",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "Bonjour"}]}],
    }
    body = h1(server, "POST", "/v1/responses", request).json()
    assert "Bonjour" in body["output"][0]["content"][0]["text"]


# -- models and embeddings ----------------------------------------------------


def test_models(server: MockServer) -> None:
    body = h1(server, "GET", "/v1/models").json()
    assert body["object"] == "list"
    assert [model["id"] for model in body["data"]] == list(MODELS)
    assert set(body["data"][0]) == {"id", "object", "created", "owned_by"}
    one = h1(server, "GET", "/v1/models/gpt-4o").json()
    assert one["id"] == "gpt-4o" and one["object"] == "model"
    missing = h1(server, "GET", "/v1/models/nope")
    assert missing.status == 404
    assert missing.json()["error"]["code"] == "model_not_found"


def test_embeddings_float_and_base64(server: MockServer) -> None:
    request = {"model": "text-embedding-3-small", "input": ["one", "two"]}
    floats = h1(server, "POST", "/v1/embeddings", request).json()
    assert floats["object"] == "list" and floats["usage"]["prompt_tokens"] > 0
    assert [item["index"] for item in floats["data"]] == [0, 1]
    vector = floats["data"][0]["embedding"]
    assert len(vector) == 8 and vector == embedding("one")
    assert abs(sum(v * v for v in vector) - 1.0) < 1e-5
    encoded = h1(
        server, "POST", "/v1/embeddings", {**request, "encoding_format": "base64", "dimensions": 5}
    ).json()
    raw = base64.b64decode(encoded["data"][1]["embedding"])
    assert list(struct.unpack("<5f", raw)) == embedding("two", 5)


# -- errors -------------------------------------------------------------------


def test_authentication(server: MockServer) -> None:
    wrong = h1(server, "GET", "/v1/models", headers={"Authorization": "Bearer sk-wrong-key"})
    assert wrong.status == 401
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    assert "sk-wrong-key" not in wrong.body.decode(), "a key is never echoed whole"
    missing = h1(server, "GET", "/v1/models", headers={"Authorization": ""})
    assert missing.status == 401
    assert set(missing.json()["error"]) == {"message", "type", "param", "code"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "param"),
    [
        ("POST", "/v1/unknown", {}, 404, None),
        ("GET", "/v1/chat/completions", None, 404, None),
        ("POST", "/v1/chat/completions", b"{not json", 400, None),
        ("POST", "/v1/chat/completions", {"model": "m"}, 400, "messages"),
        ("POST", "/v1/chat/completions", {"messages": []}, 400, "model"),
        ("POST", "/v1/responses", {"model": "m"}, 400, "input"),
        ("POST", "/v1/embeddings", {"model": "m", "input": 3}, 400, "input"),
    ],
)
def test_error_shapes(
    server: MockServer, method: str, path: str, body: object, status: int, param: str | None
) -> None:
    reply = h1(server, method, path, body)
    assert reply.status == status
    assert reply.headers["x-request-id"].startswith("req_")
    error = reply.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error" and error["param"] == param


def test_request_log(server: MockServer) -> None:
    h1(server, "POST", "/v1/chat/completions?trace=1", CHAT, {"X-Custom": "yes"})
    [request] = server.requests
    assert (request.method, request.path, request.query) == (
        "POST",
        "/v1/chat/completions",
        {"trace": "1"},
    )
    assert request.headers["x-custom"] == "yes" and request.http_version == "1.1"
    assert request.json == CHAT
    server.clear()
    assert server.requests == []


# -- scripted behaviours -------------------------------------------------------


def test_fail_with_retry_headers_and_times(server: MockServer) -> None:
    server.enqueue(Fail(429, retry_after=2, retry_after_ms=1500, should_retry=True, times=2))
    for _ in range(2):
        reply = h1(server, "POST", "/v1/chat/completions", CHAT)
        assert reply.status == 429
        assert reply.headers["retry-after"] == "2"
        assert reply.headers["retry-after-ms"] == "1500"
        assert reply.headers["x-should-retry"] == "true"
        assert reply.json()["error"]["code"] == "rate_limit_exceeded"
    assert h1(server, "POST", "/v1/chat/completions", CHAT).status == 200


def test_fail_custom_body_and_path_filter(server: MockServer) -> None:
    server.enqueue(Fail(502, body=b"<html>bad gateway</html>", path="/v1/embeddings"))
    assert h1(server, "GET", "/v1/models").status == 200
    reply = h1(server, "POST", "/v1/embeddings", {"model": "m", "input": "x"})
    assert (reply.status, reply.body) == (502, b"<html>bad gateway</html>")
    server.enqueue(Fail(400, message="Bad thing", code="bad", param="messages", type="x_error"))
    error = h1(server, "GET", "/v1/models").json()["error"]
    assert error == {"message": "Bad thing", "type": "x_error", "param": "messages", "code": "bad"}


def test_fail_keeps_other_behaviours_queued(server: MockServer) -> None:
    server.enqueue(Truncate(), Fail(500))
    assert h1(server, "POST", "/v1/chat/completions", STREAM_CHAT).status == 500
    assert server.pending == [Truncate()]
    body = h1(server, "POST", "/v1/chat/completions", STREAM_CHAT).body
    assert events(body)[-1][1] != "[DONE]"
    assert server.pending == []


def test_permanent_behaviour(server: MockServer) -> None:
    server.enqueue(Fail(503, times=None))
    assert [h1(server, "GET", "/v1/models").status for _ in range(3)] == [503] * 3
    server.clear()
    assert h1(server, "GET", "/v1/models").status == 200


def test_behaviour_validation() -> None:
    with pytest.raises(ValueError, match="400-599"):
        Fail(200)
    with pytest.raises(ValueError, match="times"):
        Delay(1, times=0)
    with pytest.raises(ValueError, match="seconds"):
        Delay(-1)
    with MockServer() as server, pytest.raises(TypeError):
        server.enqueue("fail")  # type: ignore[arg-type]


def test_delay_and_slow_first_token_still_answer(server: MockServer) -> None:
    server.enqueue(Delay(0.05), SlowFirstToken(0.05))
    reply = h1(server, "POST", "/v1/chat/completions", STREAM_CHAT)
    assert reply.status == 200 and events(reply.body)[-1][1] == "[DONE]"
    assert server.pending == []


def test_stream_faults_skip_plain_requests(server: MockServer) -> None:
    server.enqueue(CutStream(after_events=1))
    assert h1(server, "POST", "/v1/chat/completions", CHAT).status == 200
    assert server.pending == [CutStream(after_events=1)]


def test_cut_stream_http1(server: MockServer) -> None:
    server.enqueue(CutStream(after_events=3))
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/v1/chat/completions", json.dumps(STREAM_CHAT), AUTH)
    response = conn.getresponse()
    assert response.status == 200
    with pytest.raises(http.client.IncompleteRead) as caught:
        response.read()
    assert len(events(caught.value.partial)) == 3
    conn.close()


def test_truncate(server: MockServer) -> None:
    server.enqueue(Truncate())
    chat = events(h1(server, "POST", "/v1/chat/completions", STREAM_CHAT).body)
    assert chat[-1][1] != "[DONE]" and json.loads(chat[-1][1])["choices"][0]["finish_reason"]
    server.enqueue(Truncate())
    kinds = [
        name
        for name, _ in events(
            h1(server, "POST", "/v1/responses", {**RESPONSES, "stream": True}).body
        )
    ]
    assert kinds[-1] == "response.output_item.done" and "response.completed" not in kinds
    server.enqueue(Truncate(after_events=2))
    assert len(events(h1(server, "POST", "/v1/chat/completions", STREAM_CHAT).body)) == 2


def test_malformed_event(server: MockServer) -> None:
    server.enqueue(Malformed(after_events=2))
    raw = events(h1(server, "POST", "/v1/chat/completions", STREAM_CHAT).body)
    with pytest.raises(ValueError):
        json.loads(raw[2][1])
    assert raw[-1][1] == "[DONE]", "the stream carries on after the bad line"


def test_stall_forever_until_the_client_gives_up(server: MockServer) -> None:
    server.enqueue(Stall(after_events=2))
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    body = json.dumps(STREAM_CHAT).encode()
    sock.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-test\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    received = b""
    while received.count(b"data: ") < 2:
        received += sock.recv(65536)
    sock.settimeout(0.3)
    with pytest.raises(TimeoutError):
        sock.recv(65536)
    sock.close()
    # The server notices the client left and keeps serving others.
    assert h1(server, "GET", "/v1/models").status == 200


def test_stall_for_a_while_then_carry_on(server: MockServer) -> None:
    server.enqueue(Stall(after_events=2, seconds=0.05))
    raw = events(h1(server, "POST", "/v1/chat/completions", STREAM_CHAT).body)
    assert raw[-1][1] == "[DONE]"


def test_gzip(server: MockServer) -> None:
    server.enqueue(Gzip(times=2))
    plain = h1(server, "GET", "/v1/models", headers={"Accept-Encoding": "gzip, deflate"})
    assert plain.headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(plain.body))["object"] == "list"
    stream = h1(server, "POST", "/v1/chat/completions", STREAM_CHAT, {"Accept-Encoding": "gzip"})
    assert stream.headers["content-encoding"] == "gzip"
    assert events(gzip.decompress(stream.body))[-1][1] == "[DONE]"
    server.enqueue(Gzip())
    refused = h1(server, "GET", "/v1/models", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers and refused.json()["object"] == "list"


def test_gzip_stream_decodes_event_by_event(server: MockServer) -> None:
    server.enqueue(Gzip(), Stall(after_events=1))
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    body = json.dumps(STREAM_CHAT).encode()
    sock.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n"
        + b"Authorization: Bearer sk-test\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, _, chunked = received.partition(b"\r\n\r\n")
    assert b"content-encoding: gzip" in head.lower()
    while True:  # the stream stalls after one event: read its chunk only
        size_line, _, rest = chunked.partition(b"\r\n")
        if size_line and len(rest) >= int(size_line, 16):
            break
        chunked += sock.recv(65536)
    sock.close()
    first = zlib.decompressobj(wbits=31).decompress(rest[: int(size_line, 16)])
    assert first.startswith(b"data: ") and first.endswith(b"\n\n")


def test_tool_calls_chat(server: MockServer) -> None:
    calls = ToolCalls([ToolCall("get_weather", {"city": "Paris"}), ToolCall("noop", id="call_1")])
    server.enqueue(calls)
    request = {**CHAT, "tools": [WEATHER_TOOL]}
    body = h1(server, "POST", "/v1/chat/completions", request).json()
    [choice] = body["choices"]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    first, second = choice["message"]["tool_calls"]
    assert first["id"].startswith("call_") and first["type"] == "function"
    assert first["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    assert second["id"] == "call_1"

    server.enqueue(calls)
    chunks = payloads(h1(server, "POST", "/v1/chat/completions", {**request, "stream": True}).body)
    deltas = [d for c in chunks for d in c["choices"][0]["delta"].get("tool_calls") or []]
    assert deltas[0]["id"].startswith("call_") and deltas[0]["function"]["name"] == "get_weather"
    assert deltas[0]["function"]["arguments"] == ""
    arguments = "".join(d["function"].get("arguments", "") for d in deltas if d["index"] == 0)
    assert arguments == '{"city":"Paris"}'
    assert len([d for d in deltas if d["index"] == 0]) > 2, "arguments arrive in pieces"
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_tool_calls_responses_stream(server: MockServer) -> None:
    server.enqueue(ToolCalls([ToolCall("get_weather", '{"city": "Paris"}')]))
    request = {**RESPONSES, "stream": True, "tools": [{"type": "function", "name": "get_weather"}]}
    data = payloads(h1(server, "POST", "/v1/responses", request).body)
    deltas = [d["delta"] for d in data if d["type"] == "response.function_call_arguments.delta"]
    [done] = [d for d in data if d["type"] == "response.function_call_arguments.done"]
    assert "".join(deltas) == done["arguments"] == '{"city": "Paris"}'
    [item] = data[-1]["response"]["output"]
    assert item["type"] == "function_call" and item["name"] == "get_weather"
    assert item["call_id"].startswith("call_")


def test_scripted_reply(server: MockServer) -> None:
    server.enqueue(Reply("Scripted.", finish_reason="length"))
    choice = h1(server, "POST", "/v1/chat/completions", CHAT).json()["choices"][0]
    assert choice["message"]["content"] == "Scripted." and choice["finish_reason"] == "length"


# -- HTTP/2 and TLS ------------------------------------------------------------


def test_h2c_prior_knowledge_many_streams(server: MockServer) -> None:
    with H2Client(server.port) as client:
        ids = [client.start("POST", "/v1/chat/completions", STREAM_CHAT, AUTH) for _ in range(10)]
        ids.append(client.start("GET", "/v1/models", None, AUTH))
        responses = client.wait(*ids)
    assert all(response.status == 200 and response.ended for response in responses)
    for response in responses[:-1]:
        assert events(response.body)[-1][1] == "[DONE]"
        assert response.headers["x-request-id"].startswith("req_")
    assert responses[-1].json()["object"] == "list"  # type: ignore[index]
    assert {request.http_version for request in server.requests} == {"2"}


def test_h2_honours_flow_control(server: MockServer) -> None:
    # 4,000 dimensions make a body larger than the connection window (65,535)
    # and far larger than the 100-byte stream window the client grants.
    request = {"model": "m", "input": "x", "dimensions": 4000}
    with H2Client(server.port, initial_window=100) as client:
        response = client.request("POST", "/v1/embeddings", request, AUTH)
    assert response.status == 200 and len(response.body) > 65535
    assert len(response.json()["data"][0]["embedding"]) == 4000  # type: ignore[index]


def test_h2_cut_stream_resets_only_that_stream(server: MockServer) -> None:
    server.enqueue(CutStream(after_events=2))
    with H2Client(server.port) as client:
        cut = client.start("POST", "/v1/chat/completions", STREAM_CHAT, AUTH)
        broken = client.wait(cut)[0]
        assert broken.reset_code == 2  # INTERNAL_ERROR
        assert len(events(broken.body)) == 2
        ok = client.request("GET", "/v1/models", None, AUTH)
    assert ok.status == 200


def test_h2_client_reset_ends_a_stalled_stream(server: MockServer) -> None:
    server.enqueue(Stall(after_events=1))
    with H2Client(server.port) as client:
        stalled = client.start("POST", "/v1/chat/completions", STREAM_CHAT, AUTH)
        while not client.responses[stalled].body:
            client.pump()
        client.reset(stalled)
        assert client.request("GET", "/v1/models", None, AUTH).status == 200


def test_h2_behaviours(server: MockServer) -> None:
    server.enqueue(Delay(0.01), SlowFirstToken(0.01), Gzip(), Malformed(after_events=1))
    with H2Client(server.port) as client:
        headers = {**AUTH, "accept-encoding": "gzip"}
        shaped = client.request("POST", "/v1/chat/completions", STREAM_CHAT, headers)
        server.enqueue(Truncate(), Fail(429, retry_after_ms=5))
        failed = client.request("POST", "/v1/responses", {**RESPONSES, "stream": True}, AUTH)
        truncated = client.request("POST", "/v1/responses", {**RESPONSES, "stream": True}, AUTH)
    assert shaped.headers["content-encoding"] == "gzip"
    raw = events(gzip.decompress(shaped.body))
    with pytest.raises(ValueError):
        json.loads(raw[1][1])
    assert raw[-1][1] == "[DONE]"
    assert failed.status == 429 and failed.headers["retry-after-ms"] == "5"
    assert truncated.ended and events(truncated.body)[-1][0] == "response.output_item.done"


def test_h2_errors_and_auth(server: MockServer) -> None:
    with H2Client(server.port) as client:
        denied = client.request("GET", "/v1/models")
        missing = client.request("POST", "/v1/nothing", {}, AUTH)
    assert denied.status == 401 and missing.status == 404


def test_tls_http1(ca: trustme.CA, server_tls: ssl.SSLContext) -> None:
    with MockServer(api_key=KEY, tls=server_tls) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        reply = h1(server, "POST", "/v1/chat/completions", STREAM_CHAT, tls=client_tls(ca))
    assert reply.status == 200 and events(reply.body)[-1][1] == "[DONE]"


def test_tls_alpn_h2(ca: trustme.CA, server_tls: ssl.SSLContext) -> None:
    with MockServer(api_key=KEY, tls=server_tls) as server:
        with H2Client(server.port, tls=client_tls(ca, ["h2", "http/1.1"])) as client:
            assert client.alpn == "h2"
            response = client.request("POST", "/v1/responses", {**RESPONSES, "stream": True}, AUTH)
        assert response.status == 200
        assert events(response.body)[-1][0] == "response.completed"
        assert server.requests[-1].http_version == "2"


def test_http2_disabled(ca: trustme.CA, server_tls: ssl.SSLContext) -> None:
    with MockServer(tls=server_tls, http2=False) as server:
        tls = client_tls(ca, ["h2", "http/1.1"])
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        with tls.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
            assert sock.selected_alpn_protocol() == "http/1.1"


# -- life cycle ----------------------------------------------------------------


def _server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("oxide-mock-server")]


def test_stop_closes_connections_and_joins_the_thread() -> None:
    before = len(_server_threads())
    server = MockServer().start()
    port = server.port
    server.enqueue(Stall(after_events=1), Stall(after_events=1))
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    body = json.dumps(STREAM_CHAT).encode()
    sock.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    received = b""
    while b"data: " not in received:
        received += sock.recv(65536)
    h2 = H2Client(port)
    stalled = h2.start("POST", "/v1/chat/completions", STREAM_CHAT)
    while not h2.responses[stalled].body:
        h2.pump()
    idle = socket.create_connection(("127.0.0.1", port), timeout=10)

    server.stop()

    assert len(_server_threads()) == before
    for conn in (sock, idle):
        # Closed either way: a FIN ends the reads, or a RST when the server closed
        # with bytes of ours still unread in its buffer.
        with contextlib.suppress(ConnectionResetError):
            while conn.recv(65536):
                pass
        conn.close()
    while h2.pump():
        pass
    h2.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=10)
    server.stop()  # a second stop does nothing


def test_start_stop_without_with() -> None:
    server = MockServer()
    with pytest.raises(RuntimeError):
        _ = server.port
    server.start()
    try:
        with pytest.raises(RuntimeError):
            server.start()
        assert h1(server, "GET", "/v1/models").status == 200
    finally:
        server.stop()
    assert "stopped" in repr(server)


def test_command_line() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "oxide_io.testing", "--port", "0", "--api-key", KEY],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        port = int(base_url.rsplit(":", 1)[1].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/v1/models", headers=AUTH)
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
        if process.stdout is not None:
            process.stdout.close()


# -- the official SDK, end to end ----------------------------------------------


@pytest.fixture
def sdk(server: MockServer) -> Iterator[Any]:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=2)
    yield client
    client.close()


def test_sdk_chat(sdk: Any, server: MockServer) -> None:
    completion = sdk.chat.completions.create(model="gpt-4o-mini", messages=CHAT["messages"])
    assert "Hello there" in completion.choices[0].message.content
    assert completion.usage.total_tokens > 0
    stream = sdk.chat.completions.create(
        model="gpt-4o-mini",
        messages=CHAT["messages"],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == completion.choices[0].message.content
    assert chunks[-1].usage.total_tokens > 0


def test_sdk_chat_tool_calls_stream(sdk: Any, server: MockServer) -> None:
    server.enqueue(ToolCalls([ToolCall("get_weather", {"city": "Paris"})]))
    with sdk.chat.completions.stream(
        model="gpt-4o-mini", messages=CHAT["messages"], tools=[WEATHER_TOOL]
    ) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    [call] = final.choices[0].message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}


def test_sdk_responses(sdk: Any) -> None:
    response = sdk.responses.create(model="gpt-4o-mini", input="Hello there")
    assert "Hello there" in response.output_text
    stream = sdk.responses.create(model="gpt-4o-mini", input="Hello there", stream=True)
    kinds = [event.type for event in stream]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    with sdk.responses.stream(model="gpt-4o-mini", input="Hello there") as helper:
        for _ in helper:
            pass
        assert helper.get_final_response().output_text == response.output_text


def test_sdk_models_and_embeddings(sdk: Any) -> None:
    assert [model.id for model in sdk.models.list()] == list(MODELS)
    assert sdk.models.retrieve("gpt-4o").id == "gpt-4o"
    result = sdk.embeddings.create(model="text-embedding-3-small", input="hello")
    assert result.data[0].embedding == pytest.approx(embedding("hello"))


def test_sdk_retries_a_scripted_429_and_reads_errors(sdk: Any, server: MockServer) -> None:
    import openai

    server.enqueue(Fail(429, retry_after_ms=10))
    assert sdk.models.retrieve("gpt-4o").id == "gpt-4o"
    assert len(server.requests) == 2
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.models.retrieve("nope")
    assert caught.value.code == "model_not_found"
    assert caught.value.request_id.startswith("req_")
