# mypy: disable-error-code="no-any-return"
"""Uploads: a large file sent as parts (create the upload, add each part, complete it).

Each part is streamed from the file (or sliced from the bytes) when it is sent,
so memory holds one chunk of one part, not a 64 MB part; a part whose request
fails is sent again from its own start.
"""

from __future__ import annotations

import builtins
import os
from typing import TYPE_CHECKING, Any, TypedDict

from oxide_proto import FilePart

from ..._files import ProgressCallback, file_range, file_upload
from ..._options import NOT_GIVEN, NotGiven
from .._resource import AsyncResource

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from oxide_proto.types.uploads import Upload

__all__ = ["DEFAULT_PART_SIZE", "AsyncUploadsExtras", "ChunkedUploadOptions"]

# The official SDK's part size; the API takes parts of up to 64 MB.
DEFAULT_PART_SIZE = 64 * 1024 * 1024


class ChunkedUploadOptions(TypedDict, total=False):
    """What `upload_file_chunked` takes beside the official SDK's arguments."""

    on_progress: ProgressCallback | None


class AsyncUploadsExtras(AsyncResource):
    async def upload_file_chunked(
        self,
        *,
        file: os.PathLike[str] | bytes,
        mime_type: str,
        purpose: str,
        filename: str | None = None,
        bytes: int | None = None,
        part_size: int | None = None,
        md5: str | NotGiven = NOT_GIVEN,
        **options: Unpack[ChunkedUploadOptions],
    ) -> Upload:
        """Uploads `file` in parts of `part_size` bytes (64 MB) and returns the completed
        `Upload` (its `file` is the new File).

        For a path, `filename` and `bytes` default to its name and size; for bytes
        both are required. `md5` is passed to the API, which checks the whole
        file against it. Beside the SDK's arguments, `on_progress(sent_bytes, total)`
        (a keyword) follows each part.
        """
        unknown = sorted(set(options) - set(ChunkedUploadOptions.__annotations__))
        if unknown:
            raise TypeError(f"upload_file_chunked() got unexpected keyword arguments {unknown}")
        on_progress = options.get("on_progress")
        resource: Any = self
        path = ""
        if isinstance(file, (builtins.bytes, bytearray)):
            if filename is None:
                raise TypeError("The `filename` argument must be given for in-memory files")
            if bytes is None:
                raise TypeError("The `bytes` argument must be given for in-memory files")
            data: Any = memoryview(file)
            size = len(file)
        else:
            path = os.fsdecode(os.fspath(file))
            filename = filename or os.path.basename(path)
            size = os.stat(path).st_size
            if bytes is None:
                bytes = size
            data = None
        assert filename is not None
        part_size = part_size or DEFAULT_PART_SIZE
        if part_size < 1:
            raise ValueError("part_size must be positive")
        upload = await resource.create(
            bytes=bytes, filename=filename, mime_type=mime_type, purpose=purpose
        )
        part_ids = []
        for start in range(0, size, part_size):
            length = min(part_size, size - start)
            done = start

            def report(sent: int, _total: int | None, done: int = done) -> None:
                if on_progress is not None:
                    on_progress(done + sent, size)

            if data is not None:
                part: FilePart = file_upload(
                    data[start : start + length].tobytes(),
                    filename=filename,
                    on_progress=report if on_progress else None,
                )
            else:
                part = file_range(
                    path,
                    start=start,
                    size=length,
                    filename=filename,
                    on_progress=report if on_progress else None,
                )
            created = await resource.parts.create(upload.id, data=part)
            part_ids.append(created.id)
        return await resource.complete(upload.id, part_ids=part_ids, md5=md5)
