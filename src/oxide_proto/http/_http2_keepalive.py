"""HTTP/2 keepalive bookkeeping on the caller's clock (RFC 9113 §6.7 PING).

A connection that has been quiet for `interval` gets a PING; if its ACK does not come
back within `timeout`, the connection is presumed dead. This module only decides;
the connection sends the PING and fails the streams.

A read that timed out makes the connection suspect: a peer that stays silent for a
whole read timeout may be gone (a NAT or load balancer dropped the flow without a
word), and the next request sent on it would wait out the same silence. Before a
suspect connection carries another request, it must answer a PING within the time
given for it (the caller's connect timeout); the ACK of any PING sent after the
suspicion clears it, and no ACK in time makes it dead, as for a keepalive PING.
"""

from __future__ import annotations

# Internal to the HTTP/2 connection; nothing here is public.
__all__: list[str] = []


class Keepalive:
    """When to PING, and whether an outstanding PING has timed out."""

    __slots__ = (
        "_deadline",
        "_last_input",
        "_payload",
        "_pings",
        "_unstamped",
        "interval",
        "suspect",
        "timeout",
    )

    def __init__(self, interval: float | None, timeout: float, now: float) -> None:
        self.interval = interval
        self.timeout = timeout
        self._last_input = now
        self._unstamped = False  # input arrived without a time: stamp it at the next check
        # When the ACK of the PING in flight is due; None: no PING in flight.
        self._deadline: float | None = None
        self._payload = b""
        self._pings = 0
        # A read timed out since the last ACK: prove the connection alive before reuse.
        self.suspect = False

    def on_input(self, now: float | None) -> None:
        if now is None:
            self._unstamped = True
        else:
            self._last_input = now
            self._unstamped = False

    def on_ping_ack(self, payload: bytes) -> None:
        if payload == self._payload and self._deadline is not None:
            self._deadline = None
            self.suspect = False

    @property
    def awaiting_ack(self) -> bool:
        return self._deadline is not None

    def next_timer(self) -> float | None:
        if self._deadline is not None:
            return self._deadline
        if self.interval is None:
            return None
        return self._last_input + self.interval

    def check(self, now: float) -> bytes | bool:
        """At `now`: the payload of a PING to send, True if the last one timed out, else False."""
        if self._unstamped:
            self._unstamped = False
            self._last_input = now
        if self._deadline is not None:
            return now >= self._deadline
        if self.interval is None or now < self._last_input + self.interval:
            return False
        return self._ping(now + self.timeout)

    def prove(self, now: float, timeout: float | None) -> tuple[bytes | None, float]:
        """A suspect connection is about to be reused: the payload of a PING to send
        (None when one is in flight already, whose ACK now counts) and when its ACK
        is due, at most `timeout` seconds from `now` (None: the keepalive timeout)."""
        due = now + (self.timeout if timeout is None else timeout)
        if self._deadline is not None:
            self._deadline = min(self._deadline, due)
            return None, self._deadline
        return self._ping(due), due

    def _ping(self, deadline: float) -> bytes:
        self._pings += 1
        self._payload = self._pings.to_bytes(8, "big")
        self._deadline = deadline
        return self._payload
