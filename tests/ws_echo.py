"""A WebSocket echo server (the `websockets` package) for the io tests, run as a process.

    python -m tests.ws_echo --port 8765 [--certfile server.pem --keyfile server.key]

Every message comes back as it was sent (text as text, binary as binary, any
size). A text message ``close CODE [REASON]`` makes the server close the
connection with that code and reason instead, so clients can be tested against
custom close codes. It prints ``ready`` once listening and stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import ssl

from websockets.asyncio.server import ServerConnection, serve


async def echo(connection: ServerConnection) -> None:
    async for message in connection:
        if isinstance(message, str) and message.startswith("close "):
            code, _, reason = message[len("close ") :].partition(" ")
            await connection.close(int(code), reason)
            return
        await connection.send(message)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--certfile")
    parser.add_argument("--keyfile")
    args = parser.parse_args()
    tls = None
    if args.certfile:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.certfile, args.keyfile)
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with serve(echo, args.host, args.port, ssl=tls, max_size=None):
        print("ready", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
