"""Redirects: which 3xx answers are followed, and the request that follows one.

A pure decision: the driver reads the redirect's body, asks `follow_redirect()`
and sends the request it returns, or raises the `RedirectError` it raises. The
rules (docs/networking.md explains them and how they differ from the official SDK):

- 301, 302, 303, 307 and 308 with a Location are followed, at most
  `max_redirects` (5) times per request; any other 3xx is an error.
- 303 turns the request into a GET (a HEAD stays a HEAD) without a body. 301
  and 302 keep the method and the body, as 307 and 308 do: RFC 9110 allows
  either, and turning an API POST into a GET would ask the new place for
  something else (a GET on a create endpoint lists; its answer would be taken
  for the create's). A body that cannot be sent again (an iterator) is never
  re-sent: the redirect is an error instead.
- Never from https to http; only http(s) targets.
- Credentials never go to another origin: `Authorization`, `Proxy-Authorization`,
  `api-key`, `x-api-key` and `Cookie` are dropped, and so are `OpenAI-Organization`
  and `OpenAI-Project` (they say whose account the key is). The one exception is
  the upgrade of the same host from http on port 80 to https on 443, where the
  credentials have already been sent to that host.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urljoin

from ..base._errors import redirect_error
from ..base._types import Request, ResponseInfo
from ..base._url import parse_url

__all__ = ["DEFAULT_MAX_REDIRECTS", "REDIRECT_STATUSES", "follow_redirect"]

DEFAULT_MAX_REDIRECTS: Final = 5
REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})

# Fields that identify the caller: never sent to an origin other than the one chosen.
_CREDENTIALS: Final = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
        "cookie",
        "openai-organization",
        "openai-project",
    }
)
# Fields that describe the body: dropped with it.
_BODY_FIELDS: Final = frozenset(
    {"content-type", "content-length", "content-encoding", "transfer-encoding"}
)


def follow_redirect(
    request: Request,
    response: ResponseInfo,
    content: bytes = b"",
    *,
    redirects_taken: int = 0,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
) -> Request:
    """The request to send after `response`, a 3xx answer to `request`.

    `redirects_taken` counts the redirects already followed for this request.
    Raises `RedirectError` (an `APIStatusError`; `content`, the redirect's body,
    fills its message and `body`) when the redirect must not be followed.
    """
    status = response.status_code
    location = response.headers.get("location")

    def refuse(reason: str) -> Exception:
        return redirect_error(response, content, location=location, reason=reason)

    if status not in REDIRECT_STATUSES:
        raise refuse(f"status {status} is not a redirect to follow")
    if not location:
        location = None
        raise refuse("the answer has no Location")
    try:
        url = parse_url(urljoin(str(request.url), location.strip()))
    except ValueError as exc:
        raise refuse(f"the Location is not a usable URL ({exc})") from None
    if url.scheme not in ("http", "https"):
        raise refuse("the Location is not an http(s) URL")
    if request.url.scheme == "https" and url.scheme == "http":
        raise refuse("it would leave https for plain http")
    if max_redirects == 0:
        raise refuse("this client follows no redirects")
    if redirects_taken >= max_redirects:
        raise refuse(f"more than {max_redirects} redirects")

    method, body, length = request.method, request.body, request.content_length
    drop: set[str] = set()
    if status == 303 and method != "HEAD":
        method, body, length = "GET", None, None
        drop |= _BODY_FIELDS
    elif body is not None and not request.replayable:
        raise refuse("the request body was a stream, which cannot be sent again")
    if url.origin != request.url.origin and not _upgrade(request, url.origin):
        drop |= _CREDENTIALS
        drop.add("host")
    headers = request.headers
    if drop:
        headers = type(headers)([(k, v) for k, v in headers.multi_items() if k not in drop])
    return Request(method, url, headers, body, length)


def _upgrade(request: Request, origin: tuple[str, str, int]) -> bool:
    """True for http://host (port 80) to https://host (port 443): the same server, secured."""
    return request.url.origin == ("http", origin[1], 80) and origin == ("https", origin[1], 443)
