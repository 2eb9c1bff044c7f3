"""Binary answers (speech audio, file contents, videos), streamed from the connection.

`files.content()`, `audio.speech.create()`, `videos.download_content()` and the
other operations whose answer is not JSON return an `AsyncBinaryResponseContent`
as soon as the response head has arrived. The body is pulled from the socket
only as it is read, so a large file can be written to disk with memory for one
chunk. The connection goes back to the pool once the body has been read to its
end or the object is closed (`async with` closes it); dropping it unread also
gives the connection back, when it is garbage-collected.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

from oxide_proto import Headers

from ._response import AsyncResponse

__all__ = ["AsyncBinaryResponseContent"]


class AsyncBinaryResponseContent:
    """The body of a binary answer, read on demand (the official SDK's
    `HttpxBinaryResponseContent`): `content`, `aread()`, `aiter_bytes()`,
    `write_to_file()`, `stream_to_file()`, `aclose()`.

    The body can be consumed once: read it whole (`aread()`, after which
    `content` holds it), or iterate it, or write it to a file.
    """

    def __init__(self, response: AsyncResponse) -> None:
        self.response = response
        self._content: bytes | None = None

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> Headers:
        return self.response.headers

    @property
    def http_version(self) -> str:
        return self.response.http_version

    @property
    def request_id(self) -> str | None:
        return self.response.request_id

    @property
    def content(self) -> bytes:
        """The whole body (the blocking client reads it here when it has not yet)."""
        if self._content is None:
            # unasync: self.read()
            raise RuntimeError("the body is streamed: await .aread() before using .content")
        assert self._content is not None
        return self._content

    @property
    def text(self) -> str:
        """The body as text, in the charset its Content-Type names (UTF-8 by default)."""
        return self.content.decode(self._charset(), errors="replace")

    def json(self, **kwargs: Any) -> Any:
        import json

        return json.loads(self.content, **kwargs)

    def _charset(self) -> str:
        for param in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip('"')
        return "utf-8"

    async def aread(self) -> bytes:
        """The whole body (kept: later calls and `content` return it again)."""
        if self._content is None:
            self._content = await self.response.aread()
        return self._content

    async def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The body piece by piece as it arrives; `chunk_size` regroups it in pieces of
        that size (the last one shorter)."""
        if self._content is not None:
            step = chunk_size or len(self._content) or 1
            for offset in range(0, len(self._content), step):
                yield self._content[offset : offset + step]
            return
        if chunk_size is None:
            async for chunk in self.response.aiter_bytes():
                yield chunk
            return
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be positive, not {chunk_size}")
        pending = bytearray()
        async for chunk in self.response.aiter_bytes():
            pending += chunk
            while len(pending) >= chunk_size:
                yield bytes(pending[:chunk_size])
                del pending[:chunk_size]
        if pending:
            yield bytes(pending)

    async def write_to_file(self, file: str | os.PathLike[str]) -> None:
        """Writes the body to `file` (a path), chunk by chunk as it arrives."""
        await self.stream_to_file(file)

    async def stream_to_file(
        self, file: str | os.PathLike[str], *, chunk_size: int | None = None
    ) -> None:
        """Writes the body to `file` (a path) as it arrives, holding one chunk at a time.

        The writes are ordinary file writes of one chunk each (64 KiB or so).
        """
        with open(file, "wb") as handle:
            async for chunk in self.aiter_bytes(chunk_size):
                handle.write(chunk)

    async def aclose(self) -> None:
        """Stops reading: the rest of the body is discarded and the connection freed."""
        await self.response.aclose()

    async def __aenter__(self) -> AsyncBinaryResponseContent:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.status_code}] request_id={self.request_id}>"
