"""SSEDecoder against the WHATWG "event stream interpretation" rules.

Every case runs fed whole, byte by byte and split at Hypothesis-chosen points, and
must give the same events; Hypothesis also round-trips generated events through
random line endings, and compares the decoder with a plain reference parser
(`sse_reference.py`) on arbitrary bytes.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxide_proto import (
    NEED_DATA,
    LimitExceededError,
    LocalProtocolError,
    ServerSentEvent,
    SSEDecoder,
)
from tests.proto.sse_reference import reference_events
from tests.splits import fixed_feeds, split_at, split_points

E = ServerSentEvent


def decode(chunks: list[bytes], **limits: int) -> list[ServerSentEvent]:
    decoder = SSEDecoder(**limits)
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        decoder.receive_data(chunk)
        while (event := decoder.next_event()) is not NEED_DATA:
            events.append(event)
        # Between reads only the unfinished line is kept.
        assert len(decoder._buf) - decoder._pos <= limits.get("max_line_size", 1 << 24)
    decoder.receive_eof()
    while (event := decoder.next_event()) is not NEED_DATA:
        events.append(event)
    assert decoder.finished
    return events


def decode_until_error(chunks: list[bytes], **limits: int) -> tuple[list[ServerSentEvent], str]:
    """The events handed out before `LimitExceededError`, and its message."""
    events: list[ServerSentEvent] = []
    decoder = SSEDecoder(**limits)
    try:
        for chunk in [*chunks, None]:
            if chunk is None:
                decoder.receive_eof()
            else:
                decoder.receive_data(chunk)
            while (event := decoder.next_event()) is not NEED_DATA:
                events.append(event)
    except LimitExceededError as exc:
        with pytest.raises(LimitExceededError):
            decoder.next_event()  # it stays broken
        return events, str(exc)
    raise AssertionError(f"no LimitExceededError; events: {events}")


CASES: list[tuple[str, bytes, list[ServerSentEvent]]] = [
    ("lf", b"data: a\n\n", [E(None, "a")]),
    ("crlf", b"data: a\r\n\r\n", [E(None, "a")]),
    ("cr", b"data: a\r\r", [E(None, "a")]),
    ("mixed endings", b"data: a\r\ndata: b\rdata: c\n\r\n", [E(None, "a\nb\nc")]),
    ("cr then crlf", b"data: a\r\r\n", [E(None, "a")]),
    ("lf then cr is two line ends", b"data: a\n\rdata: b\n\n", [E(None, "a"), E(None, "b")]),
    ("several events", b"data: 1\n\ndata: 2\n\ndata: 3\n\n", [E(None, s) for s in "123"]),
    ("data lines joined with lf", b"data: a\ndata: b\ndata: c\n\n", [E(None, "a\nb\nc")]),
    ("no space after colon", b"data:a\n\n", [E(None, "a")]),
    ("only one space stripped", b"data:  a \n\n", [E(None, " a ")]),
    ("tab is not stripped", b"data:\ta\n\n", [E(None, "\ta")]),
    ("colon in value", b"data: a:b: c\n\n", [E(None, "a:b: c")]),
    ("field without colon", b"data\n\n", [E(None, "")]),
    ("empty data", b"data:\n\n", [E(None, "")]),
    ("empty data line keeps lf", b"data: a\ndata:\n\n", [E(None, "a\n")]),
    ("two empty data lines", b"data\ndata\n\n", [E(None, "\n")]),
    ("comment", b": hello\ndata: a\n: bye\n\n", [E(None, "a")]),
    ("lone colon is a comment", b":\n\n", []),
    ("comment-only block", b": keep-alive\n\n: again\n\n", []),
    ("event name", b"event: add\ndata: a\n\n", [E("add", "a")]),
    ("empty event name is message", b"event:\ndata: a\n\n", [E(None, "a")]),
    (
        "event name does not carry over",
        b"event: x\ndata: a\n\ndata: b\n\n",
        [E("x", "a"), E(None, "b")],
    ),
    ("last event name wins", b"event: x\nevent: y\ndata: a\n\n", [E("y", "a")]),
    ("event without data is dropped", b"event: x\n\ndata: b\n\n", [E(None, "b")]),
    ("event name after data", b"data: a\nevent: late\n\n", [E("late", "a")]),
    ("id", b"id: 1\ndata: a\n\ndata: b\n\n", [E(None, "a", "1"), E(None, "b", "1")]),
    ("id changes", b"id: 1\ndata: a\n\nid: 2\ndata: b\n\n", [E(None, "a", "1"), E(None, "b", "2")]),
    ("id with nul ignored", b"id: 1\n\nid: 2\x003\ndata: a\n\n", [E(None, "a", "1")]),
    (
        "empty id resets",
        b"id: 1\ndata: a\n\nid\ndata: b\n\n",
        [E(None, "a", "1"), E(None, "b", "")],
    ),
    ("id-only block still sets id", b"id: 7\n\ndata: a\n\n", [E(None, "a", "7")]),
    ("id without colon space", b"id:x y\ndata: a\n\n", [E(None, "a", "x y")]),
    ("retry", b"retry: 1500\ndata: a\n\n", [E(None, "a", None, 1500)]),
    ("retry carries over", b"retry: 10\n\ndata: a\n\n", [E(None, "a", None, 10)]),
    ("retry not digits", b"retry: 1.5\ndata: a\n\n", [E(None, "a")]),
    ("retry negative", b"retry: -1\ndata: a\n\n", [E(None, "a")]),
    ("retry empty", b"retry:\ndata: a\n\n", [E(None, "a")]),
    ("retry with two spaces", b"retry:  10\ndata: a\n\n", [E(None, "a")]),
    ("retry arabic digits", "retry: \u0661\u0660\ndata: a\n\n".encode(), [E(None, "a")]),
    ("retry keeps last valid", b"retry: 5\nretry: x\ndata: a\n\n", [E(None, "a", None, 5)]),
    ("unknown field", b"foo: bar\ndata: a\n\n", [E(None, "a")]),
    ("field names are case-sensitive", b"Data: a\nDATA: b\ndata: c\n\n", [E(None, "c")]),
    ("leading space makes another field", b" data: a\ndata: b\n\n", [E(None, "b")]),
    ("bom dropped", b"\xef\xbb\xbfdata: a\n\n", [E(None, "a")]),
    ("only one bom dropped", b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n", [E(None, "b")]),
    ("bom later is data", "data: \ufeffa\n\n".encode(), [E(None, "\ufeffa")]),
    ("blank lines first", b"\n\n\r\n\rdata: a\n\n", [E(None, "a")]),
    ("many blank lines", b"data: a\n\n\n\n\ndata: b\n\n", [E(None, "a"), E(None, "b")]),
    ("unfinished event dropped", b"data: a\n\ndata: b\n", [E(None, "a")]),
    ("unfinished line dropped", b"data: a\n\ndata: b", [E(None, "a")]),
    ("final cr is a line end", b"data: a\n\r", [E(None, "a")]),
    ("final cr after data only", b"data: a\r", []),
    ("utf-8", "data: héllo 東京 😀\n\n".encode(), [E(None, "héllo 東京 😀")]),
    ("invalid utf-8 replaced", b"data: a\xffb\n\n", [E(None, "a\ufffdb")]),
    ("truncated utf-8 before lf", b"data: \xe2\x82\ndata: x\n\n", [E(None, "\ufffd\nx")]),
    ("nul in data kept", b"data: a\x00b\n\n", [E(None, "a\x00b")]),
    ("empty input", b"", []),
    ("only a bom", b"\xef\xbb\xbf", []),
    ("partial bom", b"\xef\xbb", []),
    (
        "responses framing",
        b'event: response.created\ndata: {"type":"response.created"}\n\n',
        [E("response.created", '{"type":"response.created"}')],
    ),
]


@pytest.mark.parametrize(("stream", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_whatwg_cases(stream: bytes, expected: list[ServerSentEvent]) -> None:
    assert reference_events(stream) == expected
    for how, chunks in fixed_feeds(stream):
        assert decode(chunks) == expected, how


@pytest.mark.parametrize(("stream", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@settings(max_examples=25, deadline=None)
@given(points=split_points())
def test_whatwg_cases_split(
    stream: bytes, expected: list[ServerSentEvent], points: list[int]
) -> None:
    assert decode(split_at(stream, points)) == expected


# -- round trip ---------------------------------------------------------------------------

_text = st.text(
    st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=12
)
_event = st.fixed_dictionaries(
    {
        "event": st.one_of(st.none(), _text),
        "data": st.lists(_text, min_size=1, max_size=3),
        "id": st.one_of(st.none(), _text.filter(lambda s: "\0" not in s)),
        "retry": st.one_of(st.none(), st.integers(0, 10**6)),
        "comment": st.one_of(st.none(), _text),
    }
)


def _serialize(events: list[dict[str, object]], endings: list[str], bom: bool) -> bytes:
    lines: list[str] = []
    for ev in events:
        if ev["comment"] is not None:
            lines.append(f":{ev['comment']}")
        if ev["event"] is not None:
            lines.append(f"event: {ev['event']}")
        if ev["id"] is not None:
            lines.append(f"id: {ev['id']}")
        if ev["retry"] is not None:
            lines.append(f"retry: {ev['retry']}")
        lines.extend(f"data: {d}" for d in ev["data"])  # type: ignore[attr-defined]
        lines.append("")
    out: list[str] = []
    previous = ""
    for i, line in enumerate(lines):
        ending = endings[i % len(endings)]
        if previous == "\r" and line == "" and ending == "\n":
            ending = "\r\n"  # CR then LF would be one line end, not two
        out.append(line + ending)
        previous = ending
    return ("\ufeff" if bom else "").encode() + "".join(out).encode()


@settings(max_examples=150, deadline=None)
@given(
    events=st.lists(_event, max_size=6),
    endings=st.lists(st.sampled_from(["\n", "\r", "\r\n"]), min_size=1, max_size=8),
    bom=st.booleans(),
    points=split_points(),
)
def test_round_trip(
    events: list[dict[str, object]], endings: list[str], bom: bool, points: list[int]
) -> None:
    stream = _serialize(events, endings, bom)
    expected = []
    last_id = None
    retry = None
    for ev in events:
        if ev["id"] is not None:
            last_id = ev["id"]
        if ev["retry"] is not None:
            retry = ev["retry"]
        data = "\n".join(ev["data"])  # type: ignore[arg-type]
        expected.append(E(ev["event"] or None, data, last_id, retry))  # type: ignore[arg-type]
    assert decode([stream]) == expected
    assert decode(split_at(stream, points)) == expected


# -- differential: arbitrary bytes against the reference parser ---------------------------

_pieces = st.sampled_from(
    [
        b"data",
        b"event",
        b"id",
        b"retry",
        b"x",
        b"12",
        b":",
        b": ",
        b" ",
        b"\n",
        b"\r",
        b"\r\n",
        b"\n\n",
        b"\xef\xbb\xbf",
        b"\xff",
        b"\xe2\x82",
        b"\xac",
        b"\x00",
        "é".encode(),
    ]
)
_streams = st.lists(_pieces, max_size=40).map(b"".join)


@settings(max_examples=200, deadline=None)
@given(stream=_streams, points=split_points())
def test_matches_reference(stream: bytes, points: list[int]) -> None:
    expected = reference_events(stream)
    assert decode([stream]) == expected
    assert decode(split_at(stream, points)) == expected


@settings(max_examples=150, deadline=None)
@given(
    stream=_streams,
    points=split_points(),
    max_line=st.integers(1, 12),
    max_event=st.integers(1, 12),
)
def test_limits_same_however_split(
    stream: bytes, points: list[int], max_line: int, max_event: int
) -> None:
    limits = {"max_line_size": max_line, "max_event_size": max_event}
    outcomes = []
    for chunks in (
        [stream],
        split_at(stream, points),
        [stream[i : i + 1] for i in range(len(stream))],
    ):
        try:
            outcomes.append((decode(chunks, **limits), None))
        except LimitExceededError as exc:
            outcomes.append(decode_until_error(chunks, **limits))
            assert exc.limit in (max_line, max_event)
    assert outcomes[0] == outcomes[1] == outcomes[2]
    if outcomes[0][1] is None:
        assert outcomes[0][0] == reference_events(stream)


# -- limits -------------------------------------------------------------------------------


def test_long_line_fails_before_its_end() -> None:
    decoder = SSEDecoder(max_line_size=64)
    decoder.receive_data(b"data: ok\n\n")
    decoder.receive_data(b"data: " + b"x" * 58)  # exactly 64 bytes so far: fine
    assert decoder.next_event() == E(None, "ok")
    assert decoder.next_event() is NEED_DATA
    decoder.receive_data(b"x")
    with pytest.raises(LimitExceededError, match="longer than 64 bytes") as info:
        decoder.next_event()
    assert info.value.limit == 64


@pytest.mark.parametrize(("how", "chunks"), list(fixed_feeds(b"data: 1\n\n: " + b"c" * 30 + b"\n")))
def test_long_complete_line_fails_after_earlier_events(how: str, chunks: list[bytes]) -> None:
    events, message = decode_until_error(chunks, max_line_size=16)
    assert events == [E(None, "1")]
    assert "longer than 16 bytes" in message


def test_line_at_the_limit_passes() -> None:
    assert decode([b"data: " + b"x" * 10 + b"\r\n\r\n"], max_line_size=16) == [E(None, "x" * 10)]


@pytest.mark.parametrize(
    "stream",
    [b"data: 12345\ndata: 67890\n\n", b"data: 12345678901\n\n", b"event: e\ndata: 12345678901\n\n"],
)
def test_event_data_limit(stream: bytes) -> None:
    for how, chunks in fixed_feeds(b"data: ok\n\n" + stream):
        events, message = decode_until_error(chunks, max_event_size=10)
        assert events == [E(None, "ok")], how
        assert "event data longer than 10 characters" in message


def test_event_data_at_the_limit_passes() -> None:
    assert decode([b"data: 1234\ndata: 56789\n\n"], max_event_size=10) == [E(None, "1234\n56789")]


def test_comments_and_fields_do_not_pile_up() -> None:
    # An event that never ends costs only its data, not its comment lines.
    decoder = SSEDecoder(max_line_size=100, max_event_size=100)
    for _ in range(10_000):
        decoder.receive_data(b": keep-alive\nid: 1\nevent: x\n")
        assert decoder.next_event() is NEED_DATA
        assert len(decoder._buf) - decoder._pos == 0
    decoder.receive_data(b"data: a\n\n")
    assert decoder.next_event() == E("x", "a", "1")


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SSEDecoder(max_line_size=0)


# -- state and misuse ---------------------------------------------------------------------


def test_last_event_id_and_retry_properties() -> None:
    decoder = SSEDecoder()
    decoder.receive_data(b"retry: 300\nid: a\n")
    assert decoder.next_event() is NEED_DATA
    assert decoder.retry == 300  # takes effect at once
    assert decoder.last_event_id is None  # only committed by a blank line
    decoder.receive_data(b"\n")
    assert decoder.next_event() is NEED_DATA
    assert decoder.last_event_id == "a"


def test_unfinished_id_is_not_committed_at_eof() -> None:
    decoder = SSEDecoder()
    decoder.receive_data(b"id: 1\n\nid: 2\n")
    decoder.receive_eof()
    assert decoder.next_event() is NEED_DATA
    assert decoder.last_event_id == "1"
    assert decoder.finished


def test_receive_data_after_eof_is_misuse() -> None:
    decoder = SSEDecoder()
    decoder.receive_eof()
    with pytest.raises(LocalProtocolError):
        decoder.receive_data(b"data: a\n\n")


def test_finished_only_after_eof() -> None:
    decoder = SSEDecoder()
    decoder.receive_data(b"data: a\n\n")
    assert not decoder.finished
    assert decoder.next_event() == E(None, "a")
    assert decoder.next_event() is NEED_DATA
    assert not decoder.finished
    decoder.receive_eof()
    assert decoder.next_event() is NEED_DATA
    assert decoder.finished


def test_event_is_frozen_and_parses_json() -> None:
    event = E("x", '{"a": [1, 2]}', "7", 10)
    assert event.json() == {"a": [1, 2]}
    with pytest.raises(AttributeError):
        event.data = "y"  # type: ignore[misc]


def test_cr_at_the_end_of_a_read_ends_the_line_at_once() -> None:
    # A live stream with CR line ends must not wait for the next read to dispatch.
    decoder = SSEDecoder()
    decoder.receive_data(b"data: a\r\r")
    assert decoder.next_event() == E(None, "a")
    decoder.receive_data(b"\ndata: b\r")  # that LF completes the CRLF begun above
    assert decoder.next_event() is NEED_DATA
    decoder.receive_data(b"\n\r\n")
    assert decoder.next_event() == E(None, "b")


def test_a_broken_decoder_keeps_nothing_more() -> None:
    decoder = SSEDecoder(max_line_size=8)
    decoder.receive_data(b"data: 123456789")
    with pytest.raises(LimitExceededError):
        decoder.next_event()
    decoder.receive_data(b"x" * 1000)
    assert len(decoder._buf) - decoder._pos <= 16
    with pytest.raises(LimitExceededError):
        decoder.next_event()
