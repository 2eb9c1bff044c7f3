"""Builds the `Request` for one API call: URL, headers and encoded body.

The headers are the ones the API sees from the official SDK where they matter:
`Authorization: Bearer …`, `OpenAI-Organization` and `OpenAI-Project` when set,
`Accept`, `Content-Type`, the caller's platform (`X-Stainless-Lang` and the like,
given precomputed), `x-stainless-retry-count` (the API's logs count retries
with it), `x-stainless-read-timeout` when the caller has a read timeout, and an
idempotency key when the caller names a header for it. Layers merge
case-insensitively, later winning: built-in defaults, the client's
`default_headers`, then the call's `extra_headers`; a value of None removes the
header. Every name must be an RFC 9110 token and no value may hold a control
character (CR, LF and NUL would split the message: header injection); the error
names the header and never shows its value, which may be a key.

Requests of the same settings share one checked `Headers` object, kept in a
`HeaderTable` the caller owns (a client holds one) and passes to `build_request`:
the table holds the Authorization header, so it lives and dies with its owner
and nothing here keeps headers at module level.

The JSON body is compact UTF-8 (`ensure_ascii=False` keeps non-ASCII text at one
to four bytes a character instead of six to twelve) and refuses NaN and
infinities, which are not JSON and which the API cannot parse.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, final

from ..base._errors import InvalidHeaderError
from ..base._headers import CheckedHeaders, Headers
from ..base._types import URL, Body, Request
from ..base._url import ArrayFormat, build_url

if TYPE_CHECKING:
    from ._multipart import FileInput

__all__ = [
    "HeaderTable",
    "build_request",
    "encode_event_text",
    "encode_json",
    "encode_json_text",
    "user_agent",
    "validate_header",
]

# RFC 9110 §5.1: field-name = token; tchar = "!" / "#" / ... / DIGIT / ALPHA.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 §5.5: a field value is visible characters, SP, HTAB and obs-text; any
# other control character (CR, LF, NUL above all) is refused.
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]|[^\x00-\xff]")
_METHOD = re.compile(r"[A-Za-z]+")

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


# Every request carries it, and its parts never change while the program runs.
@functools.lru_cache(maxsize=8)
def user_agent(version: str | None = None) -> str:
    """`oxide/<version> Python/<x.y.z>`, the User-Agent every request carries."""
    if version is None:
        from .._version import __version__ as version
    python = "{}.{}.{}".format(*sys.version_info[:3])
    return f"oxide/{version} Python/{python}"


# Header names come from a small set (the defaults, a client's own): check each once.
@functools.lru_cache(maxsize=512)
def _valid_name(name: str) -> bool:
    return isinstance(name, str) and _TOKEN.fullmatch(name) is not None


def validate_header(name: str, value: str) -> str:
    """Checks one header and returns its value without surrounding blanks.

    Raises `InvalidHeaderError` naming the header when the name is not a token or
    the value holds a control character or a character outside Latin-1.
    """
    if not _valid_name(name):
        raise InvalidHeaderError(f"invalid header name {name!r}: must be an RFC 9110 token")
    if not isinstance(value, str):
        raise InvalidHeaderError(f"header {name!r} must be a str, not {type(value).__name__}")
    if _BAD_VALUE.search(value):
        raise InvalidHeaderError(
            f"header {name!r} has a value with a control character (CR, LF, NUL, ...) "
            "or a character that is not Latin-1"
        )
    return value.strip(" \t")


def _checked_headers(headers: Mapping[str, tuple[str, str]]) -> Headers:
    # One regex pass over all values, joined by a tab (which a value may hold), instead
    # of one per header. When anything is wrong, or a value is not a str,
    # validate_header finds the culprit and raises.
    fields = headers.values()
    try:
        valid = all(map(_valid_name, [name for name, _ in fields])) and (
            _BAD_VALUE.search("\t".join([value for _, value in fields])) is None
        )
    except TypeError:
        valid = False
    if not valid:
        for name, value in fields:
            validate_header(name, value)
    # The keys are the names lower-cased already.
    return CheckedHeaders._from_lowered(
        tuple([(key, value.strip(" \t")) for key, (_, value) in headers.items()])
    )


def _json_default(value: object) -> object:
    # Only a body with a date in it gets here (see `encode_json_text`); a module
    # import on this rare path keeps `datetime` out of `import oxide_io`.
    from datetime import date, datetime

    if isinstance(value, (datetime, date)):
        return value.isoformat()
    # Request arrays are typed `Iterable` and objects `Mapping`, as the official
    # SDK's params are: a generator goes out as a JSON array, any mapping as an object.
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, bytearray)):
        return list(value)
    raise TypeError(f"a value of type {type(value).__name__} cannot be sent as JSON")


def _non_finite_path(value: object, path: str) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{path} is {value!r}"
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _non_finite_path(item, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _non_finite_path(item, f"{path}[{index}]")
            if found:
                return found
    return None


def encode_json(body: object) -> bytes:
    """Compact UTF-8 JSON for a request body; datetimes as ISO 8601, iterables as arrays.

    Raises `ValueError` naming the field when a float is NaN or infinite, and
    `TypeError` for a value JSON cannot represent.
    """
    return encode_json_text(body).encode("utf-8")


def encode_json_text(body: object) -> str:
    """`encode_json` as text, for a WebSocket text message (a client event)."""
    try:
        try:
            text = _ENCODER.encode(body)
        except TypeError:
            # Rare (a datetime in the body): the shared encoder has no fallback,
            # which keeps the common case on its fastest path.
            text = json.dumps(
                body,
                ensure_ascii=False,
                separators=(",", ":"),
                allow_nan=False,
                default=_json_default,
            )
    except ValueError as exc:
        where = _non_finite_path(body, "body")
        if where is None:
            raise
        raise ValueError(f"{where}: NaN and infinity are not valid JSON") from exc
    return text


def encode_event_text(event: object) -> str:
    """A WebSocket client event as JSON text: a dict (any mapping) as it is, an event
    model (`oxide_proto.types`, or one a caller built with `model_validate`) as the
    keys it holds, by the API's names, as the official SDK sends one. Anything else
    is a `TypeError` naming its type."""
    if type(event) is not dict and not isinstance(event, Mapping):
        from ._model import BaseModel  # loaded already wherever a model exists

        if not isinstance(event, BaseModel):
            raise TypeError(
                f"a client event is a dict or an event model, not {type(event).__name__}"
            )
        event = event.to_dict(mode="json")
    return encode_json_text(event)


_Layer = Mapping[str, "str | None"]


@final
class HeaderTable:
    """The checked headers of recent request settings, for one owner.

    `build_request(header_table=table)` finds here the `Headers` of a request whose
    settings (key, organization, project, default and extra headers, retry count,
    read timeout, ...) it has built before, and keeps the ones it builds, so
    requests of the same settings share one immutable `Headers` object instead of
    building and checking their own. The entries hold the Authorization header:
    a client keeps its own table, which goes when the client goes, and its repr
    shows only a count. At most `max_size` entries: a full table is emptied before
    the next one goes in (a program whose headers vary call by call, a request id
    in `extra_headers`, keeps a bounded table).
    """

    __slots__ = ("__weakref__", "_entries", "_numbers", "_platform", "_platforms", "max_size")

    def __init__(self, max_size: int = 256) -> None:
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
            raise ValueError(f"max_size must be a positive int, not {max_size!r}")
        self.max_size = max_size
        # Read and written by `build_request` directly: a method call per request
        # would cost more than the look-up it wraps.
        self._entries: dict[tuple[object, ...], Headers] = {}
        # The platform pairs seen, by `id`, each with the number that stands for it
        # in keys (see `build_request`). An entry holds its tuple, so no other object
        # can take that id while it is here; one pair, stored whole, so threads
        # sharing the table never pair a number with another tuple.
        none: tuple[tuple[tuple[str, str], ...], int] = ((), 0)
        self._platforms = {id(()): none}
        # Each number is given to one tuple only, never again (not even after the
        # platforms are forgotten: older entries keep theirs), so a key holding one
        # cannot match another tuple's. `next` on a count is atomic for threads.
        self._numbers = itertools.count(1)
        # The last of them: a client passes the same tuple every time.
        self._platform = none

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forgets every entry (and the keys they hold)."""
        self._entries.clear()
        self._platforms.clear()

    def __repr__(self) -> str:
        return f"HeaderTable({len(self._entries)} of {self.max_size} entries)"


