"""Sending request body data within HTTP/2 flow-control windows (RFC 9113 §5.2, §6.9).

The server grants credit per stream and per connection; data may go out only as far
as the smaller window allows, in frames no larger than its SETTINGS_MAX_FRAME_SIZE.
"""

from __future__ import annotations

import h2.connection
import h2.exceptions

from ..base._errors import LocalProtocolError

# Internal to the HTTP/2 connection; nothing here is public.
__all__: list[str] = []


def send_within_window(
    conn: h2.connection.H2Connection,
    stream_id: int,
    data: bytes,
    offset: int = 0,
    *,
    end_stream: bool = False,
) -> int:
    """Queues `data[offset:]` as far as the windows allow; returns the new offset.

    With `end_stream`, the frame carrying the last byte also ends the stream.
    """
    stop = min(len(data), offset + conn.local_flow_control_window(stream_id))
    frame = conn.max_outbound_frame_size
    try:
        if offset == 0 and stop == len(data) <= frame:
            conn.send_data(stream_id, data, end_stream=end_stream)
            return stop
        while offset < stop:
            end = min(offset + frame, stop)
            conn.send_data(stream_id, data[offset:end], end_stream=end_stream and end == len(data))
            offset = end
    except h2.exceptions.ProtocolError as exc:
        raise LocalProtocolError(f"cannot send HTTP/2 request body: {exc}") from exc
    return offset
