"""A tiny blocking HTTP/2 client over a socket, built on the h2 package.

Enough to talk to a server the way an HTTP/2 client would without any client
library in between: h2c with prior knowledge, or TLS with ALPN h2; several
streams at once; a chosen initial window, to watch a server honour flow control.
Received data is acknowledged as it is read, so the server's windows reopen.
"""

from __future__ import annotations

import json
import socket
import ssl
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.settings


@dataclass
class H2Response:
    stream_id: int
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    ended: bool = False
    reset_code: int | None = None

    def json(self) -> object:
        return json.loads(self.body)


class H2Client:
    def __init__(
        self,
        port: int,
        *,
        tls: ssl.SSLContext | None = None,
        initial_window: int | None = None,
        timeout: float = 10.0,
    ) -> None:
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls is not None:
            raw = tls.wrap_socket(raw, server_hostname="127.0.0.1")
            self.alpn = raw.selected_alpn_protocol()
        self.sock = raw
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        )
        self.conn.initiate_connection()
        if initial_window is not None:
            self.conn.update_settings(
                {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: initial_window}
            )
        self.responses: dict[int, H2Response] = {}
        self.terminated = False
        self._flush()

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def start(
        self,
        method: str,
        path: str,
        body: object = None,
        headers: dict[str, str] | None = None,
    ) -> int:
        """Send a request; returns its stream id. `body` is JSON-encoded unless bytes."""
        stream_id = self.conn.get_next_available_stream_id()
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        fields = [
            (":method", method),
            (":path", path),
            (":scheme", "https" if isinstance(self.sock, ssl.SSLSocket) else "http"),
            (":authority", "127.0.0.1"),
            *(headers or {}).items(),
        ]
        if data is not None:
            fields.append(("content-type", "application/json"))
            fields.append(("content-length", str(len(data))))
        self.conn.send_headers(stream_id, fields, end_stream=data is None)
        if data is not None:
            self.conn.send_data(stream_id, data, end_stream=True)
        self.responses[stream_id] = H2Response(stream_id)
        self._flush()
        return stream_id

    def pump(self) -> bool:
        """Read once from the socket and handle what came; False at end of connection."""
        data = self.sock.recv(65536)
        if not data:
            self.terminated = True
            return False
        for event in self.conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived):
                response = self.responses[event.stream_id]
                response.headers = {str(k): str(v) for k, v in event.headers or []}
                response.status = int(response.headers.pop(":status"))
            elif isinstance(event, h2.events.DataReceived):
                self.responses[event.stream_id].body += event.data or b""
                self.conn.acknowledge_received_data(
                    event.flow_controlled_length or 0, event.stream_id
                )
            elif isinstance(event, h2.events.StreamEnded):
                self.responses[event.stream_id].ended = True
            elif isinstance(event, h2.events.StreamReset):
                self.responses[event.stream_id].reset_code = int(event.error_code or 0)
            elif isinstance(event, h2.events.ConnectionTerminated):
                self.terminated = True
        self._flush()
        return not self.terminated

    def wait(self, *stream_ids: int) -> list[H2Response]:
        """Read until each stream has ended or been reset."""

        def done(sid: int) -> bool:
            response = self.responses[sid]
            return response.ended or response.reset_code is not None

        while not all(done(sid) for sid in stream_ids):
            if not self.pump():
                break
        return [self.responses[sid] for sid in stream_ids]

    def request(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> H2Response:
        return self.wait(self.start(method, path, body, headers))[0]

    def reset(self, stream_id: int) -> None:
        self.conn.reset_stream(stream_id)
        self._flush()

    def close(self) -> None:
        try:
            self.conn.close_connection()
            self._flush()
        except OSError:
            pass
        self.sock.close()

    def __enter__(self) -> H2Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
