"""What every generated resource class builds on: its client, the raw flag, pagination.

A resource is a group of methods bound to a client (`client.files`,
`client.vector_stores.files`); each method forwards its arguments with its
`Operation` to the client's one request path. `with_raw_response` is the same
group returning an `AsyncRawResponse` (status, headers, request, retries, body,
`parse()`); `with_streaming_response` the same group returning, as `async with`
blocks, the response with its body unread (`_streamed_response.py`). Both are
the resource in another mode at runtime; for type checkers the generated
resources declare views typed method by method, built with the helpers below.
The argument types the generated signatures share live here too.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import IO, TYPE_CHECKING, Any, Literal, TypeVar, Union

from oxide_proto import Operation

from .._options import NotGiven
from .._timeout import Timeout
from ._page import AsyncPage

# unasync: from ._page import SyncPage
from ._paginator import AsyncPaginator
from ._streamed_response import AsyncResponseContextManager

if TYPE_CHECKING:
    from typing import ParamSpec

    from oxide_proto import FileInput

    from ._api_client import AsyncAPIClient, AsyncRawResponse

    _P = ParamSpec("_P")
    _R = TypeVar("_R")
    _T = TypeVar("_T")

    # How the generated `with_raw_response` / `with_streaming_response` views
    # (typing-only classes, see tools/codegen/generate_operations.py) turn each
    # method's type into its raw or streamed twin's: same arguments (overloads
    # kept), the result wrapped. A list method's page is what `parse()` gives.
    def raw_method(
        method: Callable[_P, Awaitable[_R]],
    ) -> Callable[_P, Awaitable[AsyncRawResponse[_R]]]: ...

    def raw_page_method(
        method: Callable[_P, AsyncPaginator[_T]],
    ) -> Callable[_P, Awaitable[AsyncRawResponse[AsyncPage[_T]]]]: ...

    def streamed_method(
        method: Callable[_P, Awaitable[_R]],
    ) -> Callable[_P, AsyncResponseContextManager[_R]]: ...

    def streamed_page_method(
        method: Callable[_P, AsyncPaginator[_T]],
    ) -> Callable[_P, AsyncResponseContextManager[AsyncPage[_T]]]: ...

    class AsyncResourceView:
        """A typing view of a resource's raw or streamed methods; the hand-written
        helpers that have such twins (`parse()`) read through as `Any`."""

        def __getattr__(self, name: str) -> Any: ...


__all__ = [
    "AsyncPaginator",
    "AsyncResource",
    "AsyncClientWithStreamingResponse",
    "AsyncResourceWithStreamingResponse",
    "Body",
    "FileTypes",
    "Headers",
    "Query",
    "RawMode",
    "TimeoutArg",
]

Headers = Mapping[str, str | None]
Query = Mapping[str, object]
Body = Mapping[str, object]
TimeoutArg = float | Timeout | NotGiven | None
# A file: the core's shapes (bytes, (name, content[, type]), FilePart), an open
# binary file or a path, which are read when the request is built.
FileTypes = Union["FileInput", IO[bytes], "os.PathLike[str]"]
# What a call returns: False, the parsed result; True, the raw response with its body
# read (`with_raw_response`); "stream", the response with its body unread
# (`with_streaming_response`).
RawMode = bool | Literal["stream"]
# Hand-written helpers that make one API call and return its result, so that a raw or
# streamed response of them makes sense (the official SDK wraps these too).
_HELPERS_WITH_RESPONSE = frozenset({"parse"})


class AsyncResource:
    """A group of methods bound to a client; `with_raw_response` is the same group, raw."""

    def __init__(self, client: AsyncAPIClient, *, raw: RawMode = False) -> None:
        self._client = client
        self._raw: RawMode = raw

    @property
    def with_raw_response(self) -> Any:
        return type(self)(self._client, raw=True)

    @property
    def with_streaming_response(self) -> Any:
        """The same methods, each returning an `async with` block around the response,
        whose body is read only as the block asks for it."""
        return AsyncResourceWithStreamingResponse(type(self)(self._client, raw="stream"))

    def _paginate(self, operation: Operation, **request: Any) -> AsyncPaginator[Any]:
        # unasync: return self._fetch(operation, request)
        return AsyncPaginator(self._fetch(operation, request))

    async def _fetch(self, operation: Operation, request: dict[str, Any]) -> AsyncPage[Any]:
        # With `with_raw_response` this is the raw response, whose parse() gives the page.
        page: AsyncPage[Any] = await self._client._call(operation, raw=self._raw, **request)
        return page


class AsyncResourceWithStreamingResponse:
    """`resource.with_streaming_response`: each API method of `resource` returns an
    `AsyncResponseContextManager` that sends the request when entered; sub-resources
    come wrapped the same way. Hand-written helpers that are not one API call
    (`stream()`, `create_and_poll()`, ...) are not offered, as in the official SDK.
    """

    __slots__ = ("_resource",)

    def __init__(self, resource: AsyncResource) -> None:
        self._resource = resource

    def __getattr__(self, name: str) -> Any:
        cls = type(self._resource)
        if _is_sub_resource(cls, name):
            return AsyncResourceWithStreamingResponse(getattr(self._resource, name))
        if _is_api_method(cls, name):
            return _streamed(getattr(self._resource, name))
        raise AttributeError(f"{cls.__name__}.with_streaming_response has no API method {name!r}")

    def __dir__(self) -> list[str]:
        cls = type(self._resource)
        return [
            name for name in dir(cls) if _is_sub_resource(cls, name) or _is_api_method(cls, name)
        ]

    def __repr__(self) -> str:
        return f"<{type(self._resource).__name__}.with_streaming_response>"


class AsyncClientWithStreamingResponse:
    """`client.with_streaming_response`: the client's resources, each streamed."""

    __slots__ = ("_client",)

    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        if _is_sub_resource(type(self._client), name):
            resource = getattr(self._client, name)
            if isinstance(resource, AsyncResource):
                return resource.with_streaming_response
        raise AttributeError(f"the client has no resource {name!r}")

    def __dir__(self) -> list[str]:
        cls = type(self._client)
        return [name for name in dir(cls) if _is_sub_resource(cls, name)]

    def __repr__(self) -> str:
        return "<client.with_streaming_response>"


def _is_sub_resource(cls: type, name: str) -> bool:
    # Generated sub-resources are cached properties (`client.chat.completions`).
    member = inspect.getattr_static(cls, name, None)
    return not name.startswith("_") and isinstance(member, functools.cached_property)


def _is_api_method(cls: type, name: str) -> bool:
    if name.startswith("_"):
        return False
    try:
        member = inspect.getattr_static(cls, name)
    except AttributeError:
        return False
    if not inspect.isfunction(member):
        return False
    # Generated methods each make one API call; the hand-written ones sit in `extras`.
    return ".resources." in member.__module__ or name in _HELPERS_WITH_RESPONSE


def _streamed(method: Callable[..., Any]) -> Callable[..., AsyncResponseContextManager[Any]]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> AsyncResponseContextManager[Any]:
        return AsyncResponseContextManager(functools.partial(method, *args, **kwargs))

    return call
