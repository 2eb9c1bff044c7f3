# mypy: disable-error-code="no-any-return"
"""Files: waiting until an uploaded file has been processed."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .._resource import AsyncResource

if TYPE_CHECKING:
    from oxide_proto.types.shared import FileObject

__all__ = ["AsyncFilesExtras"]

_DONE = frozenset({"processed", "error", "deleted"})


class AsyncFilesExtras(AsyncResource):
    async def wait_for_processing(
        self, id: str, *, poll_interval: float = 5.0, max_wait_seconds: float = 30 * 60
    ) -> FileObject:
        """Retrieves the file every `poll_interval` seconds until it is `processed`,
        `error` or `deleted`; raises `RuntimeError` after `max_wait_seconds` (30 minutes).
        """
        resource: Any = self
        start = time.monotonic()
        file = await resource.retrieve(id)
        while file.status not in _DONE:
            await self._client._transport.backend.sleep(poll_interval)
            file = await resource.retrieve(id)
            if time.monotonic() - start > max_wait_seconds:
                raise RuntimeError(
                    f"Giving up on waiting for file {id} to finish processing after "
                    f"{max_wait_seconds} seconds."
                )
        return file
