"""BodyTextDecoder and LineSplitter: a body as text and lines, however it was cut.

Each body is decoded fed whole, byte by byte and split at Hypothesis-chosen
points; the text must equal the whole body decoded at once, and the lines must
equal `str.splitlines()` of that text (what httpx's `iter_lines()` gives).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxide_proto import BodyTextDecoder, LineSplitter, charset_from_content_type
from tests.splits import fixed_feeds, split_at, split_points

BODIES = {
    "lf": b"one\ntwo\nthree\n",
    "crlf": b"one\r\ntwo\r\nthree",
    "cr": b"one\rtwo\r\r\nthree\r",
    "blank-lines": b"\n\n\r\n\r\rx",
    "unicode-boundaries": "a\u2028b\x85c\x0cd\u2029".encode(),
    "multibyte": "caf\u00e9 \u2603 \U0001f600\nna\u00efve\n".encode(),
    "bad-bytes": b"ok\xff\xfe\nend\xe2\x82",
    "empty": b"",
}


def decode(chunks: list[bytes], charset: str | None = None) -> tuple[str, list[str]]:
    decoder = BodyTextDecoder(charset)
    splitter = LineSplitter()
    texts: list[str] = []
    lines: list[str] = []
    for chunk in chunks:
        text = decoder.decode(chunk)
        texts.append(text)
        lines += splitter.feed(text)
    rest = decoder.flush()
    texts.append(rest)
    lines += splitter.feed(rest)
    lines += splitter.flush()
    return "".join(texts), lines


def expected(body: bytes, charset: str = "utf-8") -> tuple[str, list[str]]:
    text = body.decode(charset, errors="replace")
    return text, text.splitlines()


@pytest.mark.parametrize("name", sorted(BODIES))
def test_whole_and_bytewise(name: str) -> None:
    body = BODIES[name]
    for how, chunks in fixed_feeds(body):
        assert decode(chunks) == expected(body), how


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(sorted(BODIES)), points=split_points())
def test_any_split(name: str, points: list[int]) -> None:
    body = BODIES[name]
    assert decode(split_at(body, points)) == expected(body)


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet="ab\r\n\u00e9\u2028", max_size=40), points=split_points())
def test_lines_of_any_text(text: str, points: list[int]) -> None:
    body = text.encode()
    assert decode(split_at(body, points)) == (text, text.splitlines())


def test_charset_from_the_content_type() -> None:
    body = "d\u00e9j\u00e0 vu\n".encode("latin-1")
    for how, chunks in fixed_feeds(body):
        assert decode(chunks, "latin-1") == expected(body, "latin-1"), how
    assert charset_from_content_type('text/plain; Charset="ISO-8859-1"') == "ISO-8859-1"
    assert charset_from_content_type("application/json") is None
    assert charset_from_content_type(None) is None
    # An unknown charset decodes as UTF-8 rather than failing the download.
    assert BodyTextDecoder("no-such-charset").encoding == "utf-8"
    assert BodyTextDecoder("LATIN-1").encoding == "iso8859-1"
