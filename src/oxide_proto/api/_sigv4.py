"""AWS Signature Version 4: signing a request with AWS credentials, as pure functions.

Amazon Bedrock (and every AWS service) authenticates a request by an HMAC-SHA256
signature over a canonical form of it. The steps, each a function here so each
can be checked against AWS's published examples:

1. the canonical request: method, the URI-encoded path, the sorted query, the
   signed headers (lower-cased names, trimmed values, sorted) and the hex SHA-256
   of the body;
2. the string to sign: the algorithm, the request time (`x-amz-date`), the
   credential scope `{date}/{region}/{service}/aws4_request` and the hex SHA-256
   of the canonical request;
3. the signing key: HMAC-SHA256 chained from `"AWS4" + secret` over the date, the
   region, the service and `aws4_request`;
4. the `Authorization` header naming the key id, the scope, the signed headers
   and the signature.

`sign_request()` does all of it for one `Request`, with the time given as `now`
(UNIX seconds): the core reads no clock. The path of a request as it goes on the
wire is already percent-encoded once; it is encoded again here, as AWS requires of
every service but S3 (a Bedrock model id's `:` is signed as `%253A` after going
out as `%3A`, or as `%3A` after going out as `:`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime, timezone
from urllib.parse import quote_from_bytes, unquote_to_bytes

from ..base._errors import OpenAIError
from ..base._record import field, frozen
from ..base._types import Request

__all__ = [
    "ALGORITHM",
    "EMPTY_SHA256",
    "AwsCredentials",
    "amz_date",
    "authorization",
    "canonical_headers",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "payload_hash",
    "sign_request",
    "signing_key",
    "string_to_sign",
]

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

# The fields sign_request() sets itself; any the request already has are replaced.
SIGNING_FIELDS = frozenset(
    {"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"}
)
# Fields left out of the signature: hop-by-hop ones a proxy may change or drop, and
# the ones AWS's own signers skip (a tracing header, the client's product token).
UNSIGNED_FIELDS = frozenset(
    {
        "connection",
        "expect",
        "keep-alive",
        "proxy-authorization",
        "te",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)


@frozen(kw_only=True)
class AwsCredentials:
    """An AWS access key: its id, its secret and, for temporary credentials, the
    session token (sent as `x-amz-security-token`). None of them is in the repr."""

    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("access_key_id", "secret_access_key"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise OpenAIError(f"AWS credentials need a non-empty `{name}`")
        token = self.session_token
        if token is not None and (not isinstance(token, str) or not token.strip()):
            raise OpenAIError("an AWS `session_token`, when given, must not be empty")


def amz_date(now: float) -> str:
    """`now` (UNIX seconds) as SigV4's request time, `YYYYMMDDTHHMMSSZ` in UTC."""
    return datetime.fromtimestamp(int(now), tz=timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _uri_encode(data: bytes, *, keep_slash: bool) -> str:
    # `quote` keeps exactly RFC 3986's unreserved characters (plus `safe`) and
    # writes upper-case hex, which is AWS's UriEncode.
    return quote_from_bytes(data, safe="/~" if keep_slash else "~")


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 §5.2.4, on whole segments: AWS normalizes the path of every
    # service but S3 before signing it.
    segments: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if segments:
                segments.pop()
        elif segment != ".":
            segments.append(segment)
    normalized = "/" + "/".join(segments)
    if path.endswith(("/", "/.", "/..")) and not normalized.endswith("/"):
        normalized += "/"
    return normalized


def canonical_uri(path: str) -> str:
    """The canonical URI of `path`: dot segments removed, then every byte but the
    unreserved ones and `/` percent-encoded (UTF-8, upper-case hex). An empty path is `/`."""
    if not path:
        return "/"
    if not path.startswith("/"):
        path = "/" + path
    return _uri_encode(_remove_dot_segments(path).encode("utf-8"), keep_slash=True)


def canonical_query(query: str) -> str:
    """The canonical query string of `query` (the part after `?`, as sent).

    Each name and value is percent-decoded and encoded again the AWS way (so `~`
    stays, a space is `%20`, `+` is `%2B`), and the pairs are sorted by name, then
    value. A parameter without `=` has an empty value.
    """
    if not query:
        return ""
    pairs: list[tuple[str, str]] = []
    for item in query.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        pairs.append(
            (
                _uri_encode(unquote_to_bytes(name), keep_slash=False),
                _uri_encode(unquote_to_bytes(value), keep_slash=False),
            )
        )
    pairs.sort()
    return "&".join(f"{name}={value}" for name, value in pairs)


def canonical_headers(headers: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """(canonical headers block, signed headers list) of `headers`.

    Names are lower-cased and sorted; each value is trimmed, its runs of spaces
    and tabs made one space; a repeated field's values are joined by commas in the
    order given. The block ends with a newline after every field.
    """
    values: dict[str, list[str]] = {}
    for name, value in headers:
        values.setdefault(name.lower(), []).append(" ".join(value.split()))
    names = sorted(values)
    block = "".join(f"{name}:{','.join(values[name])}\n" for name in names)
    return block, ";".join(names)


def canonical_request(
    method: str,
    path: str,
    query: str,
    headers: Iterable[tuple[str, str]],
    payload: str,
) -> tuple[str, str]:
    """(canonical request, signed headers list): step 1, with `payload` the body's hex SHA-256."""
    block, signed = canonical_headers(headers)
    text = "\n".join(
        (method.upper(), canonical_uri(path), canonical_query(query), block, signed, payload)
    )
    return text, signed


def string_to_sign(request_time: str, scope: str, canonical: str) -> str:
    """Step 2: what the signing key signs."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{request_time}\n{scope}\n{digest}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.digest(key, message.encode("utf-8"), "sha256")


def signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    """Step 3: the key of one day (`YYYYMMDD`), region and service, derived from the secret."""
    key = _hmac(f"AWS4{secret_access_key}".encode(), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def authorization(
    method: str,
    path: str,
    query: str,
    headers: Iterable[tuple[str, str]],
    payload: str,
    *,
    credentials: AwsCredentials,
    region: str,
    service: str,
    request_time: str,
    key: bytes | None = None,
) -> str:
    """Step 4: the `Authorization` value for a request whose signed fields are
    `headers` (which must hold `host` and `x-amz-date`, the `request_time`).

    `key` is the day's signing key when the caller kept it (`signing_key()` of the
    same secret, date, region and service); without it, it is derived here.
    """
    canonical, signed = canonical_request(method, path, query, headers, payload)
    date = request_time[:8]
    scope = f"{date}/{region}/{service}/aws4_request"
    if key is None:
        key = signing_key(credentials.secret_access_key, date, region, service)
    signature = _hmac(key, string_to_sign(request_time, scope, canonical)).hex()
    return (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )


def payload_hash(body: object) -> str:
    """The hex SHA-256 of a request body; a streamed body cannot be signed
    (SigV4 signs the whole body before the first byte goes out)."""
    if body is None:
        return EMPTY_SHA256
    if isinstance(body, bytes):
        return hashlib.sha256(body).hexdigest()
    raise OpenAIError(
        "AWS SigV4 signing needs the whole request body in memory, and this request's "
        "body is streamed (an upload read in chunks); send it as bytes or use bearer "
        "authentication"
    )


def sign_request(
    request: Request,
    credentials: AwsCredentials,
    *,
    region: str,
    service: str,
    now: float,
    keys: dict[tuple[str, str, str, str], bytes] | None = None,
) -> Request:
    """`request` signed for `service` in `region` at time `now` (UNIX seconds).

    `keys`, when given, keeps the signing key of each (secret, date, region,
    service) between calls: a key serves a whole UTC day, and deriving it is a
    quarter of the work. The caller owns the mapping (the core keeps no state);
    it holds one entry, the last key used.

    Adds `x-amz-date`, `x-amz-content-sha256` (the body's hash, which the signature
    covers), `x-amz-security-token` for temporary credentials and `Authorization`,
    replacing any the request had. Every other field is signed, with `host` (the
    URL's authority, as the HTTP layer sends it), except `UNSIGNED_FIELDS`.
    """
    request_time = amz_date(now)
    body_hash = payload_hash(request.body)
    kept = [
        (name, value) for name, value in request.headers.multi_items() if name not in SIGNING_FIELDS
    ]
    added = [("x-amz-date", request_time), ("x-amz-content-sha256", body_hash)]
    if credentials.session_token is not None:
        added.append(("x-amz-security-token", credentials.session_token))
    signed = [(name, value) for name, value in kept if name not in UNSIGNED_FIELDS]
    if not any(name == "host" for name, _ in signed):
        signed.append(("host", request.url.authority))
    path, _, query = request.url.target.partition("?")
    key = None
    if keys is not None:
        entry = (credentials.secret_access_key, request_time[:8], region, service)
        key = keys.get(entry)
        if key is None:
            keys.clear()
            key = keys[entry] = signing_key(*entry)
    value = authorization(
        request.method,
        path,
        query,
        [*signed, *added],
        body_hash,
        credentials=credentials,
        region=region,
        service=service,
        request_time=request_time,
        key=key,
    )
    headers = type(request.headers)([*kept, *added, ("authorization", value)])
    return Request(request.method, request.url, headers, request.body, request.content_length)
