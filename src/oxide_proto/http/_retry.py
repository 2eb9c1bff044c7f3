"""When to retry a failed request and how long to wait first, as the official SDK does.

The rules are the official SDK's, so a server tuned for it sees the same client:
connection failures and timeouts are retried, and so are 408 (request timeout),
409 (lock timeout), 429 (rate limit) and every 5xx; the API's own `x-should-retry:
true|false` header overrides the status; the wait is the server's `retry-after-ms`
or `retry-after` (seconds, or an HTTP-date) when it lies in (0, 120] seconds, and a
server asking for more than 120 seconds is not retried at all. Otherwise the wait
is the shared exponential backoff (`base._backoff`), 0.5 s doubling up to 8 s, less
up to 25 % jitter.

A body that cannot be sent again (a one-shot stream) is never retried. The policy
is pure: the adapter passes the clock reading `now` (for an HTTP-date) and a
`random` callable (for the jitter), then sleeps for what the decision says.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..base._backoff import Delay, backoff_delay
from ..base._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    LimitExceededError,
    RemoteProtocolError,
    ResponseTooLargeError,
    WebSocketHandshakeError,
)
from ..base._headers import Headers
from ..base._record import field, frozen, replace
from ..base._types import Request, ResponseInfo

__all__ = [
    "INITIAL_RETRY_DELAY",
    "MAX_RETRY_DELAY",
    "MAX_RETRY_AFTER_DELAY",
    "DEFAULT_MAX_RETRIES",
    "RetryDecision",
    "RetryPolicy",
    "parse_retry_after",
    "retryable_handshake",
]

INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER_DELAY = 120.0
DEFAULT_MAX_RETRIES = 2

# Literal spellings float() reads as infinity; any other value that overflows to
# infinity (a huge number) is an excessive delay rather than a malformed one.
_INFINITY_LITERALS = frozenset({"inf", "+inf", "infinity", "+infinity"})


def parse_retry_after(headers: Headers, *, now: float) -> float | None:
    """The delay in seconds the server asked for, or None when it asked for none.

    `retry-after-ms` (milliseconds) wins over `retry-after`; both may be fractional.
    A `retry-after` that is not a number is read as an HTTP-date (RFC 9110 §10.2.3)
    and compared with `now`, a UNIX timestamp. A numeric value too large for a
    float counts as longer than any maximum. The result may be negative, zero or
    not finite: `RetryPolicy` decides what to honour.
    """
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            delay = float(value)
        except ValueError:
            continue
        if delay == math.inf and value.strip().lower() not in _INFINITY_LITERALS:
            return MAX_RETRY_AFTER_DELAY + 1.0
        return delay / divisor
    value = headers.get("retry-after")
    if value is None:
        return None
    # Loaded only for a date: email.utils imports socket and more, which most
    # programs never need from here.
    import calendar
    from email.utils import parsedate_tz

    try:
        parsed = parsedate_tz(value)
        if parsed is None:
            return None
        # An HTTP-date is always GMT (RFC 9110 §5.6.7); a date without a zone is
        # read as GMT too rather than as this machine's local time.
        stamp = calendar.timegm(parsed[:6]) - (parsed[9] or 0)
    except (TypeError, ValueError, OverflowError):
        return None
    return float(stamp - now)


@frozen(kw_only=True)
class RetryDecision:
    """Whether to retry, after how many seconds, and a short reason for debug logs."""

    retry: bool
    delay: float = 0.0
    reason: str = ""


def retryable_handshake(error: WebSocketHandshakeError) -> bool:
    """Whether a refused WebSocket upgrade may be accepted by a later attempt.

    A refusal for a reason that will not change (401, 403, 404) ends it; a server
    that is overloaded, restarting or rate limiting (429, 5xx), or a handshake
    that broke before any status, may do better next time.
    """
    status = error.status_code
    return status is None or status == 429 or status >= 500


def _retryable_error(error: BaseException) -> bool:
    if isinstance(error, WebSocketHandshakeError):
        return retryable_handshake(error)
    if isinstance(error, (LimitExceededError, ResponseTooLargeError)):
        # A response over a configured limit will be the same the next time;
        # sending again only repeats the cost.
        return False
    # OSError covers what a socket raises before the adapter maps it (refused,
    # reset, TimeoutError); APITimeoutError is an APIConnectionError.
    return isinstance(error, (APIConnectionError, RemoteProtocolError, OSError))


def _non_negative_int(instance: object, name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}")


@frozen(kw_only=True)
class RetryPolicy:
    """The official SDK's retry rules; `max_retries` is the number of retries after
    the first attempt (2 by default, 0 to disable). Change it per request with
    `policy.with_max_retries(n)`.
    """

    max_retries: int = field(default=DEFAULT_MAX_RETRIES, validator=_non_negative_int)
    initial_delay: float = INITIAL_RETRY_DELAY
    max_delay: float = MAX_RETRY_DELAY
    max_retry_after: float = MAX_RETRY_AFTER_DELAY

    def with_max_retries(self, max_retries: int) -> RetryPolicy:
        return replace(self, max_retries=max_retries)

    def backoff(self, retries_taken: int, random: Callable[[], float]) -> float:
        """The wait before retry number `retries_taken + 1` when the server set none:
        `min(initial * 2**retries_taken, max)` reduced by up to 25 % at random."""
        return backoff_delay(
            retries_taken, initial=self.initial_delay, maximum=self.max_delay, draw=random()
        )

    def should_retry_response(self, response: ResponseInfo, *, now: float) -> tuple[bool, str]:
        """Whether an error response is worth another attempt, with the reason.

        This is the status rule alone; `decide` adds the retry budget and the body.
        """
        if response.status_code < 400:
            return False, f"status {response.status_code} is not an error"
        retry_after = parse_retry_after(response.headers, now=now)
        if (
            retry_after is not None
            and math.isfinite(retry_after)
            and retry_after > self.max_retry_after
        ):
            return False, (
                f"server asked to wait {retry_after:g}s, over the {self.max_retry_after:g}s maximum"
            )
        should_retry = response.headers.get("x-should-retry")
        if should_retry == "true":
            return True, "x-should-retry: true"
        if should_retry == "false":
            return False, "x-should-retry: false"
        status = response.status_code
        if status in (408, 409, 429) or status >= 500:
            return True, f"status {status}"
        return False, f"status {status} is not retryable"

    def delay(
        self,
        retries_taken: int,
        response: ResponseInfo | None,
        *,
        now: float,
        random: Callable[[], float],
    ) -> Delay:
        """The wait before retry number `retries_taken + 1` and what set it: the
        server's `retry-after-ms` / `retry-after` when it is honoured, else the backoff.

        The retry budget is `decide`'s to check, as it is for `ReconnectPolicy.delay`.
        """
        if response is not None:
            retry_after = parse_retry_after(response.headers, now=now)
            if (
                retry_after is not None
                and math.isfinite(retry_after)
                and 0 < retry_after <= self.max_retry_after
            ):
                source = "retry-after-ms" if "retry-after-ms" in response.headers else "retry-after"
                return Delay(retry_after, source)
        return Delay(self.backoff(retries_taken, random))

    def decide(
        self,
        *,
        attempt: int,
        request: Request,
        response: ResponseInfo | None = None,
        error: BaseException | None = None,
        now: float,
        random: Callable[[], float],
    ) -> RetryDecision:
        """Whether to send `request` again after a failed attempt.

        `attempt` is the number of retries already taken (0 after the first
        attempt failed). Pass the error `response` head (or the `APIStatusError`
        made from it), or the `error` raised while sending (a timeout, a
        connection error, a `RemoteProtocolError`); a response, when given, decides.
        After a retry decision, wait `delay` seconds, rebuild the request with
        `retries_taken=attempt + 1` and send it. A `RemoteProtocolError` with
        `retry_safe=True` (the server did not process the request) is retried like
        any connection error, and still only when the body can be sent again.
        """
        if response is None and isinstance(error, APIStatusError):
            response = error.response
        if response is None and error is None:
            raise ValueError("decide() needs the failed attempt's response or error")
        if attempt >= self.max_retries:
            return RetryDecision(
                retry=False, reason=f"retries exhausted ({attempt} of {self.max_retries})"
            )
        if response is not None:
            wanted, reason = self.should_retry_response(response, now=now)
        else:
            assert error is not None
            wanted = _retryable_error(error)
            kind = "timeout" if isinstance(error, (APITimeoutError, TimeoutError)) else "error"
            reason = f"{kind} {type(error).__name__}" + ("" if wanted else " is not retryable")
        if not wanted:
            return RetryDecision(retry=False, reason=reason)
        if not request.replayable:
            return RetryDecision(retry=False, reason=f"{reason}, but the body cannot be replayed")
        delay = self.delay(attempt, response, now=now, random=random)
        return RetryDecision(
            retry=True, delay=delay.seconds, reason=f"{reason}; waiting per {delay.source}"
        )
