"""A streaming multipart/form-data encoder (RFC 7578) for file uploads.

Uploads can be large (audio, batch files, fine-tuning data), so file content is an
iterable of byte chunks that the I/O layer reads from a path or file object; this
module never opens anything and never holds a whole file. The boundary is a token
the caller makes (the core has no randomness). When every part's size is known the
exact `content_length` is computed up front, so the request can be sent with a
Content-Length instead of chunked encoding.

Field and file names are written the way browsers and the official SDK's HTTP
client write them (WHATWG form encoding): `"` becomes `%22`, control characters
(CR, LF, ...) become `%0D`-style escapes, `\\` is doubled, and anything else,
non-ASCII included, is sent as UTF-8. Form values are flattened like the SDK's:
a list under `key` is repeated as `key[]`, a nested object becomes `key[sub]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

from ..base._errors import LocalProtocolError
from ..base._record import field, frozen
from ..base._url import flatten_params

__all__ = ["FilePart", "FileInput", "MultipartBody", "encode_multipart", "guess_content_type"]

# RFC 2046 §5.1.1 allows 1 to 70 boundary characters; these are the ones that are
# also RFC 9110 token characters, so the Content-Type parameter needs no quoting.
_BOUNDARY = re.compile(r"[0-9A-Za-z'+_.\-]{1,70}")
_NAME_ESCAPES = {'"': "%22", "\\": "\\\\"}
_NAME_ESCAPES.update({chr(c): f"%{c:02X}" for c in (*range(0x20), 0x7F)})
_NAME_ESCAPE = re.compile("|".join(re.escape(c) for c in _NAME_ESCAPES))
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CTL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

# The upload formats the API takes, so a part gets a useful Content-Type without
# consulting the system's MIME database (that would be file access in the core).
_CONTENT_TYPES = {
    "aac": "audio/aac",
    "csv": "text/csv",
    "flac": "audio/flac",
    "gif": "image/gif",
    "htm": "text/html",
    "html": "text/html",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "json": "application/json",
    "jsonl": "application/jsonl",
    "m4a": "audio/mp4",
    "md": "text/markdown",
    "mp3": "audio/mpeg",
    "mp4": "video/mp4",
    "mpeg": "video/mpeg",
    "mpga": "audio/mpeg",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "pdf": "application/pdf",
    "png": "image/png",
    "txt": "text/plain",
    "wav": "audio/x-wav",
    "webm": "video/webm",
    "webp": "image/webp",
}


def guess_content_type(filename: str | None) -> str | None:
    """A Content-Type for `filename` from its extension, `application/octet-stream`
    when the extension is unknown, and None when there is no filename."""
    if not filename:
        return None
    _, dot, ext = filename.rpartition(".")
    known = _CONTENT_TYPES.get(ext.lower()) if dot else None
    return known or "application/octet-stream"


@frozen(kw_only=True)
class FilePart:
    """One file in a form.

    `content` is the whole file as bytes, or an iterable of byte chunks; `size` is
    the total length of those chunks when known (needed for a Content-Length). A
    `content_type` of None is guessed from the filename. Content that is an
    iterable but not an iterator must start again from its first byte each time
    it is iterated: the request is then sent again when a retry calls for it.
    """

    filename: str | None
    content: bytes | Iterable[bytes] = field(repr=False)
    content_type: str | None = None
    size: int | None = None

    @property
    def length(self) -> int | None:
        if isinstance(self.content, bytes):
            return len(self.content)
        return self.size


# What a caller may pass for a file: a FilePart, or the SDK's tuple shapes
# (filename, content) and (filename, content, content_type), or bare bytes.
FileInput = (
    FilePart
    | bytes
    | tuple[str | None, bytes | Iterable[bytes]]
    | tuple[str | None, bytes | Iterable[bytes], str | None]
)


@frozen
class MultipartBody:
    """An encoded form: the Content-Type header value, the body and its length.

    `body` is bytes when every part was given as bytes; otherwise an iterable of
    chunks, which can be iterated again (and the request replayed on a retry) when
    every streamed part's content is a re-iterable rather than an iterator, and
    is a one-shot iterator otherwise. `content_length` is None when some part's
    size is unknown.
    """

    content_type: str
    body: bytes | Iterable[bytes] = field(repr=False)
    content_length: int | None


def _escape(value: str) -> str:
    return _NAME_ESCAPE.sub(lambda m: _NAME_ESCAPES[m.group(0)], value)


def _as_part(value: FileInput) -> FilePart:
    if isinstance(value, FilePart):
        return value
    if isinstance(value, bytes):
        return FilePart(filename="upload", content=value)
    if isinstance(value, tuple) and len(value) in (2, 3):
        content_type = value[2] if len(value) == 3 else None
        return FilePart(filename=value[0], content=value[1], content_type=content_type)
    raise TypeError(
        "a file must be a FilePart, bytes, (filename, content) or "
        f"(filename, content, content_type), not {type(value).__name__}"
    )


def _part_head(boundary: str, name: str, part: FilePart | None) -> bytes:
    lines = [f'--{boundary}\r\nContent-Disposition: form-data; name="{_escape(name)}"']
    if part is not None:
        if part.filename:
            lines.append(f'; filename="{_escape(part.filename)}"')
        content_type = part.content_type or guess_content_type(part.filename)
        if content_type is not None:
            if _CTL.search(content_type):
                raise LocalProtocolError(
                    f"the Content-Type of file field {name!r} contains a control character"
                )
            lines.append(f"\r\nContent-Type: {content_type}")
    lines.append("\r\n\r\n")
    return "".join(lines).encode("utf-8")


def _checked_chunks(name: str, part: FilePart) -> Iterator[bytes]:
    sent = 0
    for chunk in part.content:
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"file field {name!r} yielded {type(chunk).__name__}, expected bytes chunks"
            )
        data = bytes(chunk)
        sent += len(data)
        if part.size is not None and sent > part.size:
            break
        if data:
            yield data
    if part.size is not None and sent != part.size:
        # The Content-Length already promised `size` bytes; a mismatch would
        # desynchronise the connection, so it is the caller's error.
        raise LocalProtocolError(
            f"file field {name!r} declared size {part.size} but its content "
            f"{'exceeded it' if sent > part.size else f'had {sent} bytes'}"
        )


def _stream(pieces: list[bytes | tuple[str, FilePart]]) -> Iterator[bytes]:
    for piece in pieces:
        if isinstance(piece, bytes):
            yield piece
        else:
            yield from _checked_chunks(*piece)


@frozen
class _Replayable:
    """A body whose parts can all be read again: each iteration starts from the top,
    so a request that failed can be sent again (see `Request.replayable`)."""

    pieces: list[bytes | tuple[str, FilePart]]

    def __iter__(self) -> Iterator[bytes]:
        return _stream(self.pieces)


def encode_multipart(
    fields: Mapping[str, object] | Sequence[tuple[str, str | bytes]] | None,
    files: Mapping[str, FileInput] | Sequence[tuple[str, FileInput]] | None,
    *,
    boundary: str,
) -> MultipartBody:
    """Encodes form `fields` and `files` as multipart/form-data with `boundary`.

    `fields` is either a mapping (flattened as the official SDK does: lists become
    repeated `key[]` fields, nested objects `key[sub]`, booleans `true`/`false`,
    `None` dropped) or ready (name, value) pairs. `files` maps field names (as the
    API spells them, e.g. `file` or `files[]`) to files; a sequence may repeat a
    name. Fields come first, then files, as the SDK sends them.

    `boundary` must be 1-70 letters, digits or `'+_.-`; 32 random hex digits is a
    good choice. Raises `ValueError` for a bad boundary, `TypeError` for a file of
    the wrong shape, `LocalProtocolError` when a streamed file's chunks do not add
    up to its declared size (raised while the body is iterated).
    """
    if not _BOUNDARY.fullmatch(boundary):
        raise ValueError(
            "a multipart boundary must be 1-70 characters of letters, digits and '+_.-"
        )
    if fields is None:
        pairs: Sequence[tuple[str, str | bytes]] = ()
    elif isinstance(fields, Mapping):
        pairs = flatten_params(fields)
    else:
        pairs = fields
    file_items: Iterable[tuple[str, FileInput]] = (
        () if files is None else files.items() if isinstance(files, Mapping) else files
    )

    pieces: list[bytes | tuple[str, FilePart]] = []
    buffer = bytearray()
    length: int | None = 0
    for name, value in pairs:
        data = value if isinstance(value, bytes) else str(value).encode("utf-8")
        buffer += _part_head(boundary, name, None) + data + b"\r\n"
    for name, file in file_items:
        part = _as_part(file)
        buffer += _part_head(boundary, name, part)
        if isinstance(part.content, bytes):
            buffer += part.content
        else:
            if part.size is not None and part.size < 0:
                raise ValueError(f"file field {name!r} has a negative size")
            pieces.append(bytes(buffer))
            buffer.clear()
            pieces.append((name, part))
            part_length = part.length
            length = None if length is None or part_length is None else length + part_length
        buffer += b"\r\n"
    buffer += f"--{boundary}--\r\n".encode("ascii")
    pieces.append(bytes(buffer))

    content_type = f"multipart/form-data; boundary={boundary}"
    if len(pieces) == 1:
        only = pieces[0]
        assert isinstance(only, bytes)
        return MultipartBody(content_type, only, len(only))
    if length is not None:
        length += sum(len(p) for p in pieces if isinstance(p, bytes))
    reiterable = all(
        isinstance(piece, bytes) or not isinstance(piece[1].content, Iterator) for piece in pieces
    )
    body = _Replayable(pieces) if reiterable else _stream(pieces)
    return MultipartBody(content_type, body, length)
