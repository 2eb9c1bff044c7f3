"""Carrying out an answer and its plan over any transport.

Delays, slow first tokens, cut, truncated, malformed and stalled streams, and
gzip are the same whatever the protocol; only "send the head", "send bytes",
"end", "break" and "wait until the peer goes away" differ between HTTP/1.1 and
HTTP/2. Each transport implements that `Channel`; `play` does the rest once.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import Protocol

from ._behaviours import CutStream, Malformed, Plan, Stall, Truncate
from ._wire import Answer, new_id, sse

__all__ = ["Channel", "accepts_gzip", "play"]


class Channel(Protocol):
    """One response's way out, as a transport provides it."""

    async def send_head(self, status: int, headers: list[tuple[str, str]]) -> None: ...

    async def send_data(self, data: bytes) -> None: ...

    async def end(self) -> None:
        """Finish the body normally."""

    async def abort(self) -> None:
        """Break the response: close the connection (HTTP/1.1) or reset the stream (HTTP/2)."""

    async def until_closed(self) -> None:
        """Return when the peer has gone away (closed the connection or reset the stream)."""


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an `Accept-Encoding` value allows gzip (RFC 9110, section 12.5.3)."""
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        quality = params.strip().lower()
        if quality.startswith("q="):
            try:
                return float(quality[2:]) > 0
            except ValueError:
                return False
        return True
    return False


async def play(answer: Answer, plan: Plan, channel: Channel, *, gzip_ok: bool) -> None:
    """Send `answer` through `channel`, shaped by `plan`."""
    if plan.delay is not None:
        await asyncio.sleep(plan.delay.seconds)
    headers = [*answer.headers, ("x-request-id", new_id("req_"))]
    compressor = None
    if plan.encoding is not None and gzip_ok:
        compressor = zlib.compressobj(wbits=31)  # 31: a gzip header and trailer
        headers.append(("content-encoding", "gzip"))
    if answer.events is None:
        body = answer.body
        if compressor is not None:
            body = compressor.compress(body) + compressor.flush()
        headers.append(("content-length", str(len(body))))
        await channel.send_head(answer.status, headers)
        if body:
            await channel.send_data(body)
        await channel.end()
        return

    await channel.send_head(answer.status, headers)
    if plan.first_token is not None:
        await asyncio.sleep(plan.first_token.seconds)
    fault = plan.stream_fault
    events = list(answer.events)
    if isinstance(fault, Truncate):
        events = events[:-1] if fault.after_events is None else events[: fault.after_events]
    elif isinstance(fault, Malformed):
        events.insert(min(fault.after_events, len(events)), sse(fault.data))
    interrupt_at = None
    interrupt = fault if isinstance(fault, (CutStream, Stall)) else None
    if isinstance(fault, (CutStream, Stall)):
        # A fault scripted past the last event still lands, just before the end.
        interrupt_at = min(fault.after_events, len(events))
    for index in range(len(events) + 1):
        if index == interrupt_at and await _interrupt(interrupt, channel):
            return
        if index == len(events):
            break
        event = events[index]
        if compressor is not None:
            # A sync flush per event, so a client can decode each event as it comes.
            event = compressor.compress(event) + compressor.flush(zlib.Z_SYNC_FLUSH)
        await channel.send_data(event)
    if compressor is not None:
        await channel.send_data(compressor.flush())
    await channel.end()


async def _interrupt(fault: CutStream | Stall | None, channel: Channel) -> bool:
    """Break or stall the stream; True when the response is over."""
    if isinstance(fault, CutStream):
        await channel.abort()
        return True
    assert fault is not None
    if fault.seconds is None:
        await channel.until_closed()
        return True
    try:
        await asyncio.wait_for(channel.until_closed(), fault.seconds)
    except asyncio.TimeoutError:
        return False
    return True
