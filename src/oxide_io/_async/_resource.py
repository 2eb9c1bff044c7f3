"""What every generated resource class builds on: its client, the raw flag, pagination.

A resource is a group of methods bound to a client (`client.files`,
`client.vector_stores.files`); each method forwards its arguments with its
`Operation` to the client's one request path. `with_raw_response` is the same
group returning the status, headers and HTTP version alongside the parsed result.
The argument types the generated signatures share live here too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any, Union

from oxide_proto import Operation

from .._options import NotGiven
from .._timeout import Timeout
from ._pagination import AsyncPage

# unasync: from ._pagination import SyncPage
from ._paginator import AsyncPaginator

if TYPE_CHECKING:
    from oxide_proto import FileInput

    from ._client import AsyncAPIClient

__all__ = [
    "AsyncPaginator",
    "AsyncResource",
    "Body",
    "FileTypes",
    "Headers",
    "Query",
    "TimeoutArg",
]

Headers = Mapping[str, str | None]
Query = Mapping[str, object]
Body = Mapping[str, object]
TimeoutArg = float | Timeout | NotGiven | None
# A file: the core's shapes (bytes, (name, content[, type]), FilePart), an open
# binary file or a path, which are read when the request is built.
FileTypes = Union["FileInput", IO[bytes], "os.PathLike[str]"]


class AsyncResource:
    """A group of methods bound to a client; `with_raw_response` is the same group, raw."""

    def __init__(self, client: AsyncAPIClient, *, raw: bool = False) -> None:
        self._client = client
        self._raw = raw

    @property
    def with_raw_response(self) -> Any:
        return type(self)(self._client, raw=True)

    def _paginate(self, operation: Operation, **request: Any) -> AsyncPaginator[Any]:
        # unasync: return self._fetch(operation, request)
        return AsyncPaginator(self._fetch(operation, request))

    async def _fetch(self, operation: Operation, request: dict[str, Any]) -> AsyncPage[Any]:
        # With `with_raw_response` this is the raw response, whose parse() gives the page.
        page: AsyncPage[Any] = await self._client._call(operation, raw=self._raw, **request)
        return page
