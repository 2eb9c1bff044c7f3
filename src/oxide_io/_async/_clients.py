"""`AsyncClient`: the async entry point (asyncio and trio), with the official SDK's options.

Resources (generated, one module per top-level resource) are created and their
modules imported on first access, so a client is cheap to build; the connection
pool (and its TLS context, built on the first https connection) is
shared by every client derived with `with_options()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oxide_proto import PoolLimits
from oxide_proto._record import replace

from .._logging import setup_logging
from .._options import NOT_GIVEN, ClientOptions, NotGiven, resolve_options
from .._timeout import Timeout, to_timeout
from .._tls import VerifyTypes
from ._transport import AsyncTransport
from .resources import AsyncResources

__all__ = ["AsyncClient"]


class AsyncClient(AsyncResources):
    """The OpenAI API from async code, on asyncio or trio.

    Arguments not given come from the environment, as in the official SDK:
    `api_key` from OPENAI_API_KEY, `organization` from OPENAI_ORG_ID, `project`
    from OPENAI_PROJECT_ID, `base_url` from OPENAI_BASE_URL. A missing key raises
    `OpenAIError` here, not at the first request.

    `http2=True` (the default) uses HTTP/2 when a TLS server offers it through
    ALPN; `h2c=True` speaks HTTP/2 with prior knowledge to a plain-http server.
    `verify` is True (certifi's roots), False, a CA bundle path or an SSLContext.
    `webhook_secret` (default OPENAI_WEBHOOK_SECRET) checks `client.webhooks.unwrap()`.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        base_url: str | None = None,
        websocket_base_url: str | None = None,
        timeout: float | Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        http2: bool = True,
        h2c: bool = False,
        verify: VerifyTypes = True,
        max_connections: int = 1000,
        max_keepalive_connections: int = 100,
        keepalive_expiry: float = 5.0,
        webhook_secret: str | None = None,
        _transport: AsyncTransport | None = None,
        _options: ClientOptions | None = None,
    ) -> None:
        setup_logging()
        if _options is None:
            _options = resolve_options(
                api_key=api_key,
                organization=organization,
                project=project,
                base_url=base_url,
                websocket_base_url=websocket_base_url,
                timeout=timeout,
                max_retries=max_retries,
                default_headers=default_headers,
                default_query=default_query,
                http2=http2,
                verify=verify,
                max_connections=max_connections,
                max_keepalive_connections=max_keepalive_connections,
                keepalive_expiry=keepalive_expiry,
                webhook_secret=webhook_secret,
            )
        if _transport is None:
            _transport = AsyncTransport(
                verify=_options.verify,
                http2=_options.http2,
                h2c=h2c,
                limits=PoolLimits(
                    max_connections=_options.max_connections,
                    max_keepalive_connections=_options.max_keepalive_connections,
                    keepalive_expiry=_options.keepalive_expiry,
                ),
            )
        super().__init__(_options, _transport)

    # The official SDK's option names, readable on the client.
    @property
    def api_key(self) -> str:
        return self._options.api_key

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
    def timeout(self) -> Timeout:
        return self._options.timeout

    @property
    def max_retries(self) -> int:
        return self._options.max_retries

    def with_options(self, **changes: Any) -> AsyncClient:
        """A client with some options changed that shares this one's connection pool.

        Accepts the constructor's option names (`api_key`, `organization`,
        `project`, `base_url`, `websocket_base_url`, `timeout`, `max_retries`,
        `default_headers`, `default_query`, `webhook_secret`).
        """
        allowed = {
            "api_key",
            "organization",
            "project",
            "base_url",
            "websocket_base_url",
            "timeout",
            "max_retries",
            "default_headers",
            "default_query",
            "webhook_secret",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"with_options() got unexpected options: {sorted(unknown)}")
        if "timeout" in changes:
            changes["timeout"] = to_timeout(changes["timeout"])
        for name in ("default_headers", "default_query"):
            if changes.get(name) is not None:
                changes[name] = {**getattr(self._options, name), **changes[name]}
        return type(self)(_options=replace(self._options, **changes), _transport=self._transport)

    copy = with_options

    async def aclose(self) -> None:
        """Closes every pooled connection (shared with clients from `with_options`)."""
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={self.base_url!r}>"
