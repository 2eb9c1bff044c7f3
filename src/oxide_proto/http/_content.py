"""Incremental Content-Encoding decoding (RFC 9110 §8.4) with a hard output limit.

`ContentDecoder` undoes `gzip`, `deflate` and `identity`, stacked in any order
(`Content-Encoding: gzip, deflate` means gzip was applied first, so it is undone
last), plus `br` and `zstd` when the optional `brotli` / `zstandard` packages are
importable. Every zlib call passes `max_length`, so a decompression bomb is caught
while its output is still within the limit, not after it has filled memory.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Callable
from typing import Any, NoReturn

from ..base._errors import DecodingError, LimitExceededError

__all__ = ["ContentDecoder", "accepted_encodings", "DEFAULT_MAX_DECODED_SIZE"]

DEFAULT_MAX_DECODED_SIZE = 64 * 1024 * 1024


class _Layer:
    """One encoding to undo.

    `decode(data, limit)` returns at most `limit` bytes and keeps whatever input it
    could not yet turn into output; `decode(b"", limit)` continues from there and
    returns b"" once nothing is left. `finish()` raises if the stream was cut short.
    """

    __slots__ = ()

    def decode(self, data: bytes, limit: int) -> bytes:
        raise NotImplementedError

    def finish(self) -> None:
        return None


class _GzipLayer(_Layer):
    # Concatenated gzip members are one valid stream (RFC 1952 §2.2), so when one member
    # ends a new decompressor continues with the next. Bytes after the last member that
    # are not a gzip header (padding some servers add) are ignored, as browsers do.
    __slots__ = ("_decomp", "_ignore_rest", "_more", "_started", "_tail")

    def __init__(self) -> None:
        self._decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._started = False
        self._ignore_rest = False
        self._tail = b""
        self._more = False  # the last call stopped at its limit: output may be pending

    def decode(self, data: bytes, limit: int) -> bytes:
        if self._tail:
            data = self._tail + data
            self._tail = b""
        if (not data and not self._more) or self._ignore_rest:
            return b""
        self._more = False
        pieces: list[bytes] = []
        room = limit
        decomp = self._decomp
        while room > 0:
            if decomp.eof:
                if len(data) < 2:
                    break  # wait for two bytes to tell a next member from padding
                if data[0] != 0x1F or data[1] != 0x8B:
                    self._ignore_rest = True
                    return b"".join(pieces)
                decomp = self._decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._started = True
            try:
                out = decomp.decompress(data, room)
            except zlib.error as exc:
                raise DecodingError(f"invalid gzip data in response body: {exc}") from exc
            pieces.append(out)
            room -= len(out)
            data = decomp.unused_data if decomp.eof else decomp.unconsumed_tail
            if room == 0:
                self._more = True
            elif not data:
                break
        self._tail = data
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def finish(self) -> None:
        if self._started and not self._decomp.eof:
            raise DecodingError("gzip response body ended before its gzip stream did")


class _DeflateLayer(_Layer):
    # "deflate" means zlib-wrapped (RFC 9110 §8.4.1.2), but servers have long sent raw
    # deflate instead, and browsers accept both; the two-byte zlib header tells them apart.
    __slots__ = ("_decomp", "_more", "_tail")

    def __init__(self) -> None:
        self._decomp: Any = None
        self._tail = b""
        self._more = False

    def decode(self, data: bytes, limit: int) -> bytes:
        if self._tail:
            data = self._tail + data
            self._tail = b""
        if self._decomp is None:
            if len(data) < 2:
                self._tail = data
                return b""
            cmf, flg = data[0], data[1]
            wrapped = cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0
            self._decomp = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        decomp = self._decomp
        if decomp.eof or (not data and not self._more):
            return b""  # bytes after the end of the stream carry nothing
        try:
            out: bytes = decomp.decompress(data, limit)
        except zlib.error as exc:
            raise DecodingError(f"invalid deflate data in response body: {exc}") from exc
        self._more = len(out) == limit
        self._tail = decomp.unconsumed_tail
        return out

    def finish(self) -> None:
        if self._decomp is None:
            if self._tail:
                raise DecodingError("deflate response body is too short to decode")
        elif not self._decomp.eof:
            raise DecodingError("deflate response body ended before its deflate stream did")


class _CallableLayer(_Layer):
    """A decoder from an optional package: its output is bounded after each call, not during."""

    __slots__ = ("_decode",)

    def __init__(self, decode: Callable[[bytes], bytes]) -> None:
        self._decode = decode

    def decode(self, data: bytes, limit: int) -> bytes:
        if not data:
            return b""
        try:
            return self._decode(data)
        except Exception as exc:
            raise DecodingError(f"invalid compressed response body: {exc}") from exc


def _optional_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _brotli_layer() -> _Layer:
    return _CallableLayer(_brotli.Decompressor().process)


def _zstd_layer() -> _Layer:
    return _CallableLayer(_zstandard.ZstdDecompressor().decompressobj().decompress)


_brotli = _optional_module("brotli")
_zstandard = _optional_module("zstandard")

_LAYERS: dict[str, Callable[[], _Layer]] = {"gzip": _GzipLayer, "x-gzip": _GzipLayer}
_LAYERS["deflate"] = _DeflateLayer
if _brotli is not None:
    _LAYERS["br"] = _brotli_layer
if _zstandard is not None:
    _LAYERS["zstd"] = _zstd_layer


def accepted_encodings() -> str:
    """The `Accept-Encoding` value this build can decode, e.g. `"gzip, deflate"`."""
    names = ["gzip", "deflate"]
    names += [name for name in ("br", "zstd") if name in _LAYERS]
    return ", ".join(names)


# Intermediate layers of a stacked encoding hand on their output in slices this big,
# so a bomb in an inner layer is bounded too.
_SLICE = 64 * 1024


class ContentDecoder:
    """Undoes a response's Content-Encoding, chunk by chunk.

    Feed body bytes to `decode()` as they arrive and call `flush()` once at the end of
    the body. An encoding this build cannot undo makes the whole body pass through
    unchanged (its Content-Encoding header still says what it is). The first
    `max_decoded_size` bytes are handed out; the call after the one that reached the
    limit raises `LimitExceededError`, so the result does not depend on how the body
    was split. No call returns more than the limit. Corrupt or truncated compressed
    data raises `DecodingError`.
    """

    __slots__ = ("_last", "_layers", "_limit", "_overflowed", "_total")

    def __init__(
        self, content_encoding: str, *, max_decoded_size: int = DEFAULT_MAX_DECODED_SIZE
    ) -> None:
        names = [n.strip().lower() for n in content_encoding.split(",")]
        names = [n for n in names if n and n != "identity"]
        if all(n in _LAYERS for n in names):
            # Applied in the listed order, so undone in reverse.
            self._layers = [_LAYERS[n]() for n in reversed(names)]
        else:
            self._layers = []
        self._last = len(self._layers) - 1
        self._limit = max_decoded_size
        self._total = 0
        self._overflowed = False

    @property
    def is_passthrough(self) -> bool:
        """True when nothing is decoded (identity, or an encoding this build lacks)."""
        return not self._layers

    @property
    def limit_reached(self) -> bool:
        """True once more than `max_decoded_size` was decoded: every later call raises."""
        return self._overflowed

    def decode(self, data: bytes) -> bytes:
        """The decoded bytes for `data` (possibly empty while a decoder is buffering)."""
        if not self._layers:
            return data
        if self._overflowed:
            self._overflow()
        return self._push(0, data)

    def flush(self) -> bytes:
        """Ends the body; raises if the limit was passed or a stream was cut short."""
        if self._overflowed:
            self._overflow()
        for layer in self._layers:
            layer.finish()
        return b""

    def _push(self, index: int, data: bytes) -> bytes:
        layer = self._layers[index]
        if index == self._last:
            remaining = self._limit - self._total
            out = layer.decode(data, remaining + 1)
            if len(out) > remaining:
                out = out[:remaining]
                self._overflowed = True
            self._total += len(out)
            return out
        pieces = []
        piece = layer.decode(data, _SLICE)
        while piece:
            pieces.append(self._push(index + 1, piece))
            if self._overflowed:
                break
            piece = layer.decode(b"", _SLICE)
        return b"".join(pieces)

    def _overflow(self) -> NoReturn:
        raise LimitExceededError(
            f"decoded response body exceeds max_decoded_size ({self._limit} bytes)",
            limit=self._limit,
            limit_name="max_decoded_size",
        )
