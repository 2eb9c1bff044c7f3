"""Byte streams for the drivers: anyio for async code, plain sockets for blocking code.

Both expose the same methods (the async one with `await`), so the blocking driver
is generated from the async one by `tools/unasync.py`.
"""
