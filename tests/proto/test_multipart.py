"""The multipart/form-data encoder, parsed back with the stdlib and compared with httpx."""

from __future__ import annotations

import email.parser
import email.policy
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxide_proto import (
    FilePart,
    Headers,
    LocalProtocolError,
    MultipartBody,
    Request,
    encode_multipart,
    guess_content_type,
    parse_url,
)
from tests.splits import bytewise, split_at, split_points, whole

BOUNDARY = "0123456789abcdef0123456789abcdef"


def body_bytes(form: MultipartBody) -> bytes:
    return form.body if isinstance(form.body, bytes) else b"".join(form.body)


def parse(
    form: MultipartBody, data: bytes | None = None
) -> list[tuple[str, str | None, str | None, bytes]]:
    """(name, filename, content type, payload) for each part, via the email parser."""
    data = body_bytes(form) if data is None else data
    if data == f"--{BOUNDARY}--\r\n".encode():
        return []  # the email parser does not read a multipart with no parts
    head = f"Content-Type: {form.content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + data)
    assert message.is_multipart()
    parts = []
    for part in message.iter_parts():  # type: ignore[attr-defined]
        disposition = part.get("content-disposition")
        name = disposition.params["name"]
        filename = disposition.params.get("filename")
        payload = part.get_payload(decode=True)
        parts.append((name, filename, part.get("content-type"), payload))
    return parts


def test_fields_then_files() -> None:
    form = encode_multipart(
        {"purpose": "fine-tune", "n": 2, "stream": True, "skip": None, "tags": ["a", "b"]},
        {"file": ("train.jsonl", b'{"x":1}\r\n{"x":2}\n')},
        boundary=BOUNDARY,
    )
    assert form.content_type == f"multipart/form-data; boundary={BOUNDARY}"
    assert isinstance(form.body, bytes)
    assert form.content_length == len(form.body)
    parsed = parse(form)
    assert [(n, f, p) for n, f, _, p in parsed] == [
        ("purpose", None, b"fine-tune"),
        ("n", None, b"2"),
        ("stream", None, b"true"),
        ("tags[]", None, b"a"),
        ("tags[]", None, b"b"),
        ("file", "train.jsonl", b'{"x":1}\r\n{"x":2}\n'),
    ]
    assert parsed[-1][2] == "application/jsonl"


def test_nested_fields_and_repeated_files() -> None:
    form = encode_multipart(
        {"chunking_strategy": {"type": "static", "static": {"max": 800}}},
        [("image[]", ("a.png", b"A")), ("image[]", ("b.webp", b"B", "image/x-custom"))],
        boundary=BOUNDARY,
    )
    parsed = parse(form)
    assert [p[0] for p in parsed] == [
        "chunking_strategy[type]",
        "chunking_strategy[static][max]",
        "image[]",
        "image[]",
    ]
    assert [p[2] for p in parsed[2:]] == ["image/png", "image/x-custom"]


def test_file_without_name_has_no_filename_or_type() -> None:
    form = encode_multipart(None, {"file": (None, b"data")}, boundary="b")
    assert body_bytes(form) == (
        b'--b\r\nContent-Disposition: form-data; name="file"\r\n\r\ndata\r\n--b--\r\n'
    )
    bare = encode_multipart(None, {"file": b"data"}, boundary="b")
    assert b'filename="upload"\r\nContent-Type: application/octet-stream' in body_bytes(bare)


def test_empty_form() -> None:
    form = encode_multipart(None, None, boundary="b")
    assert form.body == b"--b--\r\n"
    assert form.content_length == 7


@pytest.mark.parametrize(
    ("filename", "written"),
    [
        ('a"b.txt', "a%22b.txt"),
        (
            "a\r\nContent-Type: text/html\r\n\r\nx.txt",
            "a%0D%0AContent-Type: text/html%0D%0A%0D%0Ax.txt",
        ),
        ("a\\b.txt", "a\\\\b.txt"),
        ("résumé 你好.pdf", "résumé 你好.pdf"),
        ("a\x00b", "a%00b"),
    ],
)
def test_filename_escaping(filename: str, written: str) -> None:
    form = encode_multipart(None, {"file": (filename, b"x")}, boundary="b")
    assert f'filename="{written}"'.encode() in body_bytes(form)
    # One part, one header block: nothing the name carries can add a header.
    assert body_bytes(form).count(b"\r\n\r\n") == 1


def test_streamed_file() -> None:
    consumed: list[bytes] = []

    def chunks() -> Iterator[bytes]:
        for chunk in (b"hello ", b"", b"world"):
            consumed.append(chunk)
            yield chunk

    part = FilePart(filename="a.txt", content=chunks(), size=11)
    form = encode_multipart({"purpose": "x"}, {"file": part}, boundary="b")
    assert consumed == []  # nothing read before the body is sent
    data = body_bytes(form)
    assert form.content_length == len(data)
    assert parse(form, data)[-1][3] == b"hello world"


def test_streamed_file_of_unknown_size() -> None:
    form = encode_multipart(None, {"file": ("a.bin", iter([b"ab", b"c"]))}, boundary="b")
    assert form.content_length is None
    assert not isinstance(form.body, bytes)
    assert parse(form)[0][3] == b"abc"


