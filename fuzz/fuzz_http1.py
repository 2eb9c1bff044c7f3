"""Coverage-guided fuzzing of HTTP11Connection, the client side of HTTP/1.1.

Invariant: whatever bytes the server sends in answer to a GET (or HEAD),
`next_event()` hands out events or raises only the documented `RemoteProtocolError`
family (`LimitExceededError`, `DecodingError`; the message's detail from h11 may
depend on where a read ended, the class may not), and it does so identically whether
the bytes arrive whole, byte by byte, or split at arbitrary points — body data may
come in different pieces, so adjacent `BodyData` are joined before comparing, and
the body data before a `DecodingError` may be shorter or longer (zlib fails a whole
call), so it is left out of the comparison; and a head that starts with a control
byte and is also over `max_head_size` may be reported for either fault.
Memory stays bounded: no decoded `BodyData` is larger than `max_decoded_size`, and a
response head over `max_head_size` is an error however it was split. Anything else
(another exception, a difference between the feeds) is a bug.

Input layout: byte 0 picks HEAD (bit 0), EOF after the bytes (bit 1) and
`max_head_size` (bits 2-7: 64..4096); byte 1 seeds the split sizes; the rest is what
the server sends.

    python fuzz/fuzz_http1.py fuzz/seeds/http1                 # fuzz (atheris)
    python fuzz/fuzz_http1.py --replay fuzz/seeds/http1        # check the seeds once
    python fuzz/fuzz_http1.py --write-seeds fuzz/seeds/http1   # regenerate seeds
"""

from __future__ import annotations

import gzip
import pathlib
import sys
import zlib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from fuzz import _harness as harness
from oxide_proto import (
    NEED_DATA,
    URL,
    BodyData,
    BodyEnd,
    Headers,
    HTTP11Connection,
    RemoteProtocolError,
    Request,
)

MAX_DECODED = 4096
_SAME_FAULT = {("LimitExceededError", False): ("RemoteProtocolError", False)}
URL_ = URL("https", "api.openai.com", 443, "/v1/models")


def _chunks(data: bytes, seed: int) -> list[bytes]:
    return harness.split(data, seed, max_piece=29)


def _run(chunks: list[bytes], *, head: bool, eof: bool, max_head: int) -> list[object]:
    client = HTTP11Connection(max_head_size=max_head, max_decoded_size=MAX_DECODED)
    stream_id = client.start_request(Request("HEAD" if head else "GET", URL_, Headers()))
    client.data_to_send()
    seen: list[object] = []
    try:
        for chunk in [*chunks, *([b""] if eof else [])]:
            client.receive_data(chunk)
            while (event := client.next_event(stream_id)) is not NEED_DATA:
                if isinstance(event, BodyData):
                    assert len(event.data) <= max(MAX_DECODED, len(chunk)), "body piece too big"
                    if seen and isinstance(seen[-1], BodyData):
                        event = BodyData(seen.pop().data + event.data)  # type: ignore[attr-defined]
                seen.append(event)
                if isinstance(event, BodyEnd):
                    client.release(stream_id)
                    return seen
    except RemoteProtocolError as exc:
        # h11 words some errors by how far it had read, so only the class must match.
        seen.append((type(exc).__name__, exc.retry_safe))
    return seen


def check(data: bytes) -> None:
    """One fuzz input: the invariant in the module docstring must hold."""
    if len(data) < 2:
        return
    head, eof = bool(data[0] & 1), bool(data[0] & 2)
    max_head = 64 * (1 + (data[0] >> 2))
    stream = data[2:]
    feeds = [[stream] if stream else [], _chunks(stream, data[1] or 1)]
    if len(stream) <= 8192:
        feeds.append(_chunks(stream, 0))
    results = [_forgive(_run(chunks, head=head, eof=eof, max_head=max_head)) for chunks in feeds]
    if stream[:1] and stream[0] < 0x21:
        # h11 rejects a head starting with a control byte or space as soon as it sees
        # it; whole, a long one is rejected for its size first. Either error is right.
        results = [[_SAME_FAULT.get(e, e) for e in r] for r in results]
    assert all(result == results[0] for result in results), results


