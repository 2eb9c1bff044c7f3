"""Multipart uploads in three runtimes: every file shape, streamed, retried only when replayable.

Paths, open binary files, bytes and `(filename, content, content_type)` tuples
reach the embedded server intact with their filename and content type; a
seekable file is rewound and sent again after a 500, a file that cannot seek is
not; the progress callback counts up to the file's size; an upload in parts is
reassembled by the server.
"""

from __future__ import annotations

import hashlib
import io
import pathlib
from typing import Any

import pytest

import oxide_io
from oxide_io._files import file_upload
from oxide_io.testing import Fail
from oxide_io.testing._files_api import parse_form
from tests.io.conftest import MakeClient, Setup

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

CONTENT = bytes(range(256)) * 1000 + b"tail"  # 256,004 bytes: several 64 KiB chunks


def uploaded(setup: Setup, index: int = -1) -> dict[str, tuple[str | None, str | None, bytes]]:
    request = setup.server.requests[index]
    assert (request.method, request.path) == ("POST", "/v1/files")
    return parse_form(request.headers["content-type"], request.body)


class OneShot(io.RawIOBase):
    """A binary stream that can be read once and cannot seek (a pipe, a socket)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


async def test_every_file_shape_arrives_intact(
    any_transport: Setup, make_client: MakeClient, tmp_path: pathlib.Path
) -> None:
    client = make_client(any_transport)
    path = tmp_path / "data.csv"
    path.write_bytes(CONTENT)
    with open(path, "rb") as handle:
        handle.read(4)  # a file is sent from where it stands
        shapes: list[tuple[Any, str, str, bytes]] = [
            (path, "data.csv", "text/csv", CONTENT),
            (handle, "data.csv", "text/csv", CONTENT[4:]),
            (CONTENT, "upload", "application/octet-stream", CONTENT),
            (("notes.jsonl", CONTENT, "application/x-ndjson"), "notes.jsonl",
             "application/x-ndjson", CONTENT),
            (("clip.mp3", path), "clip.mp3", "audio/mpeg", CONTENT),
        ]  # fmt: skip
        for file, filename, content_type, content in shapes:
            created = await client.files.create(file=file, purpose="assistants")
            assert created.bytes == len(content)
            form = uploaded(any_transport)
            assert form["purpose"][2] == b"assistants"
            assert form["file"] == (filename, content_type, content)
            request = any_transport.server.requests[-1]
            if any_transport.http_version == "HTTP/1.1":
                assert int(request.headers["content-length"]) == len(request.body)
    got = await client.files.content(created.id)
    assert await got.aread() == CONTENT


async def test_seekable_file_is_rewound_and_retried(
    mock: Setup, make_client: MakeClient, tmp_path: pathlib.Path
) -> None:
    client = make_client(mock)
    path = tmp_path / "batch.jsonl"
    path.write_bytes(CONTENT)
    for source in ("path", "file"):
        mock.server.clear()
        mock.server.enqueue(Fail(500, retry_after_ms=0, path="/v1/files"))
        if source == "path":
            created = await client.files.create(file=path, purpose="batch")
        else:
            with open(path, "rb") as handle:
                created = await client.files.create(file=handle, purpose="batch")
        assert created.bytes == len(CONTENT)
        assert len(mock.server.requests) == 2
        first, second = mock.server.requests
        assert first.body == second.body
        assert second.headers["x-stainless-retry-count"] == "1"
        assert uploaded(mock)["file"][2] == CONTENT


async def test_one_shot_stream_is_not_retried(mock: Setup, make_client: MakeClient) -> None:
    client = make_client(mock)
    mock.server.enqueue(Fail(500, retry_after_ms=0, path="/v1/files"))
    with pytest.raises(oxide_io.InternalServerError):
        await client.files.create(file=OneShot(CONTENT), purpose="batch")
    assert len(mock.server.requests) == 1
    # Without a failure the same kind of stream goes through, chunked.
    created = await client.files.create(file=OneShot(CONTENT), purpose="batch")
    assert created.bytes == len(CONTENT)
    assert uploaded(mock)["file"][2] == CONTENT


async def test_progress_counts_up_to_the_size(
    mock: Setup, make_client: MakeClient, tmp_path: pathlib.Path
) -> None:
    client = make_client(mock)
    path = tmp_path / "big.bin"
    path.write_bytes(CONTENT)
    seen: list[tuple[int, int | None]] = []
    part = file_upload(path, on_progress=lambda sent, total: seen.append((sent, total)))
    mock.server.enqueue(Fail(500, retry_after_ms=0, path="/v1/files"))
    await client.files.create(file=part, purpose="batch")
    # Two passes (the first answered 500), each counting from 0 up to the size.
    starts = [i for i, (sent, _) in enumerate(seen) if sent == 0]
    assert len(starts) == 2
    for pass_ in (seen[: starts[1]], seen[starts[1] :]):
        counts = [sent for sent, _ in pass_]
        assert counts == sorted(set(counts))
        assert counts[-1] == len(CONTENT)
        assert {total for _, total in pass_} == {len(CONTENT)}


async def test_upload_file_chunked(
    mock: Setup, make_client: MakeClient, tmp_path: pathlib.Path
) -> None:
    client = make_client(mock)
    path = tmp_path / "paper.pdf"
    path.write_bytes(CONTENT)
    md5 = hashlib.md5(CONTENT).hexdigest()
    seen: list[tuple[int, int | None]] = []
    upload = await client.uploads.upload_file_chunked(
        file=path,
        mime_type="application/pdf",
        purpose="assistants",
        part_size=100_000,
        md5=md5,
        on_progress=lambda sent, total: seen.append((sent, total)),
    )
    assert upload.status == "completed"
    # oxide's keyword beside the SDK's arguments: the count only grows, to the whole file.
    assert [sent for sent, _ in seen] == sorted(sent for sent, _ in seen)
    assert seen[-1] == (len(CONTENT), len(CONTENT))
    with pytest.raises(TypeError, match="on_progres"):
        await client.uploads.upload_file_chunked(
            file=path, mime_type="application/pdf", purpose="assistants", on_progres=print
        )
    assert upload.filename == "paper.pdf"
    paths = [r.path for r in mock.server.requests]
    assert paths[0] == "/v1/uploads" and paths[-1].endswith("/complete")
    assert len([p for p in paths if p.endswith("/parts")]) == 3
    assert mock.server.requests[-1].json["md5"] == md5
    content = await client.files.content(upload.file.id)
    assert await content.aread() == CONTENT
    # In memory: filename and bytes are required, as in the official SDK.
    with pytest.raises(TypeError, match="filename"):
        await client.uploads.upload_file_chunked(
            file=CONTENT, mime_type="text/plain", purpose="assistants", bytes=len(CONTENT)
        )
    upload = await client.uploads.upload_file_chunked(
        file=CONTENT,
        filename="mem.txt",
        bytes=len(CONTENT),
        mime_type="text/plain",
        purpose="assistants",
        part_size=200_000,
    )
    content = await client.files.content(upload.file.id)
    assert await content.aread() == CONTENT
