"""Run the mock server as a process: ``python -m oxide_io.testing --port 8000``.

Prints the base URL to give a client, then serves until interrupted (Ctrl+C or
SIGTERM). With ``--certfile`` and ``--keyfile`` it serves HTTPS (and h2 by ALPN).
"""

from __future__ import annotations

import argparse
import signal
import ssl
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ._server import MockServer


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m oxide_io.testing",
        description="An OpenAI-like API server for demos and tests.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port to listen on; 0 picks a free one"
    )
    parser.add_argument(
        "--http2",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="serve HTTP/2 too: h2c with prior knowledge, h2 by ALPN under TLS (default: on)",
    )
    parser.add_argument("--certfile", help="PEM certificate chain: serve HTTPS")
    parser.add_argument("--keyfile", help="PEM private key of --certfile")
    parser.add_argument("--api-key", help="require this bearer token (default: accept any)")
    args = parser.parse_args(argv)

    tls = None
    if args.certfile:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.certfile, args.keyfile)
    elif args.keyfile:
        parser.error("--keyfile needs --certfile")

    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    with MockServer(
        api_key=args.api_key, http2=args.http2, tls=tls, host=args.host, port=args.port
    ) as server:
        print(server.base_url, flush=True)
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
