"""Binary answers (speech audio, file contents, videos) for the async client.

`await client.files.content(...)`, `await client.audio.speech.create(...)` and the
other operations whose answer is not JSON give an `AsyncBinaryResponseContent`:
the body read whole, with the official SDK's plain members (`content`, `text`,
`read()`, `iter_bytes()`, `write_to_file()`, ... from `BinaryContent`) and their
coroutine twins (`aread()`, `aiter_bytes()`, `aiter_text()`, `aiter_lines()`,
`astream_to_file()`, `aclose()`). For a download streamed to disk in bounded
memory, use `.with_streaming_response` instead.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from .._binary_content import BinaryContent, as_async_iterator

__all__ = ["AsyncBinaryResponseContent"]


class AsyncBinaryResponseContent(BinaryContent):
    """The whole body of a binary answer (the official SDK's `HttpxBinaryResponseContent`)."""

    async def aread(self) -> bytes:
        return self.content

    def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        # unasync: return super().iter_bytes(chunk_size)
        return as_async_iterator(super().iter_bytes(chunk_size))

    def aiter_raw(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        # unasync: return super().iter_raw(chunk_size)
        return as_async_iterator(super().iter_raw(chunk_size))

    def aiter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        # unasync: return super().iter_text(chunk_size)
        return as_async_iterator(super().iter_text(chunk_size))

    def aiter_lines(self) -> AsyncIterator[str]:
        # unasync: return super().iter_lines()
        return as_async_iterator(super().iter_lines())

    async def astream_to_file(
        self, file: str | os.PathLike[str], *, chunk_size: int | None = None
    ) -> None:
        """Writes the body to `file` (a path), `chunk_size` bytes per write."""
        super().stream_to_file(file, chunk_size=chunk_size)

    async def aclose(self) -> None:
        """Nothing to release: the body was read whole and the connection given back."""

    async def __aenter__(self) -> AsyncBinaryResponseContent:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
