"""Coverage-guided fuzzing of WebSocketSession, the client side of a WebSocket.

Invariant: whatever bytes the server sends, before or after a valid handshake,
`next_event()` hands out events or raises only the documented errors
(`WebSocketHandshakeError`, `LimitExceededError`, `RemoteProtocolError`), and it does
so identically whether the bytes arrive whole or split at arbitrary points. Memory
stays bounded by `max_message_size`: no message handed out and no partial message
held is larger than it. Anything else (another exception, a difference between the
feeds, a message over the limit) is a bug.

One documented difference is forgiven: a text message that is both over the limit
and not valid UTF-8 is reported as too big only when a read ends inside its valid
prefix, because wsproto decodes each piece it is given in one step. As a
report of an earlier message over the limit looks the same, no too-big report
directly before a UTF-8 error is compared.

Input layout: byte 0 sets `max_message_size` (1..256) and whether EOF follows;
byte 1 seeds the split sizes; the rest is what the server sends, with every
`@ACCEPT@` replaced by the Sec-WebSocket-Accept that matches the handshake key,
so the seeds (and the fuzzer) get past the handshake. The key is pinned while an
input runs, so every feed sees the very same bytes.

    python fuzz/fuzz_websocket.py fuzz/seeds/websocket        # fuzz (atheris)
    python fuzz/fuzz_websocket.py --replay fuzz/seeds/websocket  # check the seeds once
    python fuzz/fuzz_websocket.py --write-seeds fuzz/seeds/websocket  # regenerate seeds
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import pathlib
import sys
from collections.abc import Iterator

import wsproto.handshake

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from fuzz import _harness as harness
from oxide_proto import (
    NEED_DATA,
    URL,
    BinaryMessage,
    Closed,
    LimitExceededError,
    RemoteProtocolError,
    TextMessage,
    WebSocketHandshakeError,
    WebSocketSession,
)

ACCEPT = b"@ACCEPT@"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
DOCUMENTED = (WebSocketHandshakeError, LimitExceededError, RemoteProtocolError)
URL_ = URL("wss", "api.openai.com", 443, "/v1/responses")
UTF8_ERROR = "WebSocket protocol error: text that is not valid UTF-8"


KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
TOKEN = base64.b64encode(hashlib.sha1(KEY + GUID).digest())


@contextlib.contextmanager
def _pinned_key() -> Iterator[None]:
    # The key is random (wsproto draws it); a fixed one makes the expected 101, and so
    # every byte the server sends, the same for each feed of one input.
    original = wsproto.handshake.generate_nonce
    wsproto.handshake.generate_nonce = lambda: KEY
    try:
        yield
    finally:
        wsproto.handshake.generate_nonce = original


def _session(max_size: int) -> WebSocketSession:
    with _pinned_key():
        session = WebSocketSession(
            URL_, headers=[("Authorization", "Bearer sk-fuzz")], max_message_size=max_size, now=0.0
        )
    assert KEY in session.data_to_send()
    return session


def _chunks(data: bytes, seed: int) -> list[bytes]:
    return harness.split(data, seed, max_piece=23)


def _run(session: WebSocketSession, chunks: list[bytes], eof: bool, limit: int) -> list[object]:
    seen: list[object] = []

    def drain() -> bool:
        for _ in range(100_000):
            try:
                event = session.next_event()
            except DOCUMENTED as exc:
                seen.append((type(exc).__name__, str(exc)))
                continue
            if event is NEED_DATA:
                return False
            if isinstance(event, TextMessage):
                assert len(event.data.encode("utf-8")) <= limit, "text message over the limit"
            elif isinstance(event, BinaryMessage):
                assert len(event.data) <= limit, "binary message over the limit"
            seen.append(event)
            if isinstance(event, Closed):
                assert session.next_event() == event
                return True
        raise AssertionError("next_event() never ran dry")

    done = False
    for chunk in chunks:
        if chunk:
            session.receive_data(chunk, 1.0)
            session.data_to_send()
            if not done:
                done = drain()
            held = session._parts_size  # what a partial message holds right now
            assert held <= limit, "partial message over the limit"
    if eof:
        session.receive_data(b"", 2.0)
        if not done:
            drain()
    return seen


def _forgive(seen: list[object]) -> list[object]:
    """`seen` without the too-big reports directly before a UTF-8 error.

    All of them, not only the last: whether the failing message was reported too
    big depends on the reads, so a report just before the error may be that
    message's or an earlier one's, and the events alone cannot tell which.
    """
    kept: list[object] = []
    for item in seen:
        if item == ("RemoteProtocolError", UTF8_ERROR):
            while kept and isinstance(kept[-1], tuple) and kept[-1][0] == "LimitExceededError":
                kept.pop()
        kept.append(item)
    return kept


def check(data: bytes) -> None:
    """One fuzz input: the invariant in the module docstring must hold."""
    if len(data) < 2:
        return
    limit = 1 + (data[0] & 0x7F) * 2
    eof = bool(data[0] & 0x80)
    results = []
    for seed in (None, 0, data[1]):
        session = _session(limit)
        stream = data[2:].replace(ACCEPT, TOKEN)
        chunks = [stream] if seed is None else _chunks(stream, seed)
        results.append(_forgive(_run(session, chunks, eof, limit)))
    assert results[0] == results[1] == results[2], results


def _seeds() -> dict[str, bytes]:
    from wsproto.frame_protocol import FrameProtocol

    server = FrameProtocol(client=False, extensions=[])
    ok = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + ACCEPT + b"\r\nx-request-id: req_1\r\n\r\n"
    )

    def text(data: str, fin: bool = True) -> bytes:
        return bytes(server.send_data(data, fin))

    def binary(data: bytes, fin: bool = True) -> bytes:
        return bytes(server.send_data(data, fin))

    close = bytes(server.close(4001, "session expired"))
    ping = bytes(server.ping(b"are you there"))
    json_body = b'{"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}'
    big = 0x7F  # limit 255
    return {
        "messages": bytes([big, 7])
        + ok
        + text('{"type":"response.created"}')
        + binary(b"\x00\xff")
        + ping
        + text("")
        + close,
        "fragments": bytes([big, 3])
        + ok
        + text("caf", False)
        + ping
        + text("é ✓", False)
        + text(" au lait")
        + binary(b"ab", False)
        + binary(b"cd")
        + close,
        "too_big": bytes([4, 0])
        + ok
        + text("0123456789")
        + binary(b"abcd", False)
        + binary(b"ef")
        + text("ok")
        + bytes(server.close(1009, "too big")),
        "too_big_invalid_utf8": bytes([2, 1]) + ok + b"\x81\x08abcdefg\xff",
        "length_16": bytes([big, 9]) + ok + binary(bytes(range(200))),
        "length_64": bytes([big, 11]) + ok + b"\x82\x7f" + (70000).to_bytes(8, "big") + b"x" * 64,
        "masked": bytes([big, 5]) + ok + b"\x81\x82abcd\x00\x00",
        "bad_utf8": bytes([big, 2]) + ok + b"\x81\x05ok\xc3\x28!",
        "reserved_opcode": bytes([big, 4]) + ok + b"\x83\x00",
        "close_bad_code": bytes([big, 4]) + ok + b"\x88\x02\x03\xed",
        "eof_mid_message": bytes([0x80 | big, 6]) + ok + text("half", False),
        "refused_401": bytes([big, 8]) + b"HTTP/1.1 401 Unauthorized\r\nContent-Type: "
        b"application/json\r\nContent-Length: %d\r\n\r\n" % len(json_body) + json_body,
        "refused_until_eof": bytes([0x80 | big, 3])
        + b"HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nno such endpoint",
        "bad_accept": bytes([big, 1]) + ok.replace(ACCEPT, b"A" * 27 + b"="),
        "garbage": bytes([big, 2]) + b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    }


if __name__ == "__main__":
    harness.main(check, _seeds)