def _platform_number(
    table: HeaderTable, pairs: tuple[tuple[str, str], ...]
) -> tuple[tuple[tuple[str, str], ...], int]:
    """`pairs` with the number that stands for them in `table`'s keys (new ones get
    one); the table keeps them as its last."""
    platforms = table._platforms
    platform = platforms.get(id(pairs))
    if platform is None or platform[0] is not pairs:
        if len(platforms) >= table.max_size:
            platforms.clear()
        platform = platforms[id(pairs)] = (pairs, next(table._numbers))
    table._platform = platform
    return platform


# A driver passes the same platform pairs to every request: key them once.
@functools.lru_cache(maxsize=16)
def _keyed(pairs: tuple[tuple[str, str], ...]) -> dict[str, tuple[str, str]]:
    return {name.lower(): (name, value) for name, value in pairs}


def _seconds(value: float) -> str:
    # Whole seconds without a fraction ("600", not "600.0"), as the official SDK
    # sends its default; a fraction as Python writes it ("2.5").
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _merge(headers: dict[str, tuple[str, str]], layer: _Layer | None) -> None:
    if not layer:
        return
    for name, value in layer.items():
        key = name.lower() if isinstance(name, str) else name
        if value is None:
            headers.pop(key, None)
        else:
            headers[key] = (name, value)


