"""HTTP/2 keepalive bookkeeping on the caller's clock (RFC 9113 §6.7 PING).

A connection that has been quiet for `interval` gets a PING; if its ACK does not come
back within `timeout`, the connection is presumed dead. This module only decides;
the connection sends the PING and fails the streams.
"""

from __future__ import annotations

# Internal to the HTTP/2 connection; nothing here is public.
__all__: list[str] = []


class Keepalive:
    """When to PING, and whether an outstanding PING has timed out."""

    __slots__ = (
        "_last_input",
        "_payload",
        "_pings",
        "_sent_at",
        "_unstamped",
        "interval",
        "timeout",
    )

    def __init__(self, interval: float | None, timeout: float, now: float) -> None:
        self.interval = interval
        self.timeout = timeout
        self._last_input = now
        self._unstamped = False  # input arrived without a time: stamp it at the next check
        self._sent_at: float | None = None
        self._payload = b""
        self._pings = 0

    def on_input(self, now: float | None) -> None:
        if now is None:
            self._unstamped = True
        else:
            self._last_input = now
            self._unstamped = False

    def on_ping_ack(self, payload: bytes) -> None:
        if payload == self._payload:
            self._sent_at = None

    def next_timer(self) -> float | None:
        if self.interval is None:
            return None
        if self._sent_at is not None:
            return self._sent_at + self.timeout
        return self._last_input + self.interval

    def check(self, now: float) -> bytes | bool:
        """At `now`: the payload of a PING to send, True if the last one timed out, else False."""
        if self.interval is None:
            return False
        if self._unstamped:
            self._unstamped = False
            self._last_input = now
        if self._sent_at is not None:
            return now >= self._sent_at + self.timeout
        if now < self._last_input + self.interval:
            return False
        self._pings += 1
        self._payload = self._pings.to_bytes(8, "big")
        self._sent_at = now
        return self._payload
