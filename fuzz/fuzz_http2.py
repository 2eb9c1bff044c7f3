"""Coverage-guided fuzzing of HTTP2Connection, the client side of HTTP/2.

Invariant: whatever bytes the server sends in answer to two concurrent requests
(stream 1: GET, stream 3: POST with a small body), `next_event()` on each stream hands
out events or raises only the documented `RemoteProtocolError` family
(`LimitExceededError`, `DecodingError`), and every stream sees exactly the same events
and the same error whether the bytes arrive whole, byte by byte, or split at arbitrary
points (body data received together comes out as one event, so adjacent `BodyData`
are joined before comparing). `receive_data()` never raises.
Memory stays bounded: no `BodyData` is larger than `max_decoded_size` or the stream's
receive window, and buffered unpulled data never exceeds that window.
Anything else (another exception, a difference between the feeds) is a bug.

Input layout: byte 0 bit 0 says whether EOF follows the bytes; byte 1 seeds the split
sizes; the rest is what the server sends (after the client's preface).

    python fuzz/fuzz_http2.py fuzz/seeds/http2                 # fuzz (atheris)
    python fuzz/fuzz_http2.py --replay fuzz/seeds/http2        # check the seeds once
    python fuzz/fuzz_http2.py --write-seeds fuzz/seeds/http2   # regenerate seeds
"""

from __future__ import annotations

import gzip
import pathlib
import sys
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from fuzz import _harness as harness
from oxide_proto import (
    NEED_DATA,
    URL,
    BodyData,
    BodyEnd,
    Headers,
    HTTP2Connection,
    RemoteProtocolError,
    Request,
)

MAX_DECODED = 4096
WINDOW = 16384
URL_ = URL("https", "api.openai.com", 443, "/v1/responses")


def _client() -> tuple[HTTP2Connection, list[int]]:
    client = HTTP2Connection(now=0.0, max_decoded_size=MAX_DECODED, initial_window_size=WINDOW)
    get = client.start_request(Request("GET", URL_, Headers({"accept": "text/event-stream"})))
    post = client.start_request(Request("POST", URL_, Headers(), b'{"model": "gpt-4o"}'))
    return client, [get, post]


def _chunks(data: bytes, seed: int) -> list[bytes]:
    return harness.split(data, seed, max_piece=37)


def _run(chunks: list[bytes], eof: bool) -> dict[int, list[object]]:
    client, streams = _client()
    client.data_to_send()
    seen: dict[int, list[object]] = {s: [] for s in streams}
    done: set[int] = set()
    for chunk in [*chunks, *([b""] if eof else [])]:
        client.receive_data(chunk)
        client.data_to_send()
        for stream_id in streams:
            if stream_id in done:
                continue
            held = client._streams[stream_id].unacked
            assert held <= WINDOW, "more unpulled data than the window allows"
            try:
                while (event := client.next_event(stream_id)) is not NEED_DATA:
                    if isinstance(event, BodyData):
                        assert len(event.data) <= max(MAX_DECODED, WINDOW), "body piece too big"
                        if seen[stream_id] and isinstance(seen[stream_id][-1], BodyData):
                            earlier = seen[stream_id].pop()
                            event = BodyData(earlier.data + event.data)  # type: ignore[attr-defined]
                    seen[stream_id].append(event)
                    if isinstance(event, BodyEnd):
                        done.add(stream_id)
                        break
            except RemoteProtocolError as exc:
                seen[stream_id].append((type(exc).__name__, str(exc), exc.retry_safe))
                done.add(stream_id)
            client.data_to_send()
    return seen


def check(data: bytes) -> None:
    """One fuzz input: the invariant in the module docstring must hold."""
    if len(data) < 2:
        return
    eof = bool(data[0] & 1)
    stream = data[2:]
    feeds = [[stream] if stream else [], _chunks(stream, data[1] or 1)]
    if len(stream) <= 8192:
        feeds.append(_chunks(stream, 0))
    results = [_run(chunks, eof) for chunks in feeds]
    assert all(result == results[0] for result in results), results


def _seeds() -> dict[str, bytes]:
    import h2.config
    import h2.connection
    import h2.errors
    import h2.settings
    from hyperframe.frame import GoAwayFrame

    def exchange(script: Any, *, eof: bool = False, split: int = 7) -> bytes:
        """What h2's server sends when `script(server)` answers the two requests."""
        client, _ = _client()
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        server = h2.connection.H2Connection(config=config)
        server.initiate_connection()
        server.receive_data(client.data_to_send())
        out = server.data_to_send()
        out += script(server) or b""
        out += server.data_to_send()
        return bytes([int(eof), split]) + out

    def head(server: Any, stream_id: int, *extra: tuple[bytes, bytes]) -> None:
        server.send_headers(stream_id, [(b":status", b"200"), *extra])

    def plain(server: Any) -> None:
        head(server, 1, (b"content-type", b"application/json"))
        server.send_data(1, b'{"id": "resp_1"}', end_stream=True)
        head(server, 3)
        server.send_data(3, b"created", end_stream=True)

    def gzipped(server: Any) -> None:
        head(server, 1, (b"content-encoding", b"gzip"))
        server.send_data(1, gzip.compress(b"data: token\n\n" * 100), end_stream=True)
        head(server, 3, (b"content-encoding", b"gzip"))
        server.send_data(3, gzip.compress(bytes(100_000)), end_stream=True)  # over the limit

    def trailers_and_padding(server: Any) -> None:
        head(server, 3)
        head(server, 1)
        server.send_data(1, b"padded", pad_length=20)
        server.send_data(3, b"x" * 10000)
        server.send_headers(1, [(b"x-usage", b"7")], end_stream=True)
        server.send_data(3, b"", end_stream=True)

    def informational(server: Any) -> None:
        server.send_headers(1, [(b":status", b"103"), (b"link", b"</a>")])
        head(server, 1)
        server.end_stream(1)
        server.reset_stream(3, h2.errors.ErrorCodes.REFUSED_STREAM)

    def goaway(server: Any) -> bytes:
        head(server, 1)
        server.send_data(1, b"before")
        frame = GoAwayFrame(stream_id=0, last_stream_id=1, error_code=0)
        out = server.data_to_send() + frame.serialize()
        server.send_data(1, b"after", end_stream=True)
        return out

    def settings_and_ping(server: Any) -> None:
        server.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1})
        server.ping(b"pingpong")
        head(server, 1)
        server.send_data(1, b"ok", end_stream=True)

    def eof_mid_body(server: Any) -> None:
        head(server, 1)
        server.send_data(1, b"cut")

    def reset_internal(server: Any) -> None:
        head(server, 1)
        server.reset_stream(1, h2.errors.ErrorCodes.INTERNAL_ERROR)
        server.reset_stream(3, h2.errors.ErrorCodes.CANCEL)

    return {
        "plain": exchange(plain),
        "gzip": exchange(gzipped, split=3),
        "trailers_padding": exchange(trailers_and_padding, split=11),
        "informational_refused": exchange(informational),
        "goaway": exchange(goaway, split=5),
        "settings_ping": exchange(settings_and_ping),
        "eof_mid_body": exchange(eof_mid_body, eof=True),
        "reset": exchange(reset_internal, split=2),
        "garbage": bytes([0, 1]) + b"HTTP/1.1 400 Bad Request\r\n\r\n",
    }


if __name__ == "__main__":
    harness.main(check, _seeds)