def build_request(
    method: str,
    base_url: str | URL,
    path: str,
    *,
    path_params: Mapping[str, object] | None = None,
    query: Mapping[str, object] | None = None,
    extra_query: Mapping[str, object] | None = None,
    default_query: Mapping[str, object] | None = None,
    json_body: Mapping[str, object] | None = None,
    extra_body: Mapping[str, object] | None = None,
    files: Mapping[str, FileInput] | Sequence[tuple[str, FileInput]] | None = None,
    boundary: str | None = None,
    content: bytes | Iterable[bytes] | None = None,
    content_length: int | None = None,
    content_type: str | None = None,
    api_key: str | None = None,
    organization: str | None = None,
    project: str | None = None,
    default_headers: _Layer | None = None,
    extra_headers: _Layer | None = None,
    stream: bool = False,
    retries_taken: int = 0,
    read_timeout: float | None = None,
    idempotency_header: str | None = None,
    idempotency_key: str | None = None,
    accept_encoding: str | None = "gzip, deflate",
    version: str | None = None,
    array_format: ArrayFormat = "brackets",
    platform_headers: tuple[tuple[str, str], ...] = (),
    header_table: HeaderTable | None = None,
) -> Request:
    """Describes one API call as a `Request`.

    The body is one of: `json_body` (a dict, merged key by key with `extra_body`;
    None-valued keys are sent as null, so leave out what was not given), `files`
    (multipart: `json_body` and `extra_body` become the form fields, `boundary` is
    required), or raw `content` (bytes or an iterable of chunks, with its
    `content_length` when known and its `content_type`; without one the JSON
    Content-Type stays, as the official SDK sends it). A GET sends no body and
    no Content-Type. `stream=True` adds `Cache-Control: no-cache`; the Accept
    header stays `application/json`, as the official SDK's does.

    `platform_headers` are (name, value) pairs describing the caller's platform
    (`X-Stainless-Lang` and the like), computed once by the driver, which may read
    the platform; they come after the built-in headers and before `default_headers`.
    With a `header_table`, requests of the same settings share one `Headers`
    object kept there (see `HeaderTable`); without one, each builds its own.
    `retries_taken` is sent as `x-stainless-retry-count` unless `extra_headers`
    sets or removes that header. `idempotency_key` is sent in `idempotency_header`
    when both are given, the method is not GET and the headers do not already
    carry it; make one key per call and reuse it for its retries.

    Raises `InvalidHeaderError` for a header that would break the message,
    `ValueError` for an empty path parameter, a NaN in the body or conflicting
    body arguments, `KeyError` for a missing path parameter.
    """
    if not _METHOD.fullmatch(method):
        raise ValueError(f"invalid HTTP method {method!r}")
    method = method.upper()
    url = build_url(
        base_url,
        path,
        path_params=path_params,
        query=query,
        extra_query=extra_query,
        default_query=default_query,
        array_format=array_format,
    )

    data: Mapping[str, object] | None = json_body
    if extra_body:
        data = {**(json_body or {}), **extra_body}
    if content is not None and (data is not None or files is not None):
        raise ValueError("pass either `content` or `json_body`/`files`, not both")

    body: Body = None
    length: int | None = None
    body_type: str | None = "application/json"
    if method == "GET":
        body_type = None
    elif files is not None:
        if boundary is None:
            raise ValueError("a multipart request needs a `boundary` token")
        from ._multipart import encode_multipart  # loaded by the first upload only

        form = encode_multipart(data, files, boundary=boundary)
        body, length, body_type = form.body, form.content_length, form.content_type
    elif content is not None:
        body = content
        length = len(content) if isinstance(content, bytes) else content_length
        if content_type is not None:
            body_type = content_type
    elif data is not None:
        body = encode_json(data)

    # Every field but an idempotency key and a multipart boundary comes from a small
    # set of settings: the headers they make are built (and checked) once and shared
    # (`Headers` is immutable), so a waiting request holds no header objects of its own.
    key: tuple[object, ...] | None = None
    if (
        header_table is not None
        and files is None
        and not (idempotency_header and idempotency_key and method != "GET")
    ):
        # The platform pairs go in the key as a number: a driver passes the same
        # tuple to every request, and hashing its pairs at each one reads seven
        # tuples and fourteen strings made at different times, spread over memory.
        platform = header_table._platform
        if platform[0] is not platform_headers:
            platform = _platform_number(header_table, platform_headers)
        key = (
            method == "GET",
            body_type,
            api_key,
            organization,
            project,
            version,
            accept_encoding,
            stream,
            platform[1],
            tuple(default_headers.items()) if default_headers else None,
            tuple(extra_headers.items()) if extra_headers else None,
            retries_taken,
            read_timeout,
        )
        try:
            checked = header_table._entries.get(key)
        except TypeError:  # an unhashable value: `_header_fields` refuses it
            key = checked = None
        if checked is not None:
            return Request(
                method=method, url=url, headers=checked, body=body, content_length=length
            )
    checked = _checked_headers(
        _header_fields(
            method,
            body_type,
            multipart=files is not None,
            api_key=api_key,
            organization=organization,
            project=project,
            version=version,
            accept_encoding=accept_encoding,
            stream=stream,
            platform_headers=platform_headers,
            default_headers=default_headers,
            extra_headers=extra_headers,
            retries_taken=retries_taken,
            read_timeout=read_timeout,
            idempotency_header=idempotency_header,
            idempotency_key=idempotency_key,
        )
    )
    if key is not None and header_table is not None:
        entries = header_table._entries
        if len(entries) >= header_table.max_size:
            # Bounded; clear() is one step for threads sharing the owner.
            entries.clear()
        entries[key] = checked
    return Request(method=method, url=url, headers=checked, body=body, content_length=length)