class Chunks:
    """Content read again from its start on each iteration, as a file rewound is."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.passes = 0

    def __iter__(self) -> Iterator[bytes]:
        self.passes += 1
        return iter(self.chunks)


def test_reiterable_content_gives_a_replayable_body() -> None:
    content = Chunks(b"hello ", b"world")
    part = FilePart(filename="a.txt", content=content, size=11)
    form = encode_multipart({"purpose": "x"}, {"file": part}, boundary="b")
    first, second = body_bytes(form), body_bytes(form)
    assert first == second and content.passes == 2
    assert parse(form, first)[-1][3] == b"hello world"
    request = Request("POST", parse_url("http://h/"), Headers(), form.body, form.content_length)
    assert request.replayable


def test_one_shot_part_makes_the_body_one_shot() -> None:
    files = [("a", FilePart(filename="a", content=Chunks(b"x"))), ("b", ("b", iter([b"y"])))]
    form = encode_multipart(None, files, boundary="b")
    request = Request("POST", parse_url("http://h/"), Headers(), form.body)
    assert not request.replayable


@pytest.mark.parametrize(("chunks", "size"), [([b"ab"], 3), ([b"ab", b"cd"], 3)])
def test_declared_size_must_match(chunks: list[bytes], size: int) -> None:
    form = encode_multipart(
        None, {"file": FilePart(filename="a", content=iter(chunks), size=size)}, boundary="b"
    )
    with pytest.raises(LocalProtocolError, match="declared size 3"):
        body_bytes(form)


def test_wrong_chunk_type() -> None:
    form = encode_multipart(None, {"file": ("a", iter(["text"]))}, boundary="b")  # type: ignore[list-item]
    with pytest.raises(TypeError, match="bytes"):
        body_bytes(form)


@pytest.mark.parametrize("boundary", ["", "a b", "x" * 71, "a\r\nb", "a;b", 'a"b'])
def test_bad_boundary(boundary: str) -> None:
    with pytest.raises(ValueError, match="boundary"):
        encode_multipart(None, None, boundary=boundary)


def test_content_type_injection() -> None:
    with pytest.raises(LocalProtocolError, match="file"):
        encode_multipart(None, {"file": ("a", b"x", "text/plain\r\nX-Evil: 1")}, boundary="b")


def test_guess_content_type() -> None:
    assert guess_content_type("A.MP3") == "audio/mpeg"
    assert guess_content_type("x.unknown") == "application/octet-stream"
    assert guess_content_type("noext") == "application/octet-stream"
    assert guess_content_type(None) is None


# --- properties ----------------------------------------------------------------

names = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=10)
# httpx leaves ESC and DEL unescaped in names; this encoder escapes every control.
httpx_names = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x1b\x7f"), min_size=1, max_size=10
)
contents = st.binary(max_size=200)


@given(
    st.lists(st.tuples(names, st.text(st.characters(exclude_categories=["Cs"]), max_size=20))),
    st.lists(st.tuples(names, names, contents), max_size=3),
    split_points(),
)
@settings(max_examples=100, deadline=None)
def test_round_trip_and_chunking(
    fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]], points: list[int]
) -> None:
    """Whole, byte-by-byte and randomly split file content encode to the same bytes,
    and the email parser reads back every field and file."""
    whole_form = encode_multipart(
        fields, [(n, (f, c, "application/octet-stream")) for n, f, c in files], boundary=BOUNDARY
    )
    expected = body_bytes(whole_form)
    assert whole_form.content_length == len(expected)
    for split in (whole, bytewise, lambda data: split_at(data, points)):
        streamed = encode_multipart(
            fields,
            [(n, FilePart(filename=f, content=iter(split(c)), size=len(c))) for n, f, c in files],
            boundary=BOUNDARY,
        )
        assert body_bytes(streamed) == expected
        assert streamed.content_length == len(expected)


@given(
    st.lists(st.tuples(st.from_regex(r"[a-z_\[\]]{1,8}", fullmatch=True), st.text(max_size=20))),
    st.lists(
        st.tuples(
            st.from_regex(r"[a-z]{1,8}", fullmatch=True),
            st.from_regex(r"[a-z]{1,8}\.bin", fullmatch=True),
            contents,
        ),
        max_size=3,
    ),
)
@settings(max_examples=100, deadline=None)
def test_email_parser_reads_it_back(
    fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]
) -> None:
    fields = [(n, v) for n, v in fields if "\r" not in v and "\n" not in v and v.isprintable()]
    form = encode_multipart(
        fields, [(n, (f, c, "application/octet-stream")) for n, f, c in files], boundary=BOUNDARY
    )
    parsed = parse(form)
    assert [(n, v.encode()) for n, v in fields] == [(n, p) for n, f, _, p in parsed if f is None]
    assert [(n, f, c) for n, f, c in files] == [(n, f, p) for n, f, _, p in parsed if f]


@given(
    st.dictionaries(httpx_names, st.text(st.characters(exclude_categories=["Cs"]), max_size=20)),
    st.lists(st.tuples(httpx_names, httpx_names, contents), max_size=3),
)
@settings(max_examples=150, deadline=None)
def test_matches_httpx_encoding(
    fields: dict[str, str], files: list[tuple[str, str, bytes]]
) -> None:
    """Byte for byte what the official SDK's HTTP client sends for the same form."""
    multipart: Any = pytest.importorskip("httpx2._multipart")
    form_files = [(n, (f, c, "application/octet-stream")) for n, f, c in files]
    reference = multipart.MultipartStream(fields, form_files, boundary=BOUNDARY.encode())
    ours = encode_multipart(fields, form_files, boundary=BOUNDARY)
    assert body_bytes(ours) == b"".join(reference)
    assert ours.content_length == reference.get_content_length()
    assert ours.content_type == reference.content_type
