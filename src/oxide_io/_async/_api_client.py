"""The one request path every operation goes through: encode, send, retry, decode.

Policy comes from the core (`RetryPolicy`, status-to-error mapping, model
decoding); this module carries it out: it sleeps with the runtime's sleep,
enforces the deadlines and turns transport failures into API errors where the
request is known.
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, Union, overload

from oxide_proto import (
    BaseModel,
    Call,
    CallSettings,
    HeaderTable,
    Operation,
    Request,
    ResponseInfo,
    RetryPolicy,
    StreamAlreadyConsumed,
    accepted_encodings,
    decode,
    resolve_type,
)

from .._errors_map import TRANSPORT_ERRORS, to_api_error
from .._logging import DEBUG, logger, redact
from .._options import NOT_GIVEN, ClientOptions, NotGiven, header_layer, is_admin_path
from .._parse_to import body_text, check_not_event_stream, parse_to
from .._platform import platform_headers
from .._response_facts import ResponseFacts
from .._timeout import Timeout, to_timeout
from ._response import AsyncResponse
from ._transport import AsyncTransport

if TYPE_CHECKING:  # annotations only
    from ._sse_stream import AsyncStream

__all__ = ["AsyncAPIClient", "AsyncRawResponse"]

_ACCEPT_ENCODING = accepted_encodings()

_R = TypeVar("_R")
_T = TypeVar("_T")
# What the generic `get()`/`post()`/... return: the class given as `cast_to`, or a
# stream of the events `stream_cls` (or `cast_to`) names.
_C = TypeVar("_C")
_E = TypeVar("_E")


class AsyncRawResponse(ResponseFacts, Generic[_R]):
    """What `.with_raw_response` methods return: the response, its body and `parse()`.

    The official SDK's `LegacyAPIResponse`, for both clients alike: the body has
    been read by the time the call returns (unless the call asked for an event
    stream), so `content`, `text`, `json()` and `parse()` are plain members, not
    coroutines. `http_response` is oxide's own response object and
    `http_request` oxide's `Request` (`method`, `url`, `headers`), not httpx's.
    """

    http_response: AsyncResponse

    def __init__(self, response: AsyncResponse, content: bytes | None, parsed: _R) -> None:
        self.http_response = response
        self._content = content
        self._parsed = parsed
        # `parse(to=...)` results, one per type asked for.
        self._parsed_to: dict[object, Any] = {}

    @property
    def content(self) -> bytes:
        """The body; a `stream=True` call's is read through `parse()`, the event stream."""
        if self._content is None:
            # A `stream=True` call's body belongs to the event stream `parse()` gives.
            raise StreamAlreadyConsumed()
        return self._content

    def read(self) -> bytes:
        """The body (read when the call returned)."""
        return self.content

    @property
    def text(self) -> str:
        """The body as text, in the charset its Content-Type names (UTF-8 by default)."""
        return body_text(self.content, self.headers)

    def json(self) -> Any:
        return json.loads(self.content)

    @overload
    def parse(self) -> _R: ...
    @overload
    def parse(self, *, to: type[_T]) -> _T: ...
    def parse(self, *, to: type[_T] | None = None) -> _R | _T:
        """The call's result (what it returns without `with_raw_response`), or,
        with `to=`, the body read as that type (a model class, `dict`, `str`, ...)."""
        if to is None:
            return self._parsed
        if to in self._parsed_to:
            return self._parsed_to[to]  # type: ignore[no-any-return]
        check_not_event_stream(self.headers)
        result = parse_to(to, self.content, self.http_response.info)
        with contextlib.suppress(AttributeError):
            object.__setattr__(result, "_request_id", self.request_id)
        self._parsed_to[to] = result
        return result

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} [{self.status_code}] "
            f"type={type(self._parsed).__name__} request_id={self.request_id}>"
        )


# What the generic `get()`/`post()`/... return for each `cast_to` that is not a model.
_JSON_CASTS = (object, dict, list, Any)
# Options of the official SDK's per-call `options=` that the generic methods take.
_REQUEST_OPTIONS = frozenset({"headers", "params", "extra_json", "timeout", "max_retries"})