def _header_fields(
    method: str,
    body_type: str | None,
    *,
    multipart: bool,
    api_key: str | None,
    organization: str | None,
    project: str | None,
    version: str | None,
    accept_encoding: str | None,
    stream: bool,
    platform_headers: tuple[tuple[str, str], ...],
    default_headers: _Layer | None,
    extra_headers: _Layer | None,
    retries_taken: int,
    read_timeout: float | None,
    idempotency_header: str | None,
    idempotency_key: str | None,
) -> dict[str, tuple[str, str]]:
    # Keyed by the lower-cased name, holding the name as given and its value.
    headers: dict[str, tuple[str, str]] = {}
    if api_key:
        headers["authorization"] = ("Authorization", f"Bearer {api_key}")
    if organization is not None:
        headers["openai-organization"] = ("OpenAI-Organization", organization)
    if project is not None:
        headers["openai-project"] = ("OpenAI-Project", project)
    # application/json even for a stream, as the official SDK sends it: the API's
    # spec lists only JSON for some operations that can stream (completions), and a
    # server that follows the spec refuses `text/event-stream` there (406).
    headers["accept"] = ("Accept", "application/json")
    if body_type is not None:
        headers["content-type"] = ("Content-Type", body_type)
    headers["user-agent"] = ("User-Agent", user_agent(version))
    if accept_encoding:
        headers["accept-encoding"] = ("Accept-Encoding", accept_encoding)
    if stream:
        headers["cache-control"] = ("Cache-Control", "no-cache")
    if platform_headers:
        headers.update(_keyed(platform_headers))
    _merge(headers, default_headers)
    _merge(headers, extra_headers)
    if method == "GET":
        headers.pop("content-type", None)
    elif multipart and body_type is not None:
        # The boundary in Content-Type must be the one the body was encoded with,
        # whatever a caller's plain `multipart/form-data` header said.
        headers["content-type"] = ("Content-Type", body_type)

    custom = {name.lower() for name in extra_headers or ()}
    if (
        idempotency_header
        and idempotency_key
        and method != "GET"
        and idempotency_header.lower() not in headers
    ):
        headers[idempotency_header.lower()] = (idempotency_header, idempotency_key)
    if "x-stainless-retry-count" not in custom:
        headers["x-stainless-retry-count"] = ("x-stainless-retry-count", str(retries_taken))
    if read_timeout is not None and "x-stainless-read-timeout" not in custom:
        headers["x-stainless-read-timeout"] = ("x-stainless-read-timeout", _seconds(read_timeout))
    return headers
