"""Byte streams for the drivers: anyio for async code, plain sockets for blocking code.

On asyncio the TCP stream under anyio's API is oxide's own (`_asyncio`: a Protocol
that keeps reading into a bounded buffer); trio uses anyio's.

Both expose the same methods (the async one with `await`), so the blocking driver
is generated from the async one by `tools/unasync.py`.
"""
