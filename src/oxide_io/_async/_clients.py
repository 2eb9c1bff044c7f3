"""`AsyncClient` and `AsyncAzureClient`: the async entry points (asyncio and trio).

Resources (generated, one module per top-level resource) are created and their
modules imported on first access, so a client is cheap to build; the connection
pool (and its TLS context, built on the first https connection) is
shared by every client derived with `with_options()`.

A client pickles as its options and its transport's settings, never its
connections: the unpickled client (in another process, say) starts with an empty
pool of its own. A callable credential is pickled with it, so it must be
picklable itself (a module-level function, not a lambda).

The options are the official SDK's, with its environment variables; the Azure
client's decisions (URLs, deployments, which header authenticates) live in
`oxide_proto.api._azure`, and this module only gathers the arguments.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from oxide_proto import HeaderTable, OpenAIError, PoolLimits
from oxide_proto.base import replace

from .._logging import setup_logging
from .._options import (
    NOT_GIVEN,
    ApiKeyProvider,
    ClientOptions,
    NotGiven,
    TokenProvider,
    header_layer,
    resolve_options,
)
from .._timeout import Timeout, TimeoutTypes, to_timeout
from .._tls import verify_from_env
from ._transport import AsyncTransport
from .resources import AsyncResources

# Annotations only. Azure and workload identities load with the first client that
# uses them (`import oxide_io` and a client with a key leave them out); the TLS and
# proxy aliases are built only when asked for (see `_tls`).
if TYPE_CHECKING:
    from oxide_proto.api._azure import AzureConfig
    from oxide_proto.api._data_residency import DataResidency

    from .._proxies import ProxyTypes
    from .._tls import CertTypes, VerifyTypes
    from ._workload_identity import AsyncWorkloadIdentityAuth

__all__ = ["AsyncAzureClient", "AsyncClient"]

_API_BASE_URL = "https://api.openai.com/v1"


def _transport_from(http_client: object) -> AsyncTransport | None:
    """The transport `http_client=` names; a `TypeError` for an httpx client."""
    if http_client is None or isinstance(http_client, AsyncTransport):
        return http_client
    raise TypeError(
        f"http_client={type(http_client).__module__}.{type(http_client).__name__}: oxide "
        "has its own HTTP stack and cannot drive an httpx client. Use the client's "
        "options instead: verify= (True, False, a CA bundle path or an ssl.SSLContext), "
        "http2=, h2c=, max_connections=, max_keepalive_connections=, keepalive_expiry= "
        "and timeout=; or pass an oxide_io.AsyncTransport(...) to share a connection pool."
    )


def _identity_auth(options: ClientOptions) -> AsyncWorkloadIdentityAuth | None:
    auth = getattr(options.api_key_provider, "__self__", None)
    if auth is None:
        return None
    from ._workload_identity import AsyncWorkloadIdentityAuth

    return auth if isinstance(auth, AsyncWorkloadIdentityAuth) else None


def _with_identity(
    options: ClientOptions, identity: Mapping[str, Any], transport: AsyncTransport
) -> ClientOptions:
    """`options` authenticating with `identity`: its token, exchanged over `transport`
    (whose TLS context holds the client certificate of an X.509 identity), is the key."""
    from oxide_proto.api._workload_identity import (
        PLACEHOLDER_API_KEY,
        check_x509_api_url,
        check_x509_request_headers,
    )

    from ._workload_identity import AsyncWorkloadIdentityAuth

    auth = AsyncWorkloadIdentityAuth(
        workload_identity=identity, transport=transport, max_retries=options.max_retries
    )
    x509 = auth.config.x509
    if x509:
        check_x509_api_url(options.base_url)
        check_x509_request_headers(options.default_headers)
    return replace(
        options,
        api_key=PLACEHOLDER_API_KEY,
        api_key_provider=auth.get_token,
        follow_redirects=not x509,
        x509_identity=x509,
    )


def _derived_residency(
    options: ClientOptions,
    data_residency: object | None,
    *,
    base_url: str | NotGiven | None,
    websocket_base_url: str | None,
    x509_before: bool,
    x509_after: bool,
) -> tuple[str | None, str | None]:
    """The base URL and region of a client derived with `with_options()`: (None, region)
    keeps the inherited base URL.

    A region given names the base URL (of the new kind of identity); a base URL
    given leaves the region; a client whose identity changes kind (X.509 or not)
    moves to the other endpoint of its region, as in the official SDK. Beside a
    region, `base_url=None` counts as given (the official SDK's `ValueError`);
    without one it keeps the inherited base URL.
    """
    from oxide_proto.api._data_residency import data_residency_base_url

    if data_residency is not None:
        if options.azure is not None:
            raise OpenAIError("`data_residency` is only supported by OpenAI clients")
        url = data_residency_base_url(
            data_residency,
            x509=x509_after,
            base_url_given=not isinstance(base_url, NotGiven),
            websocket_base_url_given=websocket_base_url is not None,
        )
        return url, str(data_residency)
    if isinstance(base_url, str):
        return base_url, None
    region = options.data_residency
    if region is not None and x509_before != x509_after:
        url = data_residency_base_url(
            region, x509=x509_after, websocket_base_url_given=websocket_base_url is not None
        )
        return url, region
    return None, region


class AsyncClient(AsyncResources):
    """The OpenAI API from async code, on asyncio or trio.

    Arguments not given come from the environment, as in the official SDK:
    `api_key` from OPENAI_API_KEY, `organization` from OPENAI_ORG_ID, `project`
    from OPENAI_PROJECT_ID, `base_url` from OPENAI_BASE_URL. A missing key raises
    `OpenAIError` here, not at the first request. `api_key` may also be a function
    returning the key (a coroutine function, or a plain one): it is called before
    every attempt of every request, so a rotating key is picked up.

    `http2=True` (the default) uses HTTP/2 when a TLS server offers it through
    ALPN; `h2c=True` speaks HTTP/2 with prior knowledge to a plain-http server.
    `verify` is True (certifi's roots), False, a CA bundle path, an SSLContext or
    "system" (the OS trust store, with the `truststore` extra). `cert` is a client
    certificate for mutual TLS: a PEM file with certificate and key, or
    `(certfile, keyfile)`, or `(certfile, keyfile, password)`, loaded here (a
    missing or wrong one raises `ClientCertificateError`). `proxy` is a proxy
    URL (`http://user:pass@host:port`, `socks5://` or `socks5h://` with the `socks`
    extra) or a mapping of URL patterns to proxy URLs;
    without it, `trust_env=True` (the default) reads HTTP_PROXY, HTTPS_PROXY,
    ALL_PROXY, NO_PROXY and SSL_CERT_FILE / SSL_CERT_DIR once, here.
    `webhook_secret` (default OPENAI_WEBHOOK_SECRET) checks `client.webhooks.unwrap()`.
    `admin_api_key` (default OPENAI_ADMIN_KEY) is the key sent to the organization
    administration endpoints (`client.admin`), as in the official SDK; without one
    they get `api_key`. `http_client` takes an `AsyncTransport` (an httpx client
    raises `TypeError`). `workload_identity` authenticates with a token exchanged
    for the workload's own identity instead of a key (see `oxide_io.compat.auth`);
    an X.509 identity's client certificate is the one in `verify=` or `cert=`.
    `provider` (`oxide_io.providers.bedrock()` or `vertex()`) sends every request to a
    cloud provider, which decides the base URL and authenticates each attempt
    (a bearer token or an AWS signature) in place of an OpenAI key; it cannot be
    combined with `api_key`, `admin_api_key`, `workload_identity` or `base_url`.
    `data_residency` ("global", "us", "eu", "ae", "au", "in" or "jp") sends
    everything to that region's API host (its mTLS host for an X.509 identity,
    in "global", "us" or "eu"); it excludes `base_url` and `websocket_base_url`.
    `_strict_response_validation=True` makes an answer that does not fit its model
    (a required field missing, a value of the wrong type) raise
    `APIResponseValidationError`.
    """

    def __init__(
        self,
        *,
        api_key: str | ApiKeyProvider | None = None,
        admin_api_key: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        base_url: str | NotGiven | None = NOT_GIVEN,
        websocket_base_url: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        http_client: AsyncTransport | None = None,
        http2: bool = True,
        h2c: bool = False,
        verify: VerifyTypes = True,
        proxy: ProxyTypes | None = None,
        trust_env: bool = True,
        cert: CertTypes | None = None,
        max_connections: int = 1000,
        max_keepalive_connections: int = 100,
        keepalive_expiry: float = 5.0,
        webhook_secret: str | None = None,
        workload_identity: Mapping[str, Any] | None = None,
        provider: object | None = None,
        data_residency: DataResidency | None = None,
        _strict_response_validation: bool = False,
        _enforce_credentials: bool = True,
        _transport: AsyncTransport | None = None,
        _options: ClientOptions | None = None,
    ) -> None:
        setup_logging()
        _transport = _transport or _transport_from(http_client)
        # `base_url=None` is the default URL (OPENAI_BASE_URL, else the API's), but
        # beside `data_residency` it counts as given, as in the official SDK.
        base_url_given = not isinstance(base_url, NotGiven)
        if isinstance(base_url, NotGiven):
            base_url = None
        if data_residency is not None and _options is None:
            from oxide_proto.api._data_residency import data_residency_base_url
            from oxide_proto.api._workload_identity import is_x509_identity

            # Before the identity's default: a region names the host of either kind.
            base_url = data_residency_base_url(
                data_residency,
                x509=is_x509_identity(workload_identity),
                base_url_given=base_url_given,
                websocket_base_url_given=websocket_base_url is not None,
                provider_given=provider is not None,
            )
        if provider is not None and _options is None:
            from ._provider_auth import check_provider_conflicts

            check_provider_conflicts(
                getattr(provider, "name", "the provider"),
                api_key=api_key,
                admin_api_key=admin_api_key,
                workload_identity=workload_identity,
                base_url=base_url,
            )
            # The provider's base URL; its credentials are not OpenAI's.
            base_url = "https://provider.invalid"
            _enforce_credentials = False
        if workload_identity is not None:
            from oxide_proto.api._workload_identity import (
                MTLS_API_BASE_URL,
                PLACEHOLDER_API_KEY,
                is_x509_identity,
                workload_identity_config,
            )

            if api_key is not None:
                raise OpenAIError("api_key and workload_identity cannot be given together")
            # Checked now, so a wrong option fails here rather than at the first request.
            workload_identity_config(workload_identity)
            api_key = PLACEHOLDER_API_KEY
            if (
                is_x509_identity(workload_identity)
                and base_url is None
                and not os.environ.get("OPENAI_BASE_URL")
            ):
                # The API asks for the client certificate on its mTLS host.
                base_url = MTLS_API_BASE_URL
        if _options is None:
            _options = resolve_options(
                api_key=api_key,
                organization=organization,
                project=project,
                base_url=str(base_url) if base_url is not None else None,
                websocket_base_url=str(websocket_base_url) if websocket_base_url else None,
                timeout=timeout,
                max_retries=max_retries,
                default_headers=default_headers,
                default_query=default_query,
                http2=http2,
                verify=verify_from_env(verify, os.environ if trust_env else None),
                max_connections=max_connections,
                max_keepalive_connections=max_keepalive_connections,
                keepalive_expiry=keepalive_expiry,
                webhook_secret=webhook_secret,
                strict_response_validation=_strict_response_validation,
                enforce_credentials=_enforce_credentials,
                admin_api_key=admin_api_key,
            )
            if data_residency is not None:
                _options = replace(_options, data_residency=data_residency)
        if _transport is None:
            _transport = AsyncTransport(
                verify=_options.verify,
                http2=_options.http2,
                h2c=h2c,
                proxy=proxy,
                trust_env=trust_env,
                cert=cert,
                limits=PoolLimits(
                    max_connections=_options.max_connections,
                    max_keepalive_connections=_options.max_keepalive_connections,
                    keepalive_expiry=_options.keepalive_expiry,
                ),
            )
        if workload_identity is not None:
            _options = _with_identity(_options, workload_identity, _transport)
        if provider is not None:
            # The organization and project of OPENAI_ORG_ID / OPENAI_PROJECT_ID name an
            # OpenAI account, not the provider's: only the arguments count.
            from ._provider_auth import provider_options

            _options = provider_options(
                replace(_options, organization=organization, project=project), provider
            )
        super().__init__(_options, _transport)

    # The official SDK's option names, readable on the client.
    @property
    def api_key(self) -> str:
        return self._options.api_key

    @api_key.setter
    def api_key(self, value: str) -> None:
        # `client.api_key = ...`, as the official SDK allows: the key a
        # `with_options(api_key=...)` client would have, from the next request on.
        if not isinstance(value, str):
            raise TypeError(f"api_key must be a str, not {type(value).__name__}")
        self._options = self.with_options(api_key=value, _enforce_credentials=False)._options
        self._settings = None
        # A new table, not a cleared one: a shallow copy of this client shares the
        # old one, and the old key's headers go with it.
        self._header_table = HeaderTable()

    @property
    def admin_api_key(self) -> str | None:
        return self._options.admin_api_key

    @property
    def organization(self) -> str | None:
        return self._options.organization

    @property
    def project(self) -> str | None:
        return self._options.project

    @property
    def base_url(self) -> str:
        return self._options.base_url

    @property
    def websocket_base_url(self) -> str | None:
        return self._options.websocket_base_url

    @property
    def webhook_secret(self) -> str | None:
        return self._options.webhook_secret

    @property
    def workload_identity(self) -> Mapping[str, Any] | None:
        """The `workload_identity=` this client authenticates with, or None."""
        auth = _identity_auth(self._options)
        return None if auth is None else auth.workload_identity

    @property
    def timeout(self) -> Timeout:
        return self._options.timeout

    @property
    def max_retries(self) -> int:
        return self._options.max_retries

    @property
    def default_headers(self) -> Mapping[str, str]:
        return self._options.default_headers

    @property
    def default_query(self) -> Mapping[str, object]:
        return self._options.default_query

    def with_options(
        self,
        *,
        api_key: str | ApiKeyProvider | None = None,
        organization: str | None = None,
        project: str | None = None,
        webhook_secret: str | None = None,
        websocket_base_url: str | None = None,
        base_url: str | NotGiven | None = NOT_GIVEN,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        http_client: AsyncTransport | None = None,
        proxy: ProxyTypes | None = None,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | None = None,
        set_default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        set_default_query: Mapping[str, object] | None = None,
        admin_api_key: str | None = None,
        workload_identity: object | None = None,
        provider: object | NotGiven = NOT_GIVEN,
        data_residency: DataResidency | None = None,
        _enforce_credentials: bool | None = None,
        _extra_kwargs: Mapping[str, Any] | None = None,
    ) -> AsyncClient:
        """A client with some options changed that shares this one's connection pool
        (unless `http_client` gives another transport, or `proxy` asks for a pool
        of its own, with this client's other connection settings).

        Takes the official SDK's `copy()` arguments. An option left at None keeps
        this client's value; `default_headers`/`default_query` are merged into this
        client's, `set_default_headers`/`set_default_query` replace them.
        `timeout=None` means no limit, as in the constructor. `workload_identity`
        gives the new client another identity (`api_key` alone: none).
        """
        if not isinstance(provider, NotGiven) or self._options.provider is not None:
            swapped = self._with_provider(
                provider,
                api_key=api_key,
                admin_api_key=admin_api_key,
                workload_identity=workload_identity,
                base_url=base_url,
                organization=organization,
                project=project,
                webhook_secret=webhook_secret,
                websocket_base_url=websocket_base_url,
                timeout=timeout,
                http_client=http_client,
                proxy=proxy,
                max_retries=max_retries,
                default_headers=default_headers,
                set_default_headers=set_default_headers,
                default_query=default_query,
                set_default_query=set_default_query,
                _extra_kwargs=_extra_kwargs,
            )
            if swapped is not None:
                return swapped
        if default_headers is not None and set_default_headers is not None:
            raise ValueError("pass `default_headers` or `set_default_headers`, not both")
        if default_query is not None and set_default_query is not None:
            raise ValueError("pass `default_query` or `set_default_query`, not both")
        current = self._options
        changes: dict[str, Any] = {}
        if organization is not None:
            changes["organization"] = organization
        if project is not None:
            changes["project"] = project
        if webhook_secret is not None:
            changes["webhook_secret"] = webhook_secret
        if admin_api_key is not None:
            changes["admin_api_key"] = admin_api_key
        if websocket_base_url is not None:
            changes["websocket_base_url"] = str(websocket_base_url)
        if not isinstance(timeout, NotGiven):
            changes["timeout"] = to_timeout(timeout)
        if not isinstance(max_retries, NotGiven):
            if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
                raise ValueError(f"max_retries must be an int, 0 or more, not {max_retries!r}")
            changes["max_retries"] = max_retries
        if default_headers is not None:
            changes["default_headers"] = {
                **current.default_headers,
                **header_layer(default_headers),
            }
        elif set_default_headers is not None:
            changes["default_headers"] = dict(header_layer(set_default_headers))
        if default_query is not None:
            changes["default_query"] = {**current.default_query, **default_query}
        elif set_default_query is not None:
            changes["default_query"] = dict(set_default_query)
        extra = dict(_extra_kwargs or {})
        from oxide_proto.api._workload_identity import is_x509_identity

        x509_before = is_x509_identity(self.workload_identity)
        if workload_identity is not None:
            x509_after = is_x509_identity(workload_identity)
        else:
            x509_after = x509_before and api_key is None  # a key alone drops the identity
        base_url, changes["data_residency"] = _derived_residency(
            current,
            data_residency,
            base_url=base_url,
            websocket_base_url=websocket_base_url,
            x509_before=x509_before,
            x509_after=x509_after,
        )
        if data_residency is not None:
            changes["websocket_base_url"] = None  # derived from the regional base URL
        self._derive_auth(changes, api_key=api_key, base_url=base_url, extra=extra)
        if extra:
            raise TypeError(f"with_options() got unexpected options: {sorted(extra)}")
        transport = _transport_from(http_client) or self._transport
        if proxy is not None:
            transport = transport.with_proxy(proxy)
        options = replace(current, **changes)
        options = self._derive_identity(
            options,
            workload_identity,
            api_key=api_key,
            base_url=base_url,
            transport=transport,
        )
        enforce = True if _enforce_credentials is None else _enforce_credentials
        if (
            enforce
            and options.azure is None
            and options.provider is None
            and not options.api_key
            and not options.api_key_provider
            and not options.admin_api_key
        ):
            raise OpenAIError("the api_key client option must be set")
        derived = type(self)(_options=options, _transport=transport)
        if _same_secrets(current, options):
            # Its headers would hold the same keys: it shares this client's table, so
            # a client derived per call (`client.with_options(timeout=...)`) builds
            # no headers. Another key or default headers: a table of its own.
            derived._header_table = self._header_table
        return derived

    copy = with_options

    def _with_provider(self, provider: object | NotGiven, **given: Any) -> AsyncClient | None:
        """`with_options()` of a client whose provider is kept, changed or dropped
        (`provider=None`). None: the provider is kept, and the ordinary derivation
        goes on. As in the official SDK, a new or dropped provider does not inherit
        the organization, project or default headers, and a kept one refuses
        `api_key`, `admin_api_key`, `workload_identity` and `base_url`.
        """
        from ._provider_auth import check_provider_conflicts

        current = self._options.provider
        if isinstance(provider, NotGiven) or (provider is current and provider is not None):
            base_url = given["base_url"]
            check_provider_conflicts(
                current.name,
                api_key=given["api_key"],
                admin_api_key=given["admin_api_key"],
                workload_identity=given["workload_identity"],
                base_url=None if isinstance(base_url, NotGiven) else base_url,
            )
            return None
        if provider is None and current is None:
            return None
        replaced_headers = given.pop("set_default_headers")
        merged_headers = given.pop("default_headers")
        headers = dict(replaced_headers if replaced_headers is not None else merged_headers or {})
        replaced_query = given.pop("set_default_query")
        merged_query = given.pop("default_query")
        query = (
            {**self.default_query, **(merged_query or {})}
            if replaced_query is None
            else dict(replaced_query)
        )
        extra = given.pop("_extra_kwargs")
        if extra:
            raise TypeError(f"with_options() got unexpected options: {sorted(extra)}")
        timeout = given.pop("timeout")
        max_retries = given.pop("max_retries")
        transport = _transport_from(given.pop("http_client")) or self._transport
        proxy = given.pop("proxy")
        if proxy is not None:
            transport = transport.with_proxy(proxy)
        base_url = given.pop("base_url")
        webhook_secret = given.pop("webhook_secret")
        options = self._options
        return type(self)(
            **given,
            provider=provider,
            base_url=None if isinstance(base_url, NotGiven) else base_url,
            webhook_secret=webhook_secret or options.webhook_secret,
            timeout=options.timeout if isinstance(timeout, NotGiven) else timeout,
            max_retries=options.max_retries if isinstance(max_retries, NotGiven) else max_retries,
            default_headers=headers,
            default_query=query,
            http2=options.http2,
            verify=options.verify,
            max_connections=options.max_connections,
            max_keepalive_connections=options.max_keepalive_connections,
            keepalive_expiry=options.keepalive_expiry,
            _strict_response_validation=options.strict_response_validation,
            _transport=transport,
        )

    def _derive_identity(
        self,
        options: ClientOptions,
        identity: object | None,
        *,
        api_key: object | None,
        base_url: str | None,
        transport: AsyncTransport,
    ) -> ClientOptions:
        """The options of a derived client with `workload_identity=identity` (or, with
        only `api_key` given, without this client's identity).

        A new identity gets its own token cache; none given keeps this client's (the
        derived client shares its token). A base URL that was the default of the
        old kind of identity becomes the default of the new one, as in the
        official SDK (the mTLS host for an X.509 identity).
        """
        before = self.workload_identity
        if identity is None and before is None:
            return options
        from oxide_proto.api._workload_identity import (
            MTLS_API_BASE_URL,
            check_x509_api_url,
            check_x509_request_headers,
            is_x509_identity,
        )

        if identity is None:
            if before is None or api_key is None:
                if is_x509_identity(before):
                    check_x509_api_url(options.base_url)
                    check_x509_request_headers(options.default_headers)
                return options
            after: Mapping[str, Any] | None = None  # a key given alone replaces the identity
        else:
            if api_key is not None:
                raise OpenAIError("api_key and workload_identity cannot be given together")
            if options.azure is not None:
                raise TypeError("an Azure client takes no workload_identity")
            if not isinstance(identity, Mapping):
                raise TypeError(
                    f"workload_identity must be a mapping, not {type(identity).__name__}"
                )
            after = identity
        if base_url is None and is_x509_identity(before) != is_x509_identity(after):
            defaults = {True: MTLS_API_BASE_URL, False: _API_BASE_URL}
            if options.base_url.rstrip("/") == defaults[is_x509_identity(before)]:
                options = replace(options, base_url=defaults[is_x509_identity(after)])
        if after is None:
            return replace(options, follow_redirects=True, x509_identity=False)
        return _with_identity(options, after, transport)

    def _derive_auth(
        self,
        changes: dict[str, Any],
        *,
        api_key: str | ApiKeyProvider | None,
        base_url: str | None,
        extra: dict[str, Any],
    ) -> None:
        # The key and base URL of a derived client (Azure resolves them its own way).
        if base_url is not None:
            changes["base_url"] = str(base_url)
        if api_key is not None:
            if callable(api_key):
                changes["api_key"], changes["api_key_provider"] = "", api_key
            else:
                changes["api_key"], changes["api_key_provider"] = api_key, None

    async def close(self) -> None:
        """Closes every pooled connection (shared with clients from `with_options`)."""
        self._header_table.clear()
        await self._transport.aclose()

    # The async name `async with` and earlier code use; the blocking client has `close()`.
    # unasync: pass
    aclose = close

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={self.base_url!r}>"

    def __reduce__(self) -> tuple[Any, ...]:
        import pickle  # loaded by the first pickling, not with the client

        options = self._options
        for name, value in (
            ("api_key", options.api_key_provider),
            ("azure_ad_token_provider", options.azure_ad_token_provider),
            ("verify", options.verify),
        ):
            if value is None or isinstance(value, (bool, str)):
                continue
            try:
                pickle.dumps(value)
            except Exception as exc:
                raise pickle.PicklingError(
                    f"cannot pickle {type(self).__name__}: its `{name}` option ({value!r}) "
                    f"cannot be pickled ({exc}); give a picklable value (a module-level "
                    "function rather than a lambda or closure, a CA bundle path rather "
                    "than an ssl.SSLContext)"
                ) from exc
        return (_rebuild, (type(self), options, self._transport))

    def __copy__(self) -> AsyncClient:
        # A shallow copy shares the pool (pickling, through `__reduce__`, does not).
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone


# The options whose values go into request headers and may be secret.
_SECRET_OPTIONS = (
    "api_key",
    "admin_api_key",
    "api_key_provider",
    "azure",
    "azure_ad_token_provider",
    "provider",
    "provider_auth",
    "default_headers",
)


def _same_secrets(before: ClientOptions, after: ClientOptions) -> bool:
    return all(getattr(before, name) == getattr(after, name) for name in _SECRET_OPTIONS)


def _rebuild(cls: type[AsyncClient], options: ClientOptions, transport: AsyncTransport) -> Any:
    """An unpickled client: its options, and the transport rebuilt from its settings."""
    return cls(_options=options, _transport=transport)


class AsyncAzureClient(AsyncClient):
    """Azure OpenAI from async code (the official SDK's `AsyncAzureOpenAI`).

    Give `azure_endpoint` (default AZURE_OPENAI_ENDPOINT), optionally with
    `azure_deployment`, or a full `base_url`; `api_version` (default
    OPENAI_API_VERSION) is sent as the `api-version` query parameter of every
    request. Authenticate with one of `api_key` (sent as the `api-key` header; a
    function returning it is called per attempt), `azure_ad_token` or
    `azure_ad_token_provider` (a function or coroutine function returning an Entra
    ID token, called before every attempt of every request and for every WebSocket
    connection; sent as `Authorization: Bearer`). With none of them, the
    environment's AZURE_OPENAI_AD_TOKEN or else AZURE_OPENAI_API_KEY is used.

    Model calls (`chat.completions`, `embeddings`, `images`, `audio`, ...) go to
    `/deployments/{model}` unless the client has a deployment in its URL; with
    `azure_deployment`, the other operations go to `{azure_endpoint}/openai`.
    """

    def __init__(
        self,
        *,
        azure_endpoint: str | None = None,
        azure_deployment: str | None = None,
        api_version: str | None = None,
        api_key: str | ApiKeyProvider | None = None,
        azure_ad_token: str | None = None,
        azure_ad_token_provider: TokenProvider | None = None,
        organization: str | None = None,
        project: str | None = None,
        webhook_secret: str | None = None,
        base_url: str | None = None,
        websocket_base_url: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        http_client: AsyncTransport | None = None,
        http2: bool = True,
        h2c: bool = False,
        verify: VerifyTypes = True,
        proxy: ProxyTypes | None = None,
        trust_env: bool = True,
        cert: CertTypes | None = None,
        max_connections: int = 1000,
        max_keepalive_connections: int = 100,
        keepalive_expiry: float = 5.0,
        _strict_response_validation: bool = False,
        _enforce_credentials: bool = True,
        _transport: AsyncTransport | None = None,
        _options: ClientOptions | None = None,
    ) -> None:
        if _options is None:
            from oxide_proto.api._azure import resolve_azure

            config = resolve_azure(
                env=os.environ,
                api_version=api_version,
                azure_endpoint=azure_endpoint,
                azure_deployment=azure_deployment,
                base_url=base_url,
                api_key=None if callable(api_key) else api_key,
                has_key_provider=callable(api_key),
                azure_ad_token=azure_ad_token,
                has_token_provider=azure_ad_token_provider is not None,
                require_credentials=_enforce_credentials,
            )
            _options = resolve_options(
                api_key=api_key,
                organization=organization,
                project=project,
                base_url=config.base_url,
                websocket_base_url=str(websocket_base_url) if websocket_base_url else None,
                timeout=timeout,
                max_retries=max_retries,
                default_headers=default_headers,
                default_query={**(default_query or {}), "api-version": config.api_version},
                http2=http2,
                verify=verify_from_env(verify, os.environ if trust_env else None),
                max_connections=max_connections,
                max_keepalive_connections=max_keepalive_connections,
                keepalive_expiry=keepalive_expiry,
                webhook_secret=webhook_secret,
                strict_response_validation=_strict_response_validation,
                azure=config,
                azure_ad_token_provider=azure_ad_token_provider,
            )
        super().__init__(
            http_client=http_client,
            h2c=h2c,
            proxy=proxy,
            trust_env=trust_env,
            cert=cert,
            _transport=_transport,
            _options=_options,
        )

    @property
    def _azure(self) -> AzureConfig:
        azure = self._options.azure
        assert azure is not None
        return azure

    @property
    def api_version(self) -> str:
        return self._azure.api_version

    @property
    def azure_endpoint(self) -> str | None:
        return self._azure.endpoint

    @property
    def azure_deployment(self) -> str | None:
        return self._azure.deployment

    def with_options(
        self,
        *,
        api_version: str | None = None,
        azure_ad_token: str | None = None,
        azure_ad_token_provider: TokenProvider | None = None,
        **options: Any,
    ) -> AsyncAzureClient:
        """A client with some options changed, sharing this one's connection pool.

        Takes `AsyncClient.with_options()`'s arguments and the Azure ones. Giving
        any of `api_key`, `azure_ad_token` and `azure_ad_token_provider` replaces
        this client's credential (at most one of them); a new `base_url` drops the
        endpoint and deployment; `api_version` replaces the `api-version` parameter.
        """
        extra = dict(options.pop("_extra_kwargs", None) or {})
        extra.update(
            api_version=api_version,
            azure_ad_token=azure_ad_token,
            azure_ad_token_provider=azure_ad_token_provider,
        )
        derived = super().with_options(_extra_kwargs=extra, **options)
        assert isinstance(derived, AsyncAzureClient)
        return derived

    copy = with_options

    def _derive_auth(
        self,
        changes: dict[str, Any],
        *,
        api_key: str | ApiKeyProvider | None,
        base_url: str | None,
        extra: dict[str, Any],
    ) -> None:
        api_version = extra.pop("api_version", None)
        token = extra.pop("azure_ad_token", None)
        token_provider = extra.pop("azure_ad_token_provider", None)
        current = self._azure
        options = self._options
        key_provider = options.api_key_provider
        if api_key is None and token is None and token_provider is None:
            # No new credential: keep this client's.
            key: str | None = current.api_key
            token = current.ad_token
            token_provider = options.azure_ad_token_provider
        else:
            key, key_provider = (None, api_key) if callable(api_key) else (api_key, None)
        # A new base URL drops the endpoint and deployment; else they are kept.
        endpoint, deployment = current.endpoint, current.deployment
        if base_url is not None:
            endpoint = deployment = None
        elif endpoint is None:
            base_url = current.base_url
        from oxide_proto.api._azure import resolve_azure

        config = resolve_azure(
            env={},
            api_version=api_version or current.api_version,
            azure_endpoint=endpoint,
            azure_deployment=deployment,
            base_url=base_url,
            api_key=key,
            has_key_provider=key_provider is not None,
            azure_ad_token=token,
            has_token_provider=token_provider is not None,
            require_credentials=False,
        )
        changes.update(
            azure=config,
            base_url=config.base_url,
            api_key=config.api_key or "",
            api_key_provider=key_provider,
            azure_ad_token_provider=token_provider,
        )
        query = changes.get("default_query", options.default_query)
        changes["default_query"] = {**query, "api-version": config.api_version}