def _given(params: Mapping[str, object] | None) -> dict[str, object] | None:
    if params is None:
        return None
    # Most arguments of a call are the NOT_GIVEN singleton: an identity test drops
    # them, and only what is left is checked for other NotGiven instances (`omit`).
    given = {key: value for key, value in params.items() if value is not NOT_GIVEN}
    for value in given.values():
        if isinstance(value, NotGiven):
            return {k: v for k, v in given.items() if not isinstance(v, NotGiven)}
    return given


class _BodyReader:
    """Reads a response's whole body and keeps it, for a raw response to carry.

    An object made once the head has arrived, rather than a closure: a closure's
    cells exist from the start of the call, so every request waiting for its
    answer would hold them, and the garbage collector walks over them at each
    collection while hundreds wait.
    """

    __slots__ = ("content", "response")

    def __init__(self, response: AsyncResponse) -> None:
        self.response = response
        self.content: bytes | None = None

    async def __call__(self) -> bytes:
        # The read itself here, not in a helper: one coroutine fewer on every call's path.
        response = self.response
        try:
            content = self.content = await response.aread()
        except TRANSPORT_ERRORS as exc:
            raise to_api_error(exc, response.request) from exc
        return content


class AsyncAPIClient:
    """Holds the options and the transport; `_call` performs one operation."""

    def __init__(self, options: ClientOptions, transport: AsyncTransport) -> None:
        self._options = options
        self._transport = transport
        self._retry_policy = RetryPolicy(max_retries=options.max_retries)
        # What every call shares, made on the first request (the platform headers
        # name the async runtime, known only then).
        self._settings: CallSettings | None = None
        # This client's own: it holds the client's key, so it goes with the client.
        self._header_table = HeaderTable()

    @property
    def with_streaming_response(self) -> Any:
        """`client.with_streaming_response.files.content(...)`: every resource's
        `with_streaming_response`, reached from the client."""
        from ._resource import AsyncClientWithStreamingResponse

        return AsyncClientWithStreamingResponse(self)

    def _call_settings(self) -> CallSettings:
        options = self._options
        settings = self._settings = CallSettings(
            base_url=options.base_url,
            api_key=options.api_key,
            organization=options.organization,
            project=options.project,
            default_headers=options.default_headers,
            default_query=options.default_query,
            platform_headers=platform_headers(self._transport.backend.runtime()),
            accept_encoding=_ACCEPT_ENCODING,
            retry_policy=self._retry_policy,
            strict=options.strict_response_validation,
            azure=options.azure,
            header_table=self._header_table,
        )
        return settings

    async def _call(
        self,
        operation: Operation,
        *,
        path_params: Mapping[str, object] | None = None,
        query: Mapping[str, object] | None = None,
        body: Mapping[str, object] | None = None,
        stream: bool = False,
        raw: bool | Literal["stream"] = False,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | Timeout | NotGiven | None = NOT_GIVEN,
        decoder: Callable[[Any, ResponseInfo], Any] | None = None,
    ) -> Any:
        """Performs `operation`; `decoder(json, info)` replaces the operation's model decoding.

        Arguments left `NOT_GIVEN` in `query` and `body` are not sent. A list
        operation's result is a page that can fetch the pages after it. `raw=True`
        wraps the result in an `AsyncRawResponse`; `raw="stream"` returns, once the
        head has arrived, an `AsyncStreamedResponse` whose body is still unread and
        whose `parse()` builds the result.
        """
        options = self._options
        query = _given(query)
        body = _given(body)
        if extra_headers:
            extra_headers = header_layer(extra_headers)
        files: list[tuple[str, Any]] | None = None
        boundary: str | None = None
        if operation.body == "multipart" and body is not None:
            from .._files import new_boundary, split_files

            body, files = split_files(body, operation.files)
            boundary = new_boundary()
        timeout = options.timeout if isinstance(timeout, NotGiven) else to_timeout(timeout)
        # The organization-administration endpoints take the admin key when there is one.
        admin_key = options.admin_api_key
        if admin_key is not None and not is_admin_path(operation.path):
            admin_key = None
        call = Call(
            self._settings or self._call_settings(),
            operation,
            path_params=path_params,
            query=query,
            body=body,
            files=files,
            boundary=boundary,
            stream=stream,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            read_timeout=timeout.read,
            decoder=decoder,
            admin_key=admin_key,
        )
        return await self._perform(call, timeout, raw)

    async def _perform(self, call: Call, timeout: Timeout, raw: bool | Literal["stream"]) -> Any:
        """Sends `call` and builds its result (a stream, bytes, a model, a page)."""
        deadline = time.monotonic() + timeout.total if timeout.total is not None else None
        response = await self._send(call, timeout, deadline)
        if raw == "stream":
            from ._streamed_response import AsyncStreamedResponse

            return AsyncStreamedResponse(
                response,
                functools.partial(self._finish, call, response, timeout, deadline, raw),
            )
        read = _BodyReader(response)
        result = await self._finish(call, response, timeout, deadline, raw, read)
        return AsyncRawResponse(response, read.content, result) if raw else result

    async def _finish(
        self,
        call: Call,
        response: AsyncResponse,
        timeout: Timeout,
        deadline: float | None,
        raw: bool | Literal["stream"],
        read: Callable[[], Awaitable[bytes]],
    ) -> Any:
        """The call's result from `response`; `read()` gives the whole body."""
        operation = call.operation
        if call.stream:
            # Loaded by the first streamed call (as pages and Azure's or a workload
            # identity's auth below): `import oxide_io` leaves them out.
            from ._sse_stream import AsyncStream

            reconnect = functools.partial(self._reconnect, call, timeout, deadline)
            return AsyncStream(response, call.event_type, reconnect=reconnect)
        if operation.binary:
            if raw == "stream":
                # `with_streaming_response`: `parse()` gives the body's bytes, as
                # the official SDK's does (the response itself streams them).
                return await read()
            # Audio, file contents, videos: read whole, as the official SDK does;
            # `with_streaming_response` is the way to stream them.
            from ._binary_response import AsyncBinaryResponseContent

            return AsyncBinaryResponseContent(response, await read())
        parsed = call.result(response.info, await read())
        if operation.page:
            from ._page import AsyncPage

            parsed = AsyncPage(parsed, operation.page, functools.partial(self._page, call, timeout))
        return parsed

    async def _page(self, call: Call, timeout: Timeout, params: Mapping[str, object]) -> Any:
        """The page after the one `call` fetched (`params` name it), with its own deadline."""
        return await self._perform(call.next_page(params), timeout, False)

    async def _reconnect(
        self,
        call: Call,
        timeout: Timeout,
        deadline: float | None,
        exc: BaseException,
        retries_taken: int,
    ) -> AsyncResponse | None:
        """A stream broken by `exc` after `retries_taken` retries: its response sent
        again, or None when the retry policy says no."""
        request = await self._request(call, retries_taken, timeout, deadline)
        if not await self._backoff(call, request, None, to_api_error(exc, request), retries_taken):
            return None
        return await self._send(call, timeout, deadline, retries_taken + 1)

    async def _request(
        self, call: Call, retries_taken: int, timeout: Timeout, deadline: float | None
    ) -> Request:
        if not self._options.dynamic_auth:
            return call.request(retries_taken)
        # A key or token provider is called for every attempt, as in the official
        # SDK; a plain key skips this.
        api_key, headers = await self._authenticate(call.extra_headers, timeout, deadline)
        request = call.request(retries_taken, api_key=api_key, headers=headers, authenticated=True)
        provider_auth = self._options.provider_auth
        if provider_auth is not None:
            # A cloud provider's token or AWS signature, made for this very request.
            request = await provider_auth.prepare(request)
        return request

    async def _backoff(
        self,
        call: Call,
        request: Request,
        info: ResponseInfo | None,
        error: Exception,
        retries_taken: int,
        deadline: float | None = None,
    ) -> bool:
        """Asks the call whether to retry; sleeps the delay it gives when the answer is yes."""
        import random  # for the jitter, on the first failure only

        decision = call.retry(
            request,
            info,
            error,
            retries_taken,
            now=time.time(),
            random=random.random,
            time_left=None if deadline is None else deadline - time.monotonic(),
        )
        if not decision.retry:
            logger.debug("Not retrying %s %s: %s", request.method, request.url, decision.reason)
            return False
        logger.info(
            "Retrying %s %s in %.2f s (%s)",
            request.method,
            redact(str(request.url)),
            decision.delay,
            decision.reason,
        )
        await self._transport.backend.sleep(decision.delay)
        return True

    async def _send(
        self, call: Call, timeout: Timeout, deadline: float | None, retries_taken: int = 0
    ) -> AsyncResponse:
        """Sends with retries, following redirects; returns a response whose status is
        below 300, or raises (`RedirectError` for a redirect the core will not follow)."""
        reauthenticated = False
        while True:
            request = await self._request(call, retries_taken, timeout, deadline)
            info: ResponseInfo | None = None
            redirects = 0
            while True:
                try:
                    response = await self._transport.send(request, timeout, deadline)
                except TRANSPORT_ERRORS as exc:
                    error: Exception = to_api_error(exc, request)
                    error.__cause__ = exc
                    break
                if logger.isEnabledFor(DEBUG):
                    logger.debug(
                        "HTTP %s %s -> %d (%s)",
                        request.method,
                        redact(str(request.url)),
                        response.status_code,
                        response.http_version,
                    )
                if response.status_code < 300:
                    response.retries_taken = retries_taken
                    return response
                content = await _BodyReader(response)()
                info = response.info
                step = call.after_response(
                    request,
                    info,
                    content,
                    redirects_taken=redirects,
                    follow_redirects=self._options.follow_redirects,
                )
                if not isinstance(step, Request):
                    error = step
                    break
                request, info = step, None
                redirects += 1
            if info is not None and info.status_code == 401 and not reauthenticated:
                # A workload identity token the API refused is dropped and the
                # request sent once more with a new one (not counted as a retry).
                from ._workload_identity import AsyncWorkloadIdentityAuth

                auth = getattr(self._options.api_key_provider, "__self__", None)
                if isinstance(auth, AsyncWorkloadIdentityAuth):
                    used = request.headers.get("authorization", "").removeprefix("Bearer ")
                    auth.invalidate_token(used)
                    reauthenticated = True
                    continue
            if not await self._backoff(call, request, info, error, retries_taken, deadline):
                raise error
            retries_taken += 1

    async def _authenticate(
        self,
        extra_headers: Mapping[str, str | None] | None,
        timeout: Timeout | None = None,
        deadline: float | None = None,
    ) -> tuple[str | None, Mapping[str, str | None] | None]:
        """The bearer key and headers of one attempt, for a client with a key or
        token provider or an Azure client: (key for `Authorization`, headers).

        `timeout` and `deadline` are the request's: a token exchange it needs first
        gets no more time than they leave (nor more than its own limit)."""
        from oxide_proto.api._azure import azure_auth_headers, checked_token

        options = self._options
        key = options.api_key
        provider = options.api_key_provider
        if provider is not None:
            from ._workload_identity import AsyncWorkloadIdentityAuth

            auth = getattr(provider, "__self__", None)
            if isinstance(auth, AsyncWorkloadIdentityAuth):
                if options.x509_identity and extra_headers:
                    from oxide_proto.api._workload_identity import check_x509_request_headers

                    check_x509_request_headers(
                        name for name, value in extra_headers.items() if value is not None
                    )
                key = await auth.get_token(timeout, deadline)
            else:
                value: object = provider()
                if hasattr(value, "__await__"):
                    value = await value
                key = checked_token(value, "the api_key callable")
        azure = options.azure
        if azure is None:
            return key, extra_headers
        token = azure.ad_token
        token_provider = options.azure_ad_token_provider
        if token is None and token_provider is not None:
            value = token_provider()
            if hasattr(value, "__await__"):
                value = await value
            token = checked_token(value, "azure_ad_token_provider")
        # Below the call's own headers, which may replace or remove (None) them.
        return None, {**azure_auth_headers(key, token), **(extra_headers or {})}

    # -- the official SDK's generic request methods, for paths not in the surface --

    @overload
    async def get(
        self,
        path: str,
        *,
        cast_to: type[_C],
        options: Mapping[str, Any] | None = None,
        stream: Literal[False] = False,
        stream_cls: None = None,
    ) -> _C: ...
    @overload
    async def get(
        self,
        path: str,
        *,
        cast_to: type[_C],
        options: Mapping[str, Any] | None = None,
        stream: Literal[True],
        stream_cls: type[AsyncStream[_E]],
    ) -> AsyncStream[_E]: ...
    @overload
    async def get(
        self,
        path: str,
        *,
        cast_to: type[_C],
        options: Mapping[str, Any] | None = None,
        stream: Literal[True],
        stream_cls: None = None,
    ) -> AsyncStream[_C]: ...
    @overload
    async def get(
        self,
        path: str,
        *,
        cast_to: type[_C],
        options: Mapping[str, Any] | None = None,
        stream: bool,
        stream_cls: type[AsyncStream[_E]] | None = None,
    ) -> _C | AsyncStream[_E] | AsyncStream[_C]: ...
    @overload
    async def get(
        self,
        path: str,
        *,
        cast_to: Any,
        options: Mapping[str, Any] | None = None,
        stream: bool = False,
        stream_cls: Any = None,
    ) -> Any: ...

    async def get(
        self,
        path: str,
        *,
        cast_to: type[_C] | Any,
        options: Mapping[str, Any] | None = None,
        stream: bool = False,
        stream_cls: type[AsyncStream[_E]] | None = None,
    ) -> _C | AsyncStream[_E] | AsyncStream[_C]:
        """`GET path` (relative to `base_url`), its answer as `cast_to`.

        `cast_to` is a model class of `oxide_proto.types` (or an oxide
        `BaseModel` subclass listing its fields in `__slots__`, or a union of
        them), `object`/`dict`/`list` for the JSON as decoded, `str` for the body
        as text, `bytes` for the raw body or `type(None)` for None (the body read,
        not decoded).
        `options` takes the official SDK's `headers`, `params`, `extra_json`,
        `timeout` and `max_retries`. `stream=True` returns a stream of `cast_to`
        events (or of the type `stream_cls` is parametrized with, e.g.
        `AsyncStream[ChatCompletionChunk]`).
        """
        # `_generic` decodes the answer into `cast_to`: what it gives is that type.
        result: _C | AsyncStream[_E] | AsyncStream[_C] = await self._generic(
            "GET", path, cast_to, options=options, stream=stream, stream_cls=stream_cls
        )
        return result

    @overload
    async def post(
        self,
        path: str,
        *,
        cast_to: type[_C],
        body: Mapping[str, object] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        stream: Literal[False] = False,
        stream_cls: None = None,
    ) -> _C: ...
    @overload
    async def post(
        self,
        path: str,
        *,
        cast_to: type[_C],
        body: Mapping[str, object] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        stream: Literal[True],
        stream_cls: type[AsyncStream[_E]],
    ) -> AsyncStream[_E]: ...
    @overload
    async def post(
        self,
        path: str,
        *,
        cast_to: type[_C],
        body: Mapping[str, object] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        stream: Literal[True],
        stream_cls: None = None,
    ) -> AsyncStream[_C]: ...
    @overload
    async def post(
        self,
        path: str,
        *,
        cast_to: type[_C],
        body: Mapping[str, object] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        stream: bool,
        stream_cls: type[AsyncStream[_E]] | None = None,
    ) -> _C | AsyncStream[_E] | AsyncStream[_C]: ...
    @overload
    async def post(
        self,
        path: str,
        *,
        cast_to: Any,
        body: Mapping[str, object] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        stream: bool = False,
        stream_cls: Any = None,
    ) -> Any: ...

    async def post(
        self,
        path: str,
        *,
        cast_to: type[_C] | Any,
        body: Mapping[str, object] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        stream: bool = False,
        stream_cls: type[AsyncStream[_E]] | None = None,
    ) -> _C | AsyncStream[_E] | AsyncStream[_C]:
        """`POST path` with a JSON `body` (or a multipart body when `files` is given);
        see `get()` for `cast_to`, `options` and streaming."""
        result: _C | AsyncStream[_E] | AsyncStream[_C] = await self._generic(
            "POST",
            path,
            cast_to,
            body=body,
            content=content,
            files=files,
            options=options,
            stream=stream,
            stream_cls=stream_cls,
        )
        return result

    @overload
    async def patch(
        self,
        path: str,
        *,
        cast_to: type[_C],
        body: Mapping[str, object] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> _C: ...
    @overload
    async def patch(
        self,
        path: str,
        *,
        cast_to: Any,
        body: Mapping[str, object] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Any: ...

    async def patch(
        self,
        path: str,
        *,
        cast_to: type[_C] | Any,
        body: Mapping[str, object] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> _C:
        """`PATCH path`; see `post()`."""
        result: _C = await self._generic(
            "PATCH", path, cast_to, body=body, content=content, files=files, options=options
        )
        return result

    @overload
    async def put(
        self,
        path: str,
        *,
        cast_to: type[_C],
        body: Mapping[str, object] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> _C: ...
    @overload
    async def put(
        self,
        path: str,
        *,
        cast_to: Any,
        body: Mapping[str, object] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Any: ...

    async def put(
        self,
        path: str,
        *,
        cast_to: type[_C] | Any,
        body: Mapping[str, object] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> _C:
        """`PUT path`; see `post()`."""
        result: _C = await self._generic(
            "PUT", path, cast_to, body=body, content=content, files=files, options=options
        )
        return result

    @overload
    async def delete(
        self,
        path: str,
        *,
        cast_to: type[_C],
        body: Mapping[str, object] | None = None,
        content: bytes | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> _C: ...
    @overload
    async def delete(
        self,
        path: str,
        *,
        cast_to: Any,
        body: Mapping[str, object] | None = None,
        content: bytes | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Any: ...

    async def delete(
        self,
        path: str,
        *,
        cast_to: type[_C] | Any,
        body: Mapping[str, object] | None = None,
        content: bytes | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> _C:
        """`DELETE path`; see `post()`."""
        result: _C = await self._generic(
            "DELETE", path, cast_to, body=body, content=content, options=options
        )
        return result

    async def _generic(
        self,
        method: Literal["GET", "POST", "DELETE", "PUT", "PATCH"],
        path: str,
        cast_to: Any,
        *,
        body: Mapping[str, object] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        stream: bool = False,
        stream_cls: Any = None,
    ) -> Any:
        if content is not None:
            if body is not None or files is not None:
                raise TypeError("pass `content` or `body`/`files`, not both")
            raise TypeError(
                "raw `content` is not supported by the generic request methods; "
                "send a JSON `body` or a multipart `files` mapping"
            )
        if body is not None and not isinstance(body, Mapping):
            raise TypeError(f"body must be a mapping (a JSON object), not {type(body).__name__}")
        request_options = dict(options or {})
        unknown = request_options.keys() - _REQUEST_OPTIONS
        if unknown:
            raise TypeError(
                f"unsupported request options {sorted(unknown)}; "
                f"supported: {sorted(_REQUEST_OPTIONS)}"
            )
        if not isinstance(path, str) or not path:
            raise TypeError("path must be a non-empty str such as '/models'")
        if "://" in path:
            raise ValueError(f"path must be relative to the client's base_url, not {path!r}")
        if "{" in path or "}" in path:
            raise ValueError(f"path {path!r} must not contain braces: give the path filled in")
        template = path if path.startswith("/") else "/" + path
        stream_event: str | None = None
        binary = no_body = False
        decoder: Callable[[Any, ResponseInfo], Any] | None = None
        if stream:
            stream_event = _stream_event_name(cast_to, stream_cls)
        elif cast_to is str or cast_to is bytes:
            binary = True
        elif cast_to is type(None):
            no_body = True
        else:
            decoder = _cast_decoder(cast_to, strict=self._options.strict_response_validation)
        merged: dict[str, object] | None = dict(body) if body is not None else None
        file_fields: tuple[str, ...] = ()
        if files is not None:
            if not isinstance(files, Mapping):
                raise TypeError("files must be a mapping of field name to file")
            merged = {**(merged or {}), **files}
            file_fields = tuple(files)
        operation = Operation(
            method,
            template,
            stream_event=stream_event,
            body=("multipart" if files is not None else "json") if merged is not None else None,
            binary=binary,
            files=file_fields,
            no_body=no_body,
        )
        client: AsyncAPIClient = self
        if "max_retries" in request_options:
            import copy  # the generic methods' per-call retries only

            client = copy.copy(self)
            client._retry_policy = RetryPolicy(max_retries=request_options["max_retries"])
            client._settings = None  # made again, with this policy
        result = await client._call(
            operation,
            path_params=None,
            query=request_options.get("params"),
            body=merged,
            stream=stream,
            extra_headers=request_options.get("headers"),
            extra_body=request_options.get("extra_json"),
            timeout=request_options.get("timeout", NOT_GIVEN),
            decoder=decoder,
        )
        if binary:
            data: bytes = result.content
            return data if cast_to is bytes else data.decode("utf-8", errors="replace")
        return result


def _is_model_type(tp: object) -> bool:
    import typing

    if isinstance(tp, type):
        return issubclass(tp, BaseModel)
    origin = typing.get_origin(tp)
    if origin is Union or (origin is not None and getattr(origin, "__name__", "") == "UnionType"):
        return all(_is_model_type(arg) or arg is type(None) for arg in typing.get_args(tp))
    if origin is typing.Annotated:
        return _is_model_type(typing.get_args(tp)[0])
    return False


def _cast_decoder(cast_to: Any, *, strict: bool) -> Callable[[Any, ResponseInfo], Any]:
    """How the generic methods turn the JSON answer into `cast_to`."""
    if cast_to in _JSON_CASTS or cast_to is None:
        if cast_to is dict or cast_to is list:
            kind = cast_to

            def checked(data: Any, info: ResponseInfo) -> Any:
                if not isinstance(data, kind):
                    return decode(kind, data, response=info)
                return data

            return checked
        return lambda data, info: data
    if _is_model_type(cast_to):
        return lambda data, info: decode(cast_to, data, response=info, strict=strict)
    raise TypeError(
        f"cast_to={cast_to!r} is not supported: pass an oxide model class (from "
        "oxide_proto.types, or a BaseModel subclass), object/dict/list for the JSON "
        "as decoded, str for text or bytes for the raw body"
    )


def _stream_event_name(cast_to: Any, stream_cls: Any) -> str | None:
    """The operation-table name of a stream's event type (None: the JSON as decoded)."""
    import typing

    args = typing.get_args(stream_cls) if stream_cls is not None else ()
    event = args[0] if args else cast_to
    if event in _JSON_CASTS or event is None:
        return None
    module = getattr(event, "__module__", "")
    prefix = "oxide_proto.types."
    name = getattr(event, "__qualname__", "")
    if module.startswith(prefix) and name and "." not in name:
        short = module[len(prefix) :]
        try:
            found = resolve_type(f"{short}:{name}")
        except (ImportError, AttributeError):
            found = None
        if found is event:
            return f"{short}:{name}"
    raise TypeError(
        f"a generic stream's event type must be a model of oxide_proto.types or "
        f"object/dict (the JSON as decoded), not {event!r}"
    )
