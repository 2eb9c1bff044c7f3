"""One API call, prepared once: each attempt's request, what an answer means, the next page.

A driver performing an operation asks this object everything that can be decided
without a socket: the request of attempt n (the JSON body encoded once, so retries
and stream reconnects send the same bytes and an iterator among the arguments is
read once), what a status of 300 or more means (an error, or a redirect to
follow), whether and after how long to try again (the client's `RetryPolicy`,
within what is left of the call's deadline), how the body becomes the
operation's result, and which call fetches the page after a page. The driver
only sends, sleeps and waits.

`CallSettings` holds what every call of one client shares (the base URL, keys,
default headers, the retry policy, the client's `HeaderTable`); the driver builds
it once per client.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, final

from ..base._errors import APIResponseValidationError, APIStatusError, status_error_from_response
from ..base._types import Request, ResponseInfo
from ..http._retry import RetryDecision, RetryPolicy
from ._decode import decode
from ._encode import HeaderTable, build_request
from ._operation import Operation, resolve_type

if TYPE_CHECKING:
    from ._azure import AzureConfig

__all__ = ["Call", "CallSettings"]

# How a call turns the JSON of a success answer into its result: `decoder(json, info)`;
# a decoder with a true `reads_body` attribute is given the body's bytes instead.
Decoder = Callable[[Any, ResponseInfo], Any]

# How much of a body that is not JSON the error message shows.
_PREVIEW = 200


@final
class CallSettings:
    """What every call of one client shares; built once per client by its driver.

    `platform_headers` are the (name, value) pairs describing the caller's platform,
    which the driver reads; `strict` makes responses decode strictly (a client made
    with `_strict_response_validation=True`). `header_table`, the client's own,
    lets requests of the same settings share their headers (None: each builds its own).
    """

    __slots__ = (
        "accept_encoding",
        "api_key",
        "azure",
        "base_url",
        "default_headers",
        "default_query",
        "header_table",
        "organization",
        "platform_headers",
        "project",
        "retry_policy",
        "strict",
    )

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        organization: str | None = None,
        project: str | None = None,
        default_headers: Mapping[str, str | None] | None = None,
        default_query: Mapping[str, object] | None = None,
        platform_headers: tuple[tuple[str, str], ...] = (),
        accept_encoding: str | None = "gzip, deflate",
        retry_policy: RetryPolicy | None = None,
        strict: bool = False,
        azure: AzureConfig | None = None,
        header_table: HeaderTable | None = None,
    ) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.organization = organization
        self.project = project
        self.default_headers = default_headers
        self.default_query = default_query
        self.platform_headers = platform_headers
        self.accept_encoding = accept_encoding
        self.retry_policy = retry_policy if retry_policy is not None else RetryPolicy()
        self.strict = strict
        self.azure = azure
        self.header_table = header_table


def _strict_decoder(response: str) -> Decoder:
    def strict(data: Any, info: ResponseInfo) -> Any:
        return decode(resolve_type(response), data, response=info, strict=True)

    return strict


def not_json_error(
    info: ResponseInfo, content: bytes, exc: Exception
) -> APIResponseValidationError:
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


@final
class Call:
    """One call of `operation`, prepared once and asked by its driver at each step.

    `query` and `body` hold only the arguments the caller gave. A multipart body
    comes split: `body` the form fields, `files` the file parts and `boundary` the
    token they are framed with. `decoder(json, info)` replaces the operation's
    model decoding. `admin_key`, when given, replaces the client's key (the
    organization-administration endpoints).
    """

    __slots__ = (
        "_base_url",
        "_encoded",
        "_path",
        "admin_key",
        "body",
        "boundary",
        "decoder",
        "extra_body",
        "extra_headers",
        "extra_query",
        "files",
        "operation",
        "path_params",
        "query",
        "read_timeout",
        "settings",
        "stream",
    )

    def __init__(
        self,
        settings: CallSettings,
        operation: Operation,
        *,
        path_params: Mapping[str, object] | None = None,
        query: Mapping[str, object] | None = None,
        body: Mapping[str, object] | None = None,
        files: list[tuple[str, Any]] | None = None,
        boundary: str | None = None,
        stream: bool = False,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        read_timeout: float | None = None,
        decoder: Decoder | None = None,
        admin_key: str | None = None,
    ) -> None:
        self.settings = settings
        self.operation = operation
        self.path_params = path_params
        self.query = query
        self.body = body
        self.files = files
        self.boundary = boundary
        self.stream = stream
        if operation.accept is not None:
            extra_headers = {"Accept": operation.accept, **(extra_headers or {})}
        self.extra_headers = extra_headers
        self.extra_query = extra_query
        self.extra_body = extra_body
        self.read_timeout = read_timeout
        if settings.strict and decoder is None and operation.response:
            decoder = _strict_decoder(operation.response)
        self.decoder = decoder
        self.admin_key = admin_key
        base_url, path = settings.base_url, operation.path
        if settings.azure is not None:
            # Azure's routing (and its module) only for an Azure client.
            from ._azure import azure_route

            base_url, path = azure_route(settings.azure, path, body)
        self._base_url = base_url
        self._path = path
        self._encoded: bytes | None = None

    def request(
        self,
        retries_taken: int,
        *,
        api_key: str | None = None,
        headers: Mapping[str, str | None] | None = None,
        authenticated: bool = False,
    ) -> Request:
        """The request of the attempt after `retries_taken` retries.

        With `authenticated=True`, `api_key` and `headers` (what a key or token
        provider gave for this attempt) replace the client's key and the call's
        extra headers.
        """
        settings = self.settings
        again = self._encoded
        if not authenticated:
            api_key, headers = settings.api_key, self.extra_headers
        if self.admin_key is not None:
            api_key = self.admin_key
        request = build_request(
            self.operation.method,
            self._base_url,
            self._path,
            path_params=self.path_params,
            query=self.query,
            extra_query=self.extra_query,
            default_query=settings.default_query,
            json_body=self.body if again is None else None,
            extra_body=self.extra_body if again is None else None,
            content=again,
            files=self.files,
            boundary=self.boundary,
            api_key=api_key,
            organization=settings.organization,
            project=settings.project,
            default_headers=settings.default_headers,
            extra_headers=headers,
            stream=self.stream,
            retries_taken=retries_taken,
            read_timeout=self.read_timeout,
            accept_encoding=settings.accept_encoding,
            platform_headers=settings.platform_headers,
            header_table=settings.header_table,
        )
        if again is None and self.files is None and isinstance(request.body, bytes):
            self._encoded = request.body
        return request

    def after_response(
        self,
        request: Request,
        info: ResponseInfo,
        content: bytes,
        *,
        redirects_taken: int,
        follow_redirects: bool = True,
    ) -> Request | APIStatusError:
        """What an answer of status 300 or more means: the error it is (400 and up), or
        the request that follows the redirect. Raises `RedirectError` for a redirect the
        core will not follow (not retried: the same request would go to the same place),
        and for every redirect when `follow_redirects` is False.
        """
        if info.status_code >= 400:
            return status_error_from_response(info, content)
        from ..http._redirect import follow_redirect  # a redirect is rare: loaded by the first

        if not follow_redirects:
            return follow_redirect(request, info, content, max_redirects=0)
        return follow_redirect(request, info, content, redirects_taken=redirects_taken)

    def retry(
        self,
        request: Request,
        info: ResponseInfo | None,
        error: BaseException,
        retries_taken: int,
        *,
        now: float,
        random: Callable[[], float],
        time_left: float | None = None,
    ) -> RetryDecision:
        """Whether to send the call again after a failed attempt, and after how long.

        The client's `RetryPolicy` decides from the error response `info` (or the
        `error` raised while sending); `now` is the wall clock (UNIX time, for a
        `retry-after` date). A wait that would reach past `time_left`, the seconds
        left before the call's deadline, is not taken.
        """
        decision = self.settings.retry_policy.decide(
            attempt=retries_taken,
            request=request,
            response=info,
            error=error,
            now=now,
            random=random,
        )
        if decision.retry and time_left is not None and decision.delay >= time_left:
            return RetryDecision(
                retry=False,
                delay=decision.delay,
                reason=f"{decision.reason}, past the call's deadline ({time_left:.2f} s left)",
            )
        return decision

    @property
    def event_type(self) -> Any:
        """The model a stream's events decode into (None: the JSON as decoded)."""
        name = self.operation.stream_event
        return resolve_type(name) if name else None

    def result(self, info: ResponseInfo, content: bytes) -> Any:
        """The operation's result from a success answer's head and whole body.

        A binary operation's is the body; a `no_body` operation's is None, whatever
        the body holds; otherwise the JSON, decoded by the call's decoder or into the
        operation's model (which keeps the request id). Raises
        `APIResponseValidationError` for a body that is not JSON.
        """
        operation = self.operation
        if operation.binary:
            return content
        if operation.no_body:
            return None
        decoder = self.decoder
        if getattr(decoder, "reads_body", False):
            # A decoder that reads the body itself: the result type was chosen from the
            # arguments and may not be JSON (a transcription asked for as text).
            assert decoder is not None
            return self._keep_request_id(decoder(content, info), info)
        try:
            data = json.loads(content) if content else None
        except (ValueError, RecursionError) as exc:
            # A captive portal's HTML, bytes that are not UTF-8, JSON cut short by a
            # clean close: the API's answer is not there (JSONDecodeError and
            # UnicodeDecodeError are both ValueErrors).
            raise not_json_error(info, content, exc) from exc
        if decoder is not None:
            result = decoder(data, info)
        elif operation.response is None:
            return data
        else:
            result = decode(resolve_type(operation.response), data, response=info)
        return self._keep_request_id(result, info)

    @staticmethod
    def _keep_request_id(result: Any, info: ResponseInfo) -> Any:
        # A value without the slot (a dict, a list, a user's type) goes as it is; a
        # try costs less than contextlib.suppress on every call.
        try:  # noqa: SIM105
            object.__setattr__(result, "_request_id", info.request_id)
        except AttributeError:
            pass
        return result

    def next_page(self, params: Mapping[str, object]) -> Call:
        """The call that fetches the page after this one's: the same call with
        `params` (the next page's cursor) added to its query."""
        page = Call.__new__(Call)
        for name in Call.__slots__:
            setattr(page, name, getattr(self, name))
        page.query = {**(self.query or {}), **params}
        page._encoded = None
        return page
