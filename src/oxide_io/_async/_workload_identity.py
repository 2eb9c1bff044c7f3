"""Workload identity on the client: fetch the access token, cache it, refresh it.

The decisions (the exchange request, reading the answer, when to refresh) are
the core's (`oxide_proto.api._workload_identity`); this driver calls the subject
token provider, sends the exchange over the client's own transport (its proxies,
CA bundle and pool) and keeps one token for every request of the client and of
the clients derived from it. Tasks (or threads) that find no usable token wait
for one exchange rather than each starting their own.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from oxide_proto.api._workload_identity import (
    IssuedToken,
    TokenCache,
    WorkloadIdentityConfig,
    exchange_request,
    parse_exchange_response,
    workload_identity_config,
)

from .._errors_map import TRANSPORT_ERRORS, to_api_error
from .._timeout import Timeout
from ._transport import AsyncTransport

__all__ = ["AsyncWorkloadIdentityAuth"]

# The exchange is one small request: it gets 10 s in all, as in the official SDK.
_EXCHANGE_TIMEOUT = 10.0


class AsyncWorkloadIdentityAuth:
    """`await auth.get_token()`: an access token for `workload_identity`, exchanged when
    there is none or it is due for refresh; `invalidate_token(token)` drops it (after
    the API refused it with a 401)."""

    def __init__(
        self,
        *,
        workload_identity: Mapping[str, Any],
        token_exchange_url: str | None = None,
        transport: AsyncTransport | None = None,
    ) -> None:
        if token_exchange_url is not None:
            workload_identity = {**workload_identity, "token_exchange_url": token_exchange_url}
        self.config: WorkloadIdentityConfig = workload_identity_config(workload_identity)
        self.workload_identity = workload_identity
        self.token_exchange_url = self.config.token_exchange_url
        self._transport = transport if transport is not None else AsyncTransport()
        self._cache = TokenCache(self.config.refresh_buffer_seconds)
        self._lock = self._transport.backend.lock()

    async def get_token(self) -> str:
        token = self._cache.current(time.monotonic())
        if token is not None:
            return token
        async with self._lock:
            # Another task may have refreshed it while this one waited.
            token = self._cache.current(time.monotonic())
            if token is not None:
                return token
            issued = await self._exchange()
            self._cache.store(issued, time.monotonic())
            return issued.access_token

    def invalidate_token(self, token: str | None = None) -> None:
        self._cache.invalidate(token)

    async def _exchange(self) -> IssuedToken:
        subject: object = self.config.get_token()
        if hasattr(subject, "__await__"):
            subject = await subject
        request = exchange_request(self.config, subject)
        limits = Timeout(_EXCHANGE_TIMEOUT)
        try:
            response = await self._transport.send(
                request, limits, time.monotonic() + _EXCHANGE_TIMEOUT
            )
            body = await response.aread()
        except TRANSPORT_ERRORS as exc:
            raise to_api_error(exc, request) from exc
        return parse_exchange_response(response.info, body)
