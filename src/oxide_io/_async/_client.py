"""The one request path every operation goes through: encode, send, retry, decode.

Policy comes from the core (`RetryPolicy`, status-to-error mapping, model
decoding); this module carries it out: it sleeps with the runtime's sleep,
enforces the deadlines and turns transport failures into API errors where the
request is known.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from oxide_proto import (
    APIResponseValidationError,
    Operation,
    Request,
    ResponseInfo,
    RetryPolicy,
    accepted_encodings,
    build_request,
    decode,
    follow_redirect,
    resolve_type,
    status_error_from_response,
)

from .._errors_map import TRANSPORT_ERRORS, to_api_error
from .._logging import logger, redact
from .._options import NOT_GIVEN, ClientOptions, NotGiven
from .._timeout import Timeout, to_timeout
from ._pagination import AsyncPage
from ._response import AsyncResponse
from ._streaming import AsyncStream
from ._transport import AsyncTransport

__all__ = ["AsyncAPIClient", "AsyncRawResponse"]

_ACCEPT_ENCODING = accepted_encodings()


class AsyncRawResponse:
    """What `.with_raw_response` methods return: status, headers and `parse()`."""

    def __init__(self, response: AsyncResponse, content: bytes | None, parsed: Any) -> None:
        self.http_response = response
        self.status_code = response.status_code
        self.headers = response.headers
        self.http_version = response.http_version
        self.request_id = response.request_id
        self.content = content
        self._parsed = parsed

    async def parse(self) -> Any:
        return self._parsed

    def __repr__(self) -> str:
        return f"<AsyncRawResponse [{self.status_code}] request_id={self.request_id}>"


# How much of a body that is not JSON the error message shows.
_PREVIEW = 200


def _not_json(info: ResponseInfo, content: bytes, exc: Exception) -> APIResponseValidationError:
    """The error for a success status whose body is not the JSON the API sends."""
    if isinstance(exc, json.JSONDecodeError):
        reason = f"{exc.msg} at position {exc.pos}"
    elif isinstance(exc, UnicodeDecodeError):
        reason = f"not UTF-8: {exc.reason} at byte {exc.start}"
    else:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
    preview = content[:_PREVIEW]
    more = f" (first {_PREVIEW} of {len(content)} bytes)" if len(content) > _PREVIEW else ""
    return APIResponseValidationError(
        info,
        content.decode("utf-8", "replace"),
        message=(
            f"Response body is not JSON ({reason}); status {info.status_code}, "
            f"content-type {info.headers.get('content-type')!r}, "
            f"request id {info.request_id!r}, body{more}: {preview!r}"
        ),
    )


def _given(params: Mapping[str, object] | None) -> dict[str, object] | None:
    if params is None:
        return None
    return {key: value for key, value in params.items() if not isinstance(value, NotGiven)}


class AsyncAPIClient:
    """Holds the options and the transport; `_call` performs one operation."""

    def __init__(self, options: ClientOptions, transport: AsyncTransport) -> None:
        self._options = options
        self._transport = transport
        self._retry_policy = RetryPolicy(max_retries=options.max_retries)

    @property
    def with_streaming_response(self) -> Any:
        """`client.with_streaming_response.files.content(...)`: every resource's
        `with_streaming_response`, reached from the client."""
        from ._resource import AsyncClientWithStreamingResponse

        return AsyncClientWithStreamingResponse(self)

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
        files: list[tuple[str, Any]] | None = None
        boundary: str | None = None
        if operation.body == "multipart" and body is not None:
            from .._files import new_boundary, split_files

            body, files = split_files(body, operation.files)
            boundary = new_boundary()
        if operation.accept is not None:
            extra_headers = {"Accept": operation.accept, **(extra_headers or {})}
        limits = options.timeout if isinstance(timeout, NotGiven) else to_timeout(timeout)
        deadline = time.monotonic() + limits.total if limits.total is not None else None

        # A JSON body is encoded once: retries and stream reconnects send the same
        # bytes, and an iterator among the arguments (arrays are typed `Iterable`,
        # as in the official SDK) is read once.
        encoded: list[bytes] = []

        def make_request(retries_taken: int) -> Request:
            again = encoded[0] if encoded else None
            request = build_request(
                operation.method,
                options.base_url,
                operation.path,
                path_params=path_params,
                query=query,
                extra_query=extra_query,
                default_query=options.default_query,
                json_body=body if again is None else None,
                extra_body=extra_body if again is None else None,
                content=again,
                files=files,
                boundary=boundary,
                api_key=options.api_key,
                organization=options.organization,
                project=options.project,
                default_headers=options.default_headers,
                extra_headers=extra_headers,
                stream=stream,
                retries_taken=retries_taken,
                read_timeout=limits.read,
                accept_encoding=_ACCEPT_ENCODING,
            )
            if again is None and files is None and isinstance(request.body, bytes):
                encoded.append(request.body)
            return request

        response = await self._send(make_request, limits, deadline)

        async def finish(read: Callable[[], Awaitable[bytes]]) -> Any:
            # The operation's result from `response`; `read()` gives the whole body.
            if stream:

                async def reconnect(exc: BaseException, retries_taken: int) -> AsyncResponse | None:
                    request = make_request(retries_taken)
                    if not await self._should_retry(
                        request, None, to_api_error(exc, request), retries_taken
                    ):
                        return None
                    return await self._send(make_request, limits, deadline, retries_taken + 1)

                event_type = (
                    resolve_type(operation.stream_event) if operation.stream_event else None
                )
                return AsyncStream(response, event_type, reconnect=reconnect)
            if operation.binary:
                # Audio, file contents, videos: read whole, as the official SDK does;
                # `with_streaming_response` is the way to stream them.
                from ._binary import AsyncBinaryResponseContent

                return AsyncBinaryResponseContent(response, await read())
            parsed = self._parse(operation, response.info, await read(), decoder)
            if operation.page:

                async def fetch(params: Mapping[str, object]) -> Any:
                    return await self._call(
                        operation,
                        path_params=path_params,
                        query={**(query or {}), **params},
                        body=body,
                        extra_headers=extra_headers,
                        extra_query=extra_query,
                        extra_body=extra_body,
                        timeout=timeout,
                        decoder=decoder,
                    )

                parsed = AsyncPage(parsed, operation.page, fetch)
            return parsed

        if raw == "stream":
            from ._streamed_response import AsyncStreamedResponse

            return AsyncStreamedResponse(response, finish)
        content: bytes | None = None

        async def read() -> bytes:
            nonlocal content
            content = await self._read(response)
            return content

        result = await finish(read)
        return AsyncRawResponse(response, content, result) if raw else result

    @staticmethod
    async def _read(response: AsyncResponse) -> bytes:
        try:
            return await response.aread()
        except TRANSPORT_ERRORS as exc:
            raise to_api_error(exc, response.request) from exc

    @staticmethod
    def _parse(
        operation: Operation,
        info: ResponseInfo,
        content: bytes,
        decoder: Callable[[Any, ResponseInfo], Any] | None = None,
    ) -> Any:
        if operation.binary:
            return content
        try:
            data = json.loads(content) if content else None
        except (ValueError, RecursionError) as exc:
            # A captive portal's HTML, bytes that are not UTF-8, JSON cut short by a
            # clean close: the API's answer is not there (JSONDecodeError and
            # UnicodeDecodeError are both ValueErrors).
            raise _not_json(info, content, exc) from exc
        if decoder is not None:
            result = decoder(data, info)
        elif operation.response is None:
            return data
        else:
            result = decode(resolve_type(operation.response), data, response=info)
        with contextlib.suppress(AttributeError):
            object.__setattr__(result, "_request_id", info.request_id)
        return result

    async def _should_retry(
        self,
        request: Request,
        info: ResponseInfo | None,
        error: Exception,
        retries_taken: int,
        deadline: float | None = None,
    ) -> bool:
        """Asks the core's policy; sleeps the delay it gives when the answer is yes."""
        decision = self._retry_policy.decide(
            attempt=retries_taken,
            request=request,
            response=info,
            error=error,
            now=time.time(),
            random=random.random,
        )
        if not decision.retry:
            logger.debug("Not retrying %s %s: %s", request.method, request.url, decision.reason)
            return False
        if deadline is not None and time.monotonic() + decision.delay >= deadline:
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
        self,
        make_request: Callable[[int], Request],
        limits: Timeout,
        deadline: float | None,
        retries_taken: int = 0,
    ) -> AsyncResponse:
        """Sends with retries, following redirects; returns a response whose status is
        below 300, or raises (`RedirectError` for a redirect the core will not follow)."""
        while True:
            request = make_request(retries_taken)
            info: ResponseInfo | None = None
            redirects = 0
            while True:
                try:
                    response = await self._transport.send(request, limits, deadline)
                except TRANSPORT_ERRORS as exc:
                    error: Exception = to_api_error(exc, request)
                    error.__cause__ = exc
                    break
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug(
                        "HTTP %s %s -> %d (%s)",
                        request.method,
                        redact(str(request.url)),
                        response.status_code,
                        response.http_version,
                    )
                if response.status_code < 300:
                    return response
                content = await self._read(response)
                info = response.info
                if response.status_code >= 400:
                    error = status_error_from_response(info, content)
                    break
                # The core decides whether and how; a refusal raises, not retried: the
                # same request would be sent to the same place again.
                request = follow_redirect(request, info, content, redirects_taken=redirects)
                redirects += 1
                info = None
            if not await self._should_retry(request, info, error, retries_taken, deadline):
                raise error
            retries_taken += 1
