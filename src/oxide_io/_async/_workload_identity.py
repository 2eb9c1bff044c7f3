"""Workload identity on the client: fetch the access token, cache it, refresh it.

The decisions (the exchange request, reading the answer, when to refresh) are
the core's (`oxide_proto.api._workload_identity`); this driver calls the subject
token provider, sends the exchange over the client's own transport (its proxies,
CA bundle and pool) and keeps one token for every request of the client and of
the clients derived from it. Tasks (or threads) that find no usable token wait
for one exchange rather than each starting their own.

An X.509 identity's exchange goes over the same transport, whose TLS context
holds the client certificate (`verify=` an SSLContext with the chain loaded, or
`cert=`): the certificate is the proof. Each of its phases gets the API
request's own limit, at most 10 s (a subject-token exchange always gets 10 s).
It is tried again after a passing failure (up to `max_retries`, at most 2), and
when a refresh still fails that way a token that has not expired yet stays in
use for another half second. The exchange carries only its own headers: none of
the client's (default headers, organization, project, an `Authorization`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from oxide_proto import APIConnectionError, OpenAIError
from oxide_proto.api._workload_identity import (
    EXCHANGE_TIMEOUT,
    MAX_X509_EXCHANGE_RETRIES,
    IssuedToken,
    TokenCache,
    WorkloadIdentityConfig,
    exchange_phase_timeout,
    exchange_request,
    parse_exchange_response,
    workload_identity_config,
    x509_exchange_retry_delay,
)
from oxide_proto.http._retry import INITIAL_RETRY_DELAY

from .._errors_map import TRANSPORT_ERRORS, to_api_error
from .._timeout import Timeout
from ._transport import AsyncTransport

__all__ = ["AsyncWorkloadIdentityAuth"]


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
        max_retries: int = MAX_X509_EXCHANGE_RETRIES,
    ) -> None:
        if token_exchange_url is not None:
            workload_identity = {**workload_identity, "token_exchange_url": token_exchange_url}
        self.config: WorkloadIdentityConfig = workload_identity_config(workload_identity)
        self.workload_identity = workload_identity
        self.token_exchange_url = self.config.token_exchange_url
        self._transport = transport if transport is not None else AsyncTransport()
        self._cache = TokenCache(self.config.refresh_buffer_seconds)
        self._lock = self._transport.backend.lock()
        self._exchange_retries = min(max(max_retries, 0), MAX_X509_EXCHANGE_RETRIES)

    async def get_token(self, timeout: Timeout | None = None, deadline: float | None = None) -> str:
        """The token, exchanged first if needed. `timeout` and `deadline` are those of
        the API request it is for: an X.509 exchange keeps within them (see
        `exchange_phase_timeout`), a subject-token exchange gets its own 10 s."""
        token = self._cache.current(time.monotonic())
        if token is not None:
            return token
        async with self._lock:
            # Another task may have refreshed it while this one waited.
            token = self._cache.current(time.monotonic())
            if token is not None:
                return token
            try:
                issued = await self._exchange(timeout, deadline)
            except (APIConnectionError, _PassingFailure) as exc:
                # A refresh that failed for a passing reason keeps a token that has
                # not expired for a little longer; without one, the failure stands.
                kept = self._cache.usable(time.monotonic())
                if kept is None:
                    raise exc.error if isinstance(exc, _PassingFailure) else exc from None
                self._cache.postpone_refresh(time.monotonic() + INITIAL_RETRY_DELAY)
                return kept
            self._cache.store(issued, time.monotonic())
            return issued.access_token

    def invalidate_token(self, token: str | None = None) -> None:
        self._cache.invalidate(token)

    def _limits(self, timeout: Timeout | None) -> Timeout:
        x509 = self.config.x509
        if timeout is None or not x509:
            return Timeout(EXCHANGE_TIMEOUT)
        return Timeout(
            connect=exchange_phase_timeout(timeout.connect, x509=x509),
            read=exchange_phase_timeout(timeout.read, x509=x509),
            write=exchange_phase_timeout(timeout.write, x509=x509),
            pool=exchange_phase_timeout(timeout.pool, x509=x509),
        )

    @staticmethod
    def _deadline(deadline: float | None) -> float:
        # Each attempt gets EXCHANGE_TIMEOUT in all, and never outlives the request.
        own = time.monotonic() + EXCHANGE_TIMEOUT
        return own if deadline is None else min(own, deadline)

    async def _exchange(self, timeout: Timeout | None, deadline: float | None) -> IssuedToken:
        if self.config.x509:
            return await self._exchange_x509(self._limits(timeout), deadline)
        assert self.config.get_token is not None  # a subject-token identity has one
        subject: object = self.config.get_token()
        if hasattr(subject, "__await__"):
            subject = await subject
        request = exchange_request(self.config, subject)
        try:
            response = await self._transport.send(
                request, self._limits(None), time.monotonic() + EXCHANGE_TIMEOUT
            )
            body = await response.aread()
        except TRANSPORT_ERRORS as exc:
            raise to_api_error(exc, request) from exc
        return parse_exchange_response(response.info, body)

    async def _exchange_x509(self, limits: Timeout, deadline: float | None) -> IssuedToken:
        attempt = 0
        while True:
            request = exchange_request(self.config, None)
            try:
                response = await self._transport.send(request, limits, self._deadline(deadline))
                body = await response.aread()
            except TRANSPORT_ERRORS as exc:
                if attempt >= self._exchange_retries:
                    raise to_api_error(exc, request) from exc
                delay: float | None = x509_exchange_retry_delay(None, attempt, now=time.time())
            else:
                info = response.info
                delay = x509_exchange_retry_delay(info, attempt, now=time.time())
                if delay is None or attempt >= self._exchange_retries:
                    try:
                        return parse_exchange_response(info, body, x509=True)
                    except OpenAIError as exc:
                        if x509_exchange_retry_delay(info, 0, now=time.time()) is not None:
                            raise _PassingFailure(exc) from exc
                        raise
            assert delay is not None
            await self._transport.backend.sleep(delay)
            attempt += 1


class _PassingFailure(Exception):
    """An exchange answer that failed for a reason that may pass (408, 429, 5xx, ...)."""

    def __init__(self, error: OpenAIError) -> None:
        super().__init__(str(error))
        self.error = error
