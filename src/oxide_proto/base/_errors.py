"""Every exception oxide raises, and the mapping from an HTTP status to its class.

The API errors carry the official SDK's names and attributes (`APIStatusError`,
`RateLimitError`, `status_code`, `request_id`, `code`, `param`, `type`, ...) so that
`except` clauses written against it keep working. Protocol errors follow h11's
split: `LocalProtocolError` when the caller misused the core, `RemoteProtocolError`
when the peer misbehaved.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from ._types import Request, ResponseInfo

if TYPE_CHECKING:
    from ._headers import Headers

__all__ = [
    "OpenAIError",
    "WebSocketQueueFullError",
    "APIError",
    "APIStatusError",
    "APIResponseValidationError",
    "APIConnectionError",
    "APITimeoutError",
    "ResponseTooLargeError",
    "ProxyError",
    "ProxyAuthenticationError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "RedirectError",
    "LengthFinishReasonError",
    "ContentFilterFinishReasonError",
    "InvalidJSONError",
    "InvalidToolArgumentsError",
    "SchemaError",
    "OutputValidationError",
    "InvalidWebhookSignatureError",
    "StreamAlreadyConsumed",
    "MalformedEventError",
    "ProtocolError",
    "LocalProtocolError",
    "RemoteProtocolError",
    "InvalidHeaderError",
    "LimitExceededError",
    "DecodingError",
    "WebSocketHandshakeError",
    "WebSocketConnectionClosedError",
    "APIEventError",
    "ResponseFailedError",
    "ResponseIncompleteError",
    "status_error_from_response",
    "status_error_class",
    "request_secrets",
    "redact_secrets",
]


class OpenAIError(Exception):
    """The base of every error oxide raises on purpose."""


class APIError(OpenAIError):
    """An error tied to one API request: a status, a broken connection, a bad payload."""

    message: str
    request: Request | None
    body: object | None
    code: str | None
    param: str | None
    type: str | None

    def __init__(self, message: str, request: Request | None, *, body: object | None) -> None:
        # Server text (a proxy that echoes the request's headers, an error body) can
        # hold the credentials this request carried: they never reach the message,
        # `body`, repr() or a traceback.
        secrets = request_secrets(request)
        if secrets:
            message = redact_secrets(message, secrets)
            body = _redact_value(body, secrets)
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body
        if isinstance(body, Mapping):
            code = body.get("code")
            self.code = str(code) if code is not None else None
            param = body.get("param")
            self.param = param if isinstance(param, str) else None
            kind = body.get("type")
            self.type = kind if isinstance(kind, str) else None
        else:
            self.code = self.param = self.type = None


class APIResponseValidationError(APIError):
    """The API answered with data that does not fit the expected type.

    `path` names the offending field (for example `choices[0].message.role`).
    """

    def __init__(
        self,
        response: ResponseInfo | None,
        body: object | None,
        *,
        message: str | None = None,
        path: str = "",
    ) -> None:
        text = message or "Data returned by API invalid for expected schema."
        if path:
            text = f"{text} (at {path})"
        super().__init__(text, response.request if response else None, body=body)
        self.response = response
        self.status_code = response.status_code if response else None
        self.path = path
        self.request_id = response.request_id if response else None


class APIStatusError(APIError):
    """The API answered with a 4xx or 5xx status (or a redirect that was not followed)."""

    status_code: int

    def __init__(self, message: str, *, response: ResponseInfo, body: object | None) -> None:
        super().__init__(message, response.request, body=body)
        self.response = response
        self.status_code = response.status_code
        self.request_id: str | None = response.request_id

    @property
    def headers(self) -> Headers:
        return self.response.headers


class BadRequestError(APIStatusError):
    status_code: Literal[400] = 400


class AuthenticationError(APIStatusError):
    status_code: Literal[401] = 401


class PermissionDeniedError(APIStatusError):
    status_code: Literal[403] = 403


class NotFoundError(APIStatusError):
    status_code: Literal[404] = 404


class ConflictError(APIStatusError):
    status_code: Literal[409] = 409


class UnprocessableEntityError(APIStatusError):
    status_code: Literal[422] = 422


class RateLimitError(APIStatusError):
    status_code: Literal[429] = 429


class InternalServerError(APIStatusError):
    pass


class RedirectError(APIStatusError):
    """A 3xx answer that was not followed; `location` is where it pointed (None when
    it named no place) and `reason` says why it was not followed: a status that is
    not a redirect to follow, a Location that is not an http(s) URL, https to http,
    a body that cannot be sent again, too many redirects. See docs/networking.md.
    """

    def __init__(
        self,
        message: str,
        *,
        response: ResponseInfo,
        body: object | None,
        location: str | None,
        reason: str,
    ) -> None:
        super().__init__(message, response=response, body=body)
        self.location = location
        self.reason = reason


class APIConnectionError(APIError):
    """The request did not get a complete answer: refused, reset, TLS failure, protocol error."""

    def __init__(self, *, message: str = "Connection error.", request: Request | None) -> None:
        super().__init__(message, request, body=None)


class APITimeoutError(APIConnectionError):
    def __init__(self, request: Request | None, *, message: str = "Request timed out.") -> None:
        super().__init__(message=message, request=request)


class ProxyError(APIConnectionError):
    """The proxy refused or failed to open the tunnel, or answered out of protocol.

    `proxy_url` names the proxy (password masked); `status_code` is an HTTP
    proxy's answer and `reply_code` a SOCKS proxy's reply code (RFC 1928 §6), None
    when the proxy broke the protocol.
    """

    def __init__(
        self,
        message: str,
        *,
        proxy_url: str,
        status_code: int | None = None,
        request: Request | None = None,
        reply_code: int | None = None,
    ) -> None:
        super().__init__(message=message, request=request)
        self.proxy_url = proxy_url
        self.status_code = status_code
        self.reply_code = reply_code

    def with_request(self, request: Request) -> ProxyError:
        """The same error tied to the request that met it."""
        error = type(self)(
            self.message,
            proxy_url=self.proxy_url,
            status_code=self.status_code,
            request=request,
            reply_code=self.reply_code,
        )
        error.__cause__ = self.__cause__
        return error


class ProxyAuthenticationError(ProxyError):
    """The proxy wants credentials: missing from the proxy URL, or refused (an HTTP
    proxy's 407, a SOCKS proxy's authentication step)."""


class ResponseTooLargeError(APIConnectionError):
    """A response broke one of the client's size limits, so it was not read.

    `limit_name` is the option that sets the limit (`max_decoded_size`,
    `max_head_size`, `max_line_size`, `max_event_size`, `max_message_size`) and
    `limit` its value (bytes, or characters for `max_event_size`). The same request
    would get the same answer, so it is not retried. The core's
    `LimitExceededError` is its `__cause__`.
    """

    def __init__(
        self, *, message: str, request: Request | None, limit_name: str, limit: int
    ) -> None:
        super().__init__(message=message, request=request)
        self.limit_name = limit_name
        self.limit = limit


class MalformedEventError(APIResponseValidationError):
    """A stream event whose data is not the JSON the API promises (or not UTF-8 text).

    `event` is the SSE event name (or None), `data` the raw text that failed (bytes
    that are not UTF-8 appear as U+FFFD). An `APIResponseValidationError`: the API
    answered, with data that does not fit. `status_code` and `request_id` are the
    streamed response's when it is known.
    """

    def __init__(
        self,
        message: str,
        *,
        event: str | None,
        data: str,
        request: Request | None = None,
        response: ResponseInfo | None = None,
    ) -> None:
        if response is not None and request is None:
            request = response.request
        APIError.__init__(self, message, request, body=data)
        self.response = response
        self.status_code = response.status_code if response else None
        self.path = ""
        self.request_id = response.request_id if response else None
        self.event = event
        self.data = self.body if isinstance(self.body, str) else data  # redacted as `body`


class LengthFinishReasonError(OpenAIError):
    """A structured reply was cut off by the token limit, so it cannot be parsed."""

    def __init__(self, *, completion: Any) -> None:
        message = "Could not parse response content as the length limit was reached"
        usage = getattr(completion, "usage", None)
        if usage:
            message += f" - {usage}"
        super().__init__(message)
        self.completion = completion


class ContentFilterFinishReasonError(OpenAIError):
    """A structured reply was stopped by the content filter, so it cannot be parsed."""

    def __init__(self, *, completion: Any = None) -> None:
        super().__init__(
            "Could not parse response content as the request was rejected by the content filter"
        )
        self.completion = completion


class InvalidJSONError(OpenAIError, ValueError):
    """Text the model produced (a structured reply, tool arguments) is not valid JSON.

    `position` is the offset in the text where it went wrong.
    """

    def __init__(self, message: str, *, position: int) -> None:
        super().__init__(message)
        self.position = position


class InvalidToolArgumentsError(OpenAIError, ValueError):
    """A tool call's arguments could not be parsed: not JSON, or not the declared type.

    `index`, `call_id` and `name` identify the call; `arguments` is its raw text.
    The underlying `InvalidJSONError` or `OutputValidationError` is `__cause__`.
    """

    def __init__(
        self, message: str, *, index: int, call_id: str | None, name: str | None, arguments: str
    ) -> None:
        super().__init__(message)
        self.index = index
        self.call_id = call_id
        self.name = name
        self.arguments = arguments


class SchemaError(OpenAIError, TypeError):
    """A Python type that strict structured outputs cannot express (a free-form dict, Any).

    `path` names the field, for example `Order.items[].extras`.
    """

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(f"{message} (at {path})" if path else message)
        self.path = path


class OutputValidationError(OpenAIError, ValueError):
    """Parsed JSON that does not fit the requested type; `path` names the field."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(f"{message} (at {path})" if path else message)
        self.path = path


