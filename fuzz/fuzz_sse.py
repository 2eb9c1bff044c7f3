"""Coverage-guided fuzzing of SSEDecoder, the server-sent events parser.

Invariant: any bytes give events or `LimitExceededError`, nothing else, and the
same events (and the same error, after the same events) whether they arrive
whole, byte by byte or split at fuzzer-chosen points. Memory stays bounded: after
`next_event()` returns `NEED_DATA` the decoder holds at most `max_line_size`
unparsed bytes and `max_event_size` characters of pending data, and no event's
data is longer than `max_event_size`. When no limit is hit, the events equal those
of the plain reference parser in `tests/proto/sse_reference.py` (the WHATWG
rules, one character at a time). Anything else is a bug.

Input layout: byte 0 sets the limits (high bit set: the 16 MiB defaults; else
`max_line_size` from bits 0-2 and `max_event_size` from bits 3-6, a few bytes to
~70); byte 1 seeds the split sizes (0: byte by byte); the rest is the stream.

    python fuzz/fuzz_sse.py fuzz/seeds/sse                  # fuzz (atheris)
    python fuzz/fuzz_sse.py --replay fuzz/seeds/sse         # check the seeds once
    python fuzz/fuzz_sse.py --write-seeds fuzz/seeds/sse    # regenerate the seeds
"""

from __future__ import annotations

import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from fuzz import _harness as harness
from oxide_proto import NEED_DATA, LimitExceededError, ServerSentEvent, SSEDecoder
from tests.proto.sse_reference import reference_events

Outcome = tuple[list[ServerSentEvent], str | None]


def _limits(byte: int) -> tuple[int, int]:
    if byte & 0x80:
        return 16 * 1024 * 1024, 16 * 1024 * 1024
    return 1 + (byte & 0x07) * 9, 1 + ((byte >> 3) & 0x0F) * 5


def _chunks(data: bytes, seed: int) -> list[bytes]:
    return harness.split(data, seed, max_piece=37)


def _run(chunks: list[bytes], max_line: int, max_event: int) -> Outcome:
    decoder = SSEDecoder(max_line_size=max_line, max_event_size=max_event)
    events: list[ServerSentEvent] = []
    try:
        for chunk in [*chunks, None]:
            if chunk is None:
                decoder.receive_eof()
            else:
                decoder.receive_data(chunk)
            while (event := decoder.next_event()) is not NEED_DATA:
                assert len(event.data) <= max_event, "event data over the limit"
                events.append(event)
            # Between reads the decoder keeps only the unfinished line and the data
            # of the unfinished event.
            assert len(decoder._buf) - decoder._pos <= max_line, "unfinished line over the limit"
            assert decoder._data_size <= max_event, "pending data over the limit"
        assert decoder.finished
    except LimitExceededError as exc:
        assert exc.limit in (max_line, max_event)
        return events, str(exc)
    return events, None


def check(data: bytes) -> None:
    """One fuzz input: the invariant in the module docstring must hold."""
    if len(data) < 2:
        return
    max_line, max_event = _limits(data[0])
    stream = data[2:]
    whole = _run([stream], max_line, max_event)
    bytewise = _run(_chunks(stream, 0), max_line, max_event)
    split = _run(_chunks(stream, data[1]), max_line, max_event)
    assert whole == bytewise == split, (whole, bytewise, split)
    if whole[1] is None:
        assert whole[0] == reference_events(stream)


def _seeds() -> dict[str, bytes]:
    defaults = 0x80

    def data(payload: object, event: str | None = None, end: str = "\n") -> bytes:
        head = f"event: {event}{end}" if event else ""
        return f"{head}data: {json.dumps(payload, separators=(',', ':'))}{end}{end}".encode()

    chunk = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1741569952,
        "model": "gpt-4.1",
        "choices": [{"index": 0, "delta": {"content": " über 東京"}, "finish_reason": None}],
    }
    chat = b"".join(data(chunk) for _ in range(3)) + b"data: [DONE]\n\n"
    kinds: list[tuple[str, dict[str, object]]] = [
        ("response.created", {"response": {"id": "resp_1", "status": "in_progress"}}),
        ("response.output_text.delta", {"item_id": "msg_1", "delta": "Hel"}),
        ("response.output_text.delta", {"item_id": "msg_1", "delta": "lo 😀"}),
        ("response.completed", {"response": {"id": "resp_1", "status": "completed"}}),
    ]
    responses = b"".join(
        data({"type": kind, "sequence_number": n, **fields}, kind)
        for n, (kind, fields) in enumerate(kinds)
    )
    return {
        "chat_completion": bytes([defaults, 7]) + chat,
        "responses_event_lines": bytes([defaults, 3]) + responses,
        "cr_only": bytes([defaults, 5]) + data(chunk, "x", "\r") + b"data: a\rdata: b\r\r",
        "crlf": bytes([defaults, 2]) + data(chunk, "x", "\r\n") + b"data: a\r\n\r\n",
        "bom": bytes([defaults, 1]) + b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n",
        "comments": bytes([defaults, 9])
        + b": keep-alive\n\n:\ndata: a\n: between\ndata: b\n\n: trailing",
        "fields": bytes([defaults, 4])
        + b"id: 1\nretry: 3000\nevent: e\ndata\n\nid: 2\x00\nretry: x\ndata:  two spaces\n\n"
        + b"id\nfoo: bar\nData: no\ndata:\n\nid: 9\n\n",
        "invalid_utf8": bytes([defaults, 6]) + b"data: \xff\xfe\xe2\x82\ndata: \xe2\x82\xac\n\n",
        "unfinished": bytes([defaults, 8]) + b"data: a\n\ndata: b\ndata: c",
        "line_limit": bytes([0x03 | (0x0F << 3), 5]) + b"data: ok\n\ndata: " + b"x" * 40 + b"\n\n",
        "event_limit": bytes([0x07 | (0x02 << 3), 3])
        + b"data: 12345\n\ndata: 123456\ndata: 78901\n\n",
        "comment_flood": bytes([0x02 | (0x01 << 3), 11]) + b": ping\n" * 50 + b"data: a\n\n",
    }


if __name__ == "__main__":
    harness.main(check, _seeds)