def _forgive(seen: list[object]) -> list[object]:
    """Drops the body data just before a DecodingError, checked to be a valid prefix.

    zlib reports corruption for a whole call, so how much of the body decodes before
    the error depends on where reads ended; only the error itself must agree.
    """
    if seen and seen[-1] == ("DecodingError", False) and isinstance(seen[-2], BodyData):
        return [*seen[:-2], seen[-1]]
    return seen


def _seeds() -> dict[str, bytes]:
    import h11

    def respond(*events: object, method: bytes = b"GET") -> bytes:
        server = h11.Connection(h11.SERVER)
        server.receive_data(b"%s / HTTP/1.1\r\nHost: a\r\n\r\n" % method)
        server.next_event()
        return b"".join(server.send(e) or b"" for e in events)  # type: ignore[arg-type]

    def ok(body: bytes, *headers: tuple[str, str]) -> bytes:
        fields = [*headers, ("content-length", str(len(body)))]
        return respond(
            h11.Response(status_code=200, headers=fields), h11.Data(data=body), h11.EndOfMessage()
        )

    text = b'{"object": "list", "data": [{"id": "gpt-4o"}]}'
    get, head, get_eof = bytes([0x3C, 7]), bytes([0x3D, 5]), bytes([0x3E, 3])
    small = bytes([0x04, 11])  # max_head_size 128
    return {
        "plain": get + ok(text, ("content-type", "application/json")),
        "chunked": get
        + respond(
            h11.Response(status_code=200, headers=[("transfer-encoding", "chunked")]),
            h11.Data(data=b"data: {}\n\n"),
            h11.Data(data=b"data: [DONE]\n\n"),
            h11.EndOfMessage(),
        ),
        "trailers": get
        + respond(
            h11.Response(status_code=200, headers=[("transfer-encoding", "chunked")]),
            h11.Data(data=b"body"),
            h11.EndOfMessage(headers=[("x-checksum", "1")]),
        ),
        "gzip": get + ok(gzip.compress(text * 20), ("content-encoding", "gzip")),
        "deflate": get + ok(zlib.compress(text), ("content-encoding", "deflate")),
        "gzip_bomb": get + ok(gzip.compress(bytes(200_000)), ("content-encoding", "gzip")),
        "informational": get
        + respond(
            h11.InformationalResponse(status_code=100, headers=[]),
            h11.InformationalResponse(status_code=103, headers=[("link", "</s.css>")]),
            h11.Response(status_code=201, headers=[("content-length", "2")]),
            h11.Data(data=b"ok"),
            h11.EndOfMessage(),
        ),
        "head": head
        + respond(
            h11.Response(status_code=200, headers=[("content-length", "99")]),
            h11.EndOfMessage(),
            method=b"HEAD",
        ),
        "http10_until_eof": get_eof + b"HTTP/1.0 200 OK\r\nServer: old\r\n\r\nuntil eof",
        "connection_close": get + ok(b"bye", ("connection", "close")),
        "truncated": get_eof + b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort",
        "malformed_status": get + b"HTTP/1.1 20x OK\r\n\r\n",
        # Heads the plain exchange (no h11) takes, and near misses it hands to h11.
        "plain_keep_alive": get
        + b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
        "plain_then_garbage": get + b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nokHTTP/1.1",
        "mixed_line_ends": get + b"HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\nok",
        "repeated_length": get
        + b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
        "head_too_large": small + ok(b"x", ("x-filler", "f" * 200)),
        "error_json": get
        + respond(
            h11.Response(
                status_code=429, headers=[("retry-after-ms", "20"), ("content-length", "2")]
            ),
            h11.Data(data=b"{}"),
            h11.EndOfMessage(),
        ),
    }


if __name__ == "__main__":
    harness.main(check, _seeds)
