"""Files for multipart uploads: what callers pass, turned into parts the core streams.

The official SDK accepts bytes, paths, open binary files and
`(filename, content[, content_type])` tuples whose content is any of those. The
core encodes a `FilePart` whose content is an iterable of chunks with a known
size, so a large file is sent with a Content-Length and never held in memory.
Reading files is I/O, so it happens here, chunk by chunk, while the body is sent.

A path, or a seekable file (rewound to where it stood when the call began),
is read again from its start on each pass: the request can be retried. A file
that cannot seek is read once, and a request that fails while sending it is
not retried. `file_upload()` adds a progress callback and explicit names.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

from oxide_proto import FilePart

__all__ = ["ProgressCallback", "file_range", "file_upload", "new_boundary", "split_files"]

# 64 KiB: large enough that per-chunk costs vanish, small enough to stream.
CHUNK_SIZE = 64 * 1024

ProgressCallback = Callable[[int, "int | None"], object]


def new_boundary() -> str:
    return f"oxide-{secrets.token_hex(16)}"


class _Chunks:
    """The bytes of a path, a seekable file or a bytes object, read afresh on each pass.

    Iterating reports `on_progress(sent, total)` after each chunk has been taken
    by the connection, so the last call is `(total, total)`; a retried upload
    reports from zero again.
    """

    def __init__(
        self,
        source: bytes | str | IO[bytes],
        *,
        start: int = 0,
        size: int,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self._source = source
        self._start = start
        self.size = size
        self._on_progress = on_progress

    def __iter__(self) -> Iterator[bytes]:
        return self._report(self._read())

    def _read(self) -> Iterator[bytes]:
        source = self._source
        if isinstance(source, bytes):
            view = memoryview(source)
            for offset in range(0, len(view), CHUNK_SIZE):
                yield bytes(view[offset : offset + CHUNK_SIZE])
        elif isinstance(source, str):
            with open(source, "rb") as handle:
                if self._start:
                    handle.seek(self._start)
                yield from _drain(handle, self.size)
        else:
            source.seek(self._start)
            yield from _drain(source, self.size)

    def _report(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        on_progress = self._on_progress
        if on_progress is None:
            yield from chunks
            return
        sent = 0
        on_progress(0, self.size)
        for chunk in chunks:
            yield chunk
            sent += len(chunk)
            on_progress(sent, self.size)


def _drain(handle: IO[bytes], size: int | None) -> Iterator[bytes]:
    # Exactly `size` bytes: a file that grew since its size was taken must not
    # overrun the Content-Length already sent (the core checks that too).
    left = size
    while left is None or left > 0:
        chunk = handle.read(CHUNK_SIZE if left is None else min(CHUNK_SIZE, left))
        if not chunk:
            return
        if isinstance(chunk, str):
            raise TypeError("upload files must be opened in binary mode ('rb'), not text mode")
        if left is not None:
            left -= len(chunk)
        yield chunk


def _one_shot(handle: IO[bytes], on_progress: ProgressCallback | None) -> Iterator[bytes]:
    sent = 0
    for chunk in _drain(handle, None):
        yield chunk
        sent += len(chunk)
        if on_progress is not None:
            on_progress(sent, None)


def _name_of(value: object) -> str | None:
    name = getattr(value, "name", None)
    return os.path.basename(name) if isinstance(name, str) and name else None


def _seekable(handle: IO[bytes]) -> bool:
    try:
        return bool(handle.seekable())
    except (AttributeError, ValueError, OSError):
        return False


def _content(
    value: Any, on_progress: ProgressCallback | None
) -> tuple[str | None, bytes | _Chunks | Iterator[bytes], int | None]:
    """(name it suggests, content for a FilePart, size) for bytes, a path or a file."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        if on_progress is None:
            return None, data, len(data)
        return None, _Chunks(data, size=len(data), on_progress=on_progress), len(data)
    if isinstance(value, os.PathLike):
        path = os.fspath(value)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        size = os.stat(path).st_size
        return os.path.basename(path), _Chunks(path, size=size, on_progress=on_progress), size
    if isinstance(value, io.TextIOBase):
        raise TypeError("upload files must be opened in binary mode ('rb'), not text mode")
    if callable(getattr(value, "read", None)):
        if _seekable(value):
            start = value.tell()
            size = value.seek(0, os.SEEK_END) - start
            value.seek(start)
            chunks = _Chunks(value, start=start, size=size, on_progress=on_progress)
            return _name_of(value), chunks, size
        return _name_of(value), _one_shot(value, on_progress), None
    raise TypeError(
        "a file must be bytes, a path (os.PathLike), an open binary file or a "
        f"(filename, content[, content_type]) tuple, not {type(value).__name__}"
    )


def file_upload(
    file: Any,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> FilePart:
    """A file to pass as `file=` (or any file argument), streamed from where it lies.

    `file` is bytes, a path, an open binary file or a `(filename, content[,
    content_type])` tuple. `filename` defaults to the path's or file's name
    ("upload" for bytes); `content_type` to a guess from the filename.
    `on_progress(sent_bytes, total)` is called as the file's bytes are handed to
    the connection: first with 0, last with `total` (None for a file that cannot
    seek, whose size is unknown); a retried request reports from 0 again.
    """
    if isinstance(file, FilePart):
        return file
    if isinstance(file, tuple) and _is_file_tuple(file):
        given_name, file, *rest = file
        filename = filename if filename is not None else given_name
        if content_type is None and rest:
            content_type = rest[0]
    suggested, content, size = _content(file, on_progress)
    if filename is None:
        filename = suggested or "upload"
    return FilePart(filename=filename, content=content, content_type=content_type, size=size)


def file_range(
    path: str | os.PathLike[str],
    *,
    start: int,
    size: int,
    filename: str,
    on_progress: ProgressCallback | None = None,
) -> FilePart:
    """`size` bytes of the file at `path` from offset `start`, as one file (an upload's part),
    read from the file on each pass."""
    chunks = _Chunks(os.fspath(path), start=start, size=size, on_progress=on_progress)
    return FilePart(filename=filename, content=chunks, size=size)


def split_files(
    body: Mapping[str, object], names: tuple[str, ...]
) -> tuple[dict[str, object], list[tuple[str, Any]]]:
    """The form fields and the files of a multipart body; a list of files repeats `name[]`.

    A file field that also takes an object (`video`: a file or `{"id": ...}`, a
    reference to one) is a form field when given the object.
    """
    fields: dict[str, object] = {}
    files: list[tuple[str, Any]] = []
    for key, value in body.items():
        if key not in names or isinstance(value, Mapping):
            fields[key] = value
        elif isinstance(value, (list, tuple)) and not _is_file_tuple(value):
            files.extend((f"{key}[]", file_upload(item)) for item in value)
        else:
            files.append((key, file_upload(value)))
    return fields, files


def _is_file_tuple(value: tuple[Any, ...] | list[Any]) -> bool:
    # (filename, content[, content_type]) as the official SDK spells one file.
    return (
        isinstance(value, tuple)
        and len(value) in (2, 3)
        and (value[0] is None or isinstance(value[0], str))
        and not hasattr(value[0], "read")
    )