class InvalidWebhookSignatureError(ValueError):
    """A webhook's signature does not match its payload and secret."""


class StreamAlreadyConsumed(OpenAIError):
    """A streamed body was asked for again after it had been iterated.

    A body read whole (`read()`) is kept and can be asked for again; one that was
    iterated was not kept, so it cannot be read or iterated a second time.
    """

    def __init__(self) -> None:
        super().__init__(
            "The response body has already been streamed: it can be iterated once. "
            "Call .read() first to keep it, or collect the chunks while iterating."
        )


class ProtocolError(OpenAIError):
    """HTTP, SSE or WebSocket rules were broken, by us or by the peer."""


class LocalProtocolError(ProtocolError):
    """The caller asked the core for something the protocol forbids."""


class InvalidHeaderError(LocalProtocolError, ValueError):
    """A header name or value would break the message (CR, LF, NUL: header injection)."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the protocol forbids, or went away mid-message.

    `retry_safe` is True when the peer guarantees it did not process the request
    (HTTP/2 GOAWAY above the stream id, REFUSED_STREAM), so any method may be retried.
    """

    def __init__(self, message: str, *, retry_safe: bool = False) -> None:
        super().__init__(message)
        self.retry_safe = retry_safe


class LimitExceededError(RemoteProtocolError):
    """The peer sent more than a configured limit allows (line, event, message, body).

    `limit` is the limit's value and `limit_name` the parameter that sets it
    (`max_line_size`, ...; empty when the raiser does not say).
    """

    def __init__(self, message: str, *, limit: int, limit_name: str = "") -> None:
        super().__init__(message)
        self.limit = limit
        self.limit_name = limit_name


