"""Request URLs: a base URL joined with an operation's path template and its query.

The API's operations are path templates (`/vector_stores/{vector_store_id}/files`)
under a base URL that may carry its own prefix (`https://api.openai.com/v1`,
`http://host/openai/v1`). A path parameter comes from the caller, so it is
percent-encoded down to the RFC 3986 unreserved set: a `/`, `?`, `#` or `%` in an
id can never reach another path, and an assembled segment made only of dots is
refused, as the official SDK refuses it, because a server or proxy that normalises
`%2E%2E` would resolve it against the parent path.

Query values are flattened the way the official SDK's OpenAI client does it
(arrays as `key[]`, nested objects as `key[sub]`, booleans as `true`/`false`,
`None` dropped) and form-encoded like `urllib.parse.urlencode`, so the wire bytes
match what the API already receives from it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from ._types import URL

__all__ = [
    "ArrayFormat",
    "NestedFormat",
    "parse_url",
    "expand_path",
    "flatten_params",
    "encode_query",
    "build_url",
    "websocket_url",
]

ArrayFormat = Literal["brackets", "repeat", "indices", "comma"]
NestedFormat = Literal["brackets", "dots"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_WEBSOCKET_SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# '.' or '..', literal or percent-encoded: RFC 3986 §6.2.2.2 lets a normaliser
# decode %2E, so the encoded form is as dangerous as the literal one.
_DOT_SEGMENT = re.compile(r"(?:\.|%2[eE]){1,2}")
# Characters kept as they are in trusted path text (the base URL's prefix and the
# operation templates): RFC 3986 pchar plus '/' and '%' for existing escapes.
_PATH_SAFE = "/%!$&'()*+,;=:@"
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def parse_url(url: str | URL) -> URL:
    """Splits an absolute http, https, ws or wss URL into a `URL`.

    The host is lower-cased (RFC 3986 §3.2.2), the port filled in from the scheme,
    the path percent-encoded where it holds characters a request target may not
    carry. A fragment is dropped: it is never sent. Raises `ValueError` for any
    other scheme, a missing host, whitespace or control characters.
    """
    if isinstance(url, URL):
        return url
    return _parse_str(url)


# A client sends every request to the same base URL: parse it once.
@functools.lru_cache(maxsize=64)
def _parse_str(url: str) -> URL:
    if _CONTROL.search(url):
        raise ValueError(f"URL {url!r} contains whitespace or a control character")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"URL {url!r} must start with http://, https://, ws:// or wss://")
    host = parts.hostname
    if not host:
        raise ValueError(f"URL {url!r} has no host")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"URL {url!r} has an invalid port") from exc
    if port is None:
        port = _DEFAULT_PORTS[scheme]
    path = quote(parts.path, safe=_PATH_SAFE) or "/"
    target = f"{path}?{quote(parts.query, safe=_PATH_SAFE + '?')}" if parts.query else path
    return URL(scheme=scheme, host=host, port=port, target=target)


def _path_value(name: str, value: object) -> str:
    if value is None or value == "":
        # The official SDK checks this before building the path, with this wording.
        raise ValueError(f"Expected a non-empty value for `{name}` but received {value!r}")
    if isinstance(value, bool):
        return "true" if value else "false"
    return quote(str(value), safe="")


def expand_path(template: str, path_params: Mapping[str, object] | None = None) -> str:
    """Fills `{name}` placeholders in the path part of `template` from `path_params`.

    Each value is percent-encoded down to the unreserved set, so it stays inside its
    segment. A literal query after `?` in the template is returned unchanged. Raises
    `ValueError` naming the parameter when a value is empty or `None`, `KeyError`
    when a placeholder has no value, and `ValueError` when an assembled segment is
    `.` or `..` (encoded or not).
    """
    pieces, suffix = _split_template(template)
    if len(pieces) == 1:
        return pieces[0] + suffix
    params = path_params or {}
    filled = list(pieces)
    for i in range(1, len(filled), 2):
        name = filled[i]
        if name not in params:
            raise KeyError(f"no value for path parameter {{{name}}} in {template!r}")
        filled[i] = _path_value(name, params[name])
    expanded = "".join(filled)
    for segment in expanded.split("/"):
        if _DOT_SEGMENT.fullmatch(segment):
            raise ValueError(
                f"path {expanded!r} would contain the dot-segment {segment!r}; "
                "a path parameter may not be '.' or '..'"
            )
    return expanded + suffix


# Operation templates are a fixed set: split and quote their static text once.
@functools.lru_cache(maxsize=1024)
def _split_template(template: str) -> tuple[tuple[str, ...], str]:
    path, sep, query = template.partition("?")
    pieces = _PLACEHOLDER.split(path)
    for i in range(0, len(pieces), 2):
        pieces[i] = quote(pieces[i], safe=_PATH_SAFE)
    if len(pieces) == 1:
        for segment in pieces[0].split("/"):
            if _DOT_SEGMENT.fullmatch(segment):
                raise ValueError(f"path {pieces[0]!r} contains the dot-segment {segment!r}")
    return tuple(pieces), sep + query


def _scalar(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _flatten(
    key: str, value: object, array_format: ArrayFormat, nested_format: NestedFormat
) -> Iterable[tuple[str, str]]:
    if value is None:
        return
    if isinstance(value, Mapping):
        for sub, item in value.items():
            name = f"{key}.{sub}" if nested_format == "dots" else f"{key}[{sub}]"
            yield from _flatten(name, item, array_format, nested_format)
    elif isinstance(value, Iterable) and not isinstance(value, (str, bytes, bytearray)):
        # Any iterable, as for a JSON body: arrays of objects are typed `Iterable`.
        if array_format == "comma":
            yield key, ",".join(_scalar(item) for item in value if item is not None)
        elif array_format == "indices":
            for index, item in enumerate(value):
                yield from _flatten(f"{key}[{index}]", item, array_format, nested_format)
        else:
            name = key + "[]" if array_format == "brackets" else key
            for item in value:
                yield from _flatten(name, item, array_format, nested_format)
    else:
        yield key, _scalar(value)


def flatten_params(
    params: Mapping[str, object],
    *,
    array_format: ArrayFormat = "brackets",
    nested_format: NestedFormat = "brackets",
) -> list[tuple[str, str]]:
    """Flattens nested query or form values into (name, text) pairs, dropping `None`.

    `{"include": ["a", "b"], "metadata": {"k": "v"}, "stream": True}` becomes
    `include[]=a`, `include[]=b`, `metadata[k]=v`, `stream=true` with the defaults,
    the formats the OpenAI API expects for queries and multipart forms.
    """
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        pairs.extend(_flatten(key, value, array_format, nested_format))
    return pairs


def encode_query(
    params: Mapping[str, object],
    *,
    array_format: ArrayFormat = "brackets",
    nested_format: NestedFormat = "brackets",
) -> str:
    """The form-encoded query string (no leading `?`) for `params`; see `flatten_params`."""
    return urlencode(flatten_params(params, array_format=array_format, nested_format=nested_format))


def _merge_query(*layers: Mapping[str, object] | None) -> dict[str, object]:
    merged: dict[str, object] = {}
    for layer in layers:
        if layer:
            merged.update(layer)
    return merged


def _join(base: URL, full_path: str, base_query: str, literal_query: str) -> URL:
    literal = "&".join(q for q in (base_query, literal_query) if q)
    target = f"{full_path}?{literal}" if literal else full_path
    return URL(scheme=base.scheme, host=base.host, port=base.port, target=target)


# Most calls name an operation without path parameters or query under the client's
# one base URL: that URL is the same every time, so it is built once.
@functools.lru_cache(maxsize=256)
def _static_url(base_url: str | URL, path: str) -> URL:
    base = parse_url(base_url)
    base_path, _, base_query = base.target.partition("?")
    expanded, _, literal_query = expand_path(path).partition("?")
    full_path = base_path.rstrip("/") + "/" + expanded.lstrip("/")
    return _join(base, full_path, base_query, literal_query)


def build_url(
    base_url: str | URL,
    path: str,
    *,
    path_params: Mapping[str, object] | None = None,
    query: Mapping[str, object] | None = None,
    extra_query: Mapping[str, object] | None = None,
    default_query: Mapping[str, object] | None = None,
    array_format: ArrayFormat = "brackets",
    nested_format: NestedFormat = "brackets",
) -> URL:
    """Joins `base_url` and the operation `path` (a template) into the request URL.

    The path is appended below the base URL's own path whether or not either has a
    slash at the join. Query layers merge key by key, later winning: the base URL's
    literal query, the template's literal query (`?beta=true`), `default_query`,
    `query`, then `extra_query`; a `None` value drops the key. When no layer but the
    literals has anything, the literal query is sent exactly as written.
    """
    merged = _merge_query(default_query, query, extra_query)
    if not merged and "{" not in path:
        return _static_url(base_url, path)
    base = parse_url(base_url)
    base_path, _, base_query = base.target.partition("?")
    expanded, _, literal_query = expand_path(path, path_params).partition("?")
    full_path = base_path.rstrip("/") + "/" + expanded.lstrip("/")
    if not merged:
        return _join(base, full_path, base_query, literal_query)
    # As the official SDK does, a literal query is re-encoded together with the
    # parameters once there are any, so a parameter can replace a literal key.
    params: dict[str, object] = {}
    for literal in (base_query, literal_query):
        # The first value of a key repeated inside one literal query is the one kept.
        first: dict[str, object] = {}
        for key, value in parse_qsl(literal, keep_blank_values=True):
            first.setdefault(key, value)
        params.update(first)
    params.update(merged)
    encoded = encode_query(params, array_format=array_format, nested_format=nested_format)
    target = f"{full_path}?{encoded}" if encoded else full_path
    return URL(scheme=base.scheme, host=base.host, port=base.port, target=target)


def websocket_url(url: str | URL) -> URL:
    """The ws/wss URL for an http/https one (http → ws, https → wss), same target."""
    parsed = parse_url(url)
    return URL(
        scheme=_WEBSOCKET_SCHEMES[parsed.scheme],
        host=parsed.host,
        port=parsed.port,
        target=parsed.target,
    )
