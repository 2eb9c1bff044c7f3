"""nginx and Caddy as reverse proxies in front of a local server, for opt-in tests.

Each runs as an ordinary process on 127.0.0.1 (no daemon, no system directories):
a TLS port with HTTP/2 by ALPN and a plain HTTP/1.1 port, both proxying to an
upstream `http://127.0.0.1:PORT` over HTTP/1.1, WebSocket `Upgrade` included, and
without buffering responses (SSE events pass as they come). The access log names
the client connection of each request (nginx's `$connection` serial, Caddy's
client port), so a test counts the TCP connections a burst of requests used.

nginx is set up as reverse proxies commonly push back on HTTP/2 clients: it
closes a connection with GOAWAY after `keepalive_requests` requests and refuses
streams over `http2_max_concurrent_streams`. Caddy (Go's HTTP/2 server) keeps
its defaults: 250 streams a connection, no request count.

`PROXIES_ENABLED` is the opt-in: `OXIDE_REVERSE_PROXIES=1`.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

from tests.servers import Certs, _accepts, _process, free_port

__all__ = ["PROXIES_ENABLED", "ReverseProxy", "run_caddy", "run_nginx"]

PROXIES_ENABLED = os.environ.get("OXIDE_REVERSE_PROXIES", "") not in ("", "0")


@dataclass(frozen=True)
class ReverseProxy:
    name: str
    https_port: int
    http_port: int
    access_log: pathlib.Path

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}/v1"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/v1"

    def requests(self) -> list[tuple[str, str, str]]:
        """(client connection, protocol, path) of each request logged so far."""
        if not self.access_log.exists():
            return []
        lines = self.access_log.read_text().splitlines()
        if self.name == "nginx":
            return [tuple(line.split(" ", 2)) for line in lines if line]  # type: ignore[misc]
        rows = []
        for line in lines:
            entry = json.loads(line).get("request", {})
            if entry:
                rows.append((str(entry["remote_port"]), entry["proto"], entry["uri"]))
        return rows

    @staticmethod
    def connections_of(rows: list[tuple[str, str, str]]) -> int:
        """How many client connections carried these requests (rows of `requests()`)."""
        return len({connection for connection, _, _ in rows})


def _nginx_conf(
    directory: pathlib.Path,
    certs: Certs,
    https_port: int,
    http_port: int,
    upstream: int,
    keepalive_requests: int,
    max_streams: int,
) -> str:
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format conns '$connection $server_protocol $request_uri';
    access_log {directory}/access.log conns;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}
    upstream backend {{ server 127.0.0.1:{upstream}; keepalive 32; }}
    server {{
        listen 127.0.0.1:{https_port} ssl http2;
        listen 127.0.0.1:{http_port};
        ssl_certificate {certs.cert_pem};
        ssl_certificate_key {certs.key_pem};
        keepalive_requests {keepalive_requests};
        http2_max_concurrent_streams {max_streams};
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_buffering off;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


@contextlib.contextmanager
def run_nginx(
    certs: Certs,
    upstream: int,
    directory: pathlib.Path,
    *,
    keepalive_requests: int = 10,
    max_streams: int = 8,
) -> Iterator[ReverseProxy]:
    """nginx in front of `http://127.0.0.1:{upstream}` (see the module docstring)."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    https_port, http_port = free_port(), free_port()
    conf = directory / "nginx.conf"
    conf.write_text(
        _nginx_conf(
            directory, certs, https_port, http_port, upstream, keepalive_requests, max_streams
        )
    )
    args = [binary, "-p", str(directory), "-e", str(directory / "error.log"), "-c", str(conf)]
    args += ["-g", "daemon off;"]
    ready = lambda: _accepts(https_port) and _accepts(http_port)  # noqa: E731
    with _process(args, ready, "nginx"):
        yield ReverseProxy("nginx", https_port, http_port, directory / "access.log")


@contextlib.contextmanager
def run_caddy(certs: Certs, upstream: int, directory: pathlib.Path) -> Iterator[ReverseProxy]:
    """Caddy in front of `http://127.0.0.1:{upstream}` (see the module docstring)."""
    binary = shutil.which("caddy") or "/usr/bin/caddy"
    https_port, http_port = free_port(), free_port()
    log = directory / "access.log"
    caddyfile = directory / "Caddyfile"
    caddyfile.write_text(
        f"""{{
    admin off
    auto_https off
    storage file_system {directory}/data
}}
https://127.0.0.1:{https_port} {{
    tls {certs.cert_pem} {certs.key_pem}
    log {{
        output file {log}
        format json
    }}
    reverse_proxy 127.0.0.1:{upstream} {{
        flush_interval -1
    }}
}}
http://127.0.0.1:{http_port} {{
    log {{
        output file {log}
        format json
    }}
    reverse_proxy 127.0.0.1:{upstream} {{
        flush_interval -1
    }}
}}
"""
    )
    # Caddy keeps its state under $HOME / $XDG_*: the test's directory, not the user's.
    env = {
        "HOME": str(directory),
        "XDG_DATA_HOME": str(directory / "data"),
        "XDG_CONFIG_HOME": str(directory / "config"),
    }
    args = ["env", *(f"{k}={v}" for k, v in env.items()), binary, "run"]
    args += ["--config", str(caddyfile), "--adapter", "caddyfile"]
    ready = lambda: _accepts(https_port) and _accepts(http_port)  # noqa: E731
    with _process(args, ready, "caddy"):
        yield ReverseProxy("caddy", https_port, http_port, log)