class DecodingError(RemoteProtocolError):
    """The response body does not decode under its Content-Encoding (corrupt gzip/deflate)."""


class WebSocketHandshakeError(RemoteProtocolError):
    """The server refused or botched the WebSocket upgrade.

    When the server answered with a status other than 101, `status_code`, `headers`
    and `body` (its text, which is where the API explains a refusal) say what it sent.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        headers: Headers | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.headers = headers
        self.body = body


class WebSocketConnectionClosedError(OpenAIError):
    """The WebSocket closed; `code` and `reason` are what the close frame said."""

    def __init__(self, message: str, *, code: int, reason: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


class WebSocketQueueFullError(OpenAIError):
    """A message sent through a connection manager before it is entered would take
    the messages waiting for the connection past `max_queue_size` bytes; it was
    not queued (the ones before it still are)."""


class APIEventError(APIError):
    """The server answered with an `error` event (Responses or Realtime over WebSocket).

    `body` is the event's `error` object, so `code`, `param` and `type` fill in as
    for an HTTP error; `event` is the whole event as received.
    """

    def __init__(self, message: str, *, event: Mapping[str, Any], body: object | None) -> None:
        super().__init__(message, None, body=body)
        self.event = event


class ResponseFailedError(APIError):
    """A response ended with `response.failed`; `response` is the final Response object."""

    def __init__(self, message: str, *, response: Any, body: object | None = None) -> None:
        super().__init__(message, None, body=body)
        self.response = response


class ResponseIncompleteError(APIError):
    """A response ended with `response.incomplete`; `reason` says why (`max_output_tokens`, ...).

    `response` is the final Response object, with whatever output was produced.
    """

    def __init__(self, message: str, *, response: Any, reason: str | None) -> None:
        super().__init__(message, None, body=None)
        self.response = response
        self.reason = reason


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The exception class the official SDK raises for `status_code`."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, APIStatusError)


# How much of a body without an error message goes into the exception's message.
_MAX_DETAIL = 500


def _excerpt(text: str) -> str:
    return text if len(text) <= _MAX_DETAIL else text[:_MAX_DETAIL] + "..."


def status_error_from_response(response: ResponseInfo, content: bytes) -> APIStatusError:
    """Builds the error for a 4xx/5xx answer from its head and (decoded) body bytes.

    The body is parsed as JSON when it is JSON; the `error` object inside becomes
    `body` (so `code`, `param`, `type` fill in) and its `message` joins the text.
    """
    message, body = _status_detail(content, f"Error code: {response.status_code}")
    return status_error_class(response.status_code)(message, response=response, body=body)


def redirect_error(
    response: ResponseInfo, content: bytes, *, location: str | None, reason: str
) -> RedirectError:
    """The error for a 3xx answer that is not followed, naming where it pointed."""
    where = f" to {location!r}" if location is not None else ""
    message, body = _status_detail(
        content, f"Redirect {response.status_code}{where} not followed: {reason}"
    )
    return RedirectError(message, response=response, body=body, location=location, reason=reason)


def _status_detail(content: bytes, message: str) -> tuple[str, object]:
    """The message (`message` and the body's own explanation) and `body` of an answer."""
    text = content.decode("utf-8", errors="replace").strip()
    body: object = text if text else None
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        # Not JSON (a proxy's HTML page, a plain-text error; JSON nested beyond what
        # Python parses): the text is the detail.
        if text:
            message += f" - {_excerpt(text)}"
    else:
        error = parsed.get("error", parsed) if isinstance(parsed, Mapping) else None
        detail = error.get("message") if isinstance(error, Mapping) else None
        if isinstance(detail, str) and detail:
            message += f" - {detail}"
        elif text:
            # JSON without `error.message` (an RFC 9457 problem document from a gateway
            # or a mock server listing each violation): the JSON is the detail.
            message += f" - {_excerpt(text)}"
        body = error if error is not None else parsed
    return message, body


# Request headers whose values are credentials.
_SECRET_HEADERS = ("authorization", "proxy-authorization", "api-key", "x-api-key")
# Shorter values are not looked for: they would match ordinary words in server text.
_MIN_SECRET = 8


def request_secrets(request: Request | None) -> tuple[str, ...]:
    """The credentials `request` carries: the token of its Authorization header (the
    API key, an Azure AD token) and the value of `api-key` (Azure) and the like."""
    if request is None:
        return ()
    headers = request.headers
    found: list[str] = []
    for name in _SECRET_HEADERS:
        value = headers.get(name)
        if not value:
            continue
        # `Bearer <token>`: the token is the secret (the scheme name is not).
        _, _, token = value.partition(" ")
        secret = token.strip() or value
        if len(secret) >= _MIN_SECRET and secret not in found:
            found.append(secret)
    # Longest first, so a value containing another is cut whole.
    return tuple(sorted(found, key=len, reverse=True))


def _stub(secret: str) -> str:
    # As the logs show keys: `sk-` and four characters stay, to tell keys apart.
    return f"{secret[:7]}***" if secret.startswith("sk-") and len(secret) > 11 else "***"


def redact_secrets(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with each of `secrets` cut down to a stub."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, _stub(secret))
    return text


def _redact_value(value: object, secrets: tuple[str, ...]) -> object:
    """A parsed JSON body (or text) with the secrets cut from every string in it."""
    if isinstance(value, str):
        return redact_secrets(value, secrets)
    if isinstance(value, dict):
        return {
            redact_secrets(k, secrets) if isinstance(k, str) else k: _redact_value(v, secrets)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact_value(item, secrets) for item in value]
    return value
