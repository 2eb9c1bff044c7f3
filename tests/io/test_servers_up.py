"""Each real server the io tests use starts, answers, and llmock's scripted faults work.

Spoken to with the stdlib only (`http.client`, `ssl`, a raw socket for the
WebSocket handshake), so a failure here is about the servers, not about oxide.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import ssl
import urllib.parse
from typing import Any

from tests.io.h2_raw import H2Client
from tests.servers import (
    Certs,
    llmock_requests,
    llmock_reset,
    llmock_scenario,
    llmock_verdict,
)

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}


def _conn(url: str, context: ssl.SSLContext | None = None) -> http.client.HTTPConnection:
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname == "127.0.0.1" and parts.port is not None
    if parts.scheme == "https":
        return http.client.HTTPSConnection("127.0.0.1", parts.port, timeout=10, context=context)
    return http.client.HTTPConnection("127.0.0.1", parts.port, timeout=10)


def _post(url: str, path: str, body: Any, context: ssl.SSLContext | None = None) -> Any:
    conn = _conn(url, context)
    try:
        conn.request(
            "POST",
            path,
            json.dumps(body),
            {"Authorization": "Bearer sk-test", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_certs(certs: Certs) -> None:
    assert os.path.exists(certs.ca_pem) and os.path.exists(certs.key_pem)
    with open(certs.cert_pem) as chain:
        assert chain.read().startswith("-----BEGIN CERTIFICATE-----")
    assert certs.ssl_context.verify_mode == ssl.CERT_REQUIRED


def test_llmock_answers_chat(llmock_url: str) -> None:
    status, headers, body = _post(llmock_url, "/v1/chat/completions", CHAT)
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert json.loads(body)["object"] == "chat.completion"


def test_llmock_scripted_429_with_retry_after(llmock_url: str) -> None:
    llmock_reset(llmock_url)
    queued = llmock_scenario(llmock_url, {"type": "fail", "status": 429, "retry_after": 2})
    assert queued["queued"] == 1
    status, headers, body = _post(llmock_url, "/v1/chat/completions", CHAT)
    assert status == 429
    assert headers["retry-after"] == "2" and headers["retry-after-ms"] == "2000"
    assert "error" in json.loads(body)
    status, _, _ = _post(llmock_url, "/v1/chat/completions", CHAT)
    assert status == 200, "the fault applied once"
    records = llmock_requests(llmock_url)
    assert [record["status"] for record in records] == [429, 200]
    assert records[0]["fault"] == "scenario:429"
    verdict = llmock_verdict(llmock_url)
    assert verdict["calls"] >= 1 and isinstance(verdict["findings"], list)
    llmock_reset(llmock_url)


def test_llmock_h2c(llmock_h2c_url: str) -> None:
    status, _, body = _post(llmock_h2c_url, "/v1/chat/completions", CHAT)
    assert status == 200 and json.loads(body)["object"] == "chat.completion"
    port = urllib.parse.urlsplit(llmock_h2c_url).port
    assert port is not None
    with H2Client(port) as client:
        response = client.request("POST", "/v1/chat/completions", {**CHAT, "stream": True})
    assert response.status == 200 and response.body.rstrip().endswith(b"data: [DONE]")


def test_llmock_tls_alpn_h2(llmock_tls_url: str, certs: Certs) -> None:
    status, _, _ = _post(llmock_tls_url, "/v1/chat/completions", CHAT, certs.ssl_context)
    assert status == 200
    port = urllib.parse.urlsplit(llmock_tls_url).port
    assert port is not None
    with H2Client(port, tls=certs.client_context(["h2", "http/1.1"])) as client:
        assert client.alpn == "h2"
        response = client.request("GET", "/v1/models")
    assert response.status == 200 and json.loads(response.body)["object"] == "list"


def _websocket_echo(url: str, context: ssl.SSLContext | None = None) -> bytes:
    """Open a WebSocket by hand (RFC 6455), send one masked text frame, read the echo."""
    port = urllib.parse.urlsplit(url).port
    assert port is not None
    sock: socket.socket = socket.create_connection(("127.0.0.1", port), timeout=10)
    if context is not None:
        sock = context.wrap_socket(sock, server_hostname="127.0.0.1")
    with sock:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            (
                f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(4096)
        head, _, rest = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101")
        payload, mask = b"hello", os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)
        while len(rest) < 2 + len(payload):
            rest += sock.recv(4096)
        assert rest[0] == 0x81 and rest[1] == len(payload)
        return rest[2 : 2 + len(payload)]


def test_ws_echo(ws_echo_url: str) -> None:
    assert ws_echo_url.startswith("ws://")
    assert _websocket_echo(ws_echo_url) == b"hello"


def test_wss_echo(wss_echo_url: str, certs: Certs) -> None:
    assert wss_echo_url.startswith("wss://")
    assert _websocket_echo(wss_echo_url, certs.client_context()) == b"hello"
