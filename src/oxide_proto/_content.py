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

from ._errors import DecodingError, LimitExceededError

__all__ = ["ContentDecoder", "accepted_encodings", "DEFAULT_MAX_DECODED_SIZE"]

DEFAULT_MAX_DECODED_SIZE = 64 * 1024 * 1024


class _Layer:
    """One encoding to undo. `decode` returns at most `limit + 1` bytes, so overflow is seen."""

    __slots__ = ()

    def decode(self, data: bytes, limit: int) -> bytes:
        raise NotImplementedError

    def flush(self, limit: int) -> bytes:
        return b""


class _GzipLayer(_Layer):
    # Concatenated gzip members are one valid stream (RFC 1952 §2.2), so when one member
    # ends a new decompressor continues with the next. Bytes after the last member that
    # are not a gzip header (padding some servers add) are ignored, as browsers do.
    __slots__ = ("_decomp", "_ignore_rest", "_started")

    def __init__(self) -> None:
        self._decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._started = False
        self._ignore_rest = False

    def decode(self, data: bytes, limit: int) -> bytes:
        pieces: list[bytes] = []
        room = limit + 1
        while data and room > 0 and not self._ignore_rest:
            if self._decomp.eof:
                if data[0] != 0x1F or (len(data) > 1 and data[1] != 0x8B):
                    self._ignore_rest = True
                    break
                self._decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._started = True
            try:
                out = self._decomp.decompress(data, room)
            except zlib.error as exc:
                raise DecodingError(f"invalid gzip data in response body: {exc}") from exc
            pieces.append(out)
            room -= len(out)
            data = self._decomp.unconsumed_tail or self._decomp.unused_data
        if len(pieces) == 1:
            return pieces[0]
        return b"".join(pieces)

    def flush(self, limit: int) -> bytes:
        if self._started and not self._decomp.eof:
            raise DecodingError("gzip response body ended before its gzip stream did")
        return b""


class _DeflateLayer(_Layer):
    # "deflate" means zlib-wrapped (RFC 9110 §8.4.1.2), but servers have long sent raw
    # deflate instead, and browsers accept both; the two-byte zlib header tells them apart.
    __slots__ = ("_decomp", "_head")

    def __init__(self) -> None:
        self._decomp: Any = None
        self._head = b""

    def decode(self, data: bytes, limit: int) -> bytes:
        if self._decomp is None:
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return b""
            self._head = b""
            cmf, flg = data[0], data[1]
            wrapped = cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0
            self._decomp = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        if self._decomp.eof:
            return b""  # bytes after the end of the stream carry nothing
        try:
            out: bytes = self._decomp.decompress(data, limit + 1)
        except zlib.error as exc:
            raise DecodingError(f"invalid deflate data in response body: {exc}") from exc
        return out

    def flush(self, limit: int) -> bytes:
        if self._head:
            raise DecodingError("deflate response body is too short to decode")
        if self._decomp is not None and not self._decomp.eof:
            raise DecodingError("deflate response body ended before its deflate stream did")
        return b""


class _CallableLayer(_Layer):
    """A decoder from an optional package: output is checked after each call, not during."""

    __slots__ = ("_decode",)

    def __init__(self, decode: Callable[[bytes], bytes]) -> None:
        self._decode = decode

    def decode(self, data: bytes, limit: int) -> bytes:
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


class ContentDecoder:
    """Undoes a response's Content-Encoding, chunk by chunk.

    Feed body bytes to `decode()` as they arrive and call `flush()` once at the end of
    the body. An encoding this build cannot undo makes the whole body pass through
    unchanged (its Content-Encoding header still says what it is). Raises
    `LimitExceededError` as soon as the decoded body would pass `max_decoded_size`,
    and `DecodingError` for corrupt or truncated compressed data.
    """

    __slots__ = ("_layers", "_limit", "_total")

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
        self._limit = max_decoded_size
        self._total = 0

    @property
    def is_passthrough(self) -> bool:
        """True when nothing is decoded (identity, or an encoding this build lacks)."""
        return not self._layers

    def decode(self, data: bytes) -> bytes:
        """The decoded bytes for `data` (possibly empty while a decoder is buffering)."""
        layers = self._layers
        if not layers:
            return data
        last = len(layers) - 1
        for i, layer in enumerate(layers):
            if not data:
                return b""
            # Intermediate layers of a stacked encoding are bounded per call; the
            # final one by what is left of the budget for the whole body.
            limit = self._limit - self._total if i == last else self._limit
            data = layer.decode(data, limit)
            if len(data) > limit:
                self._overflow()
        self._total += len(data)
        return data

    def flush(self) -> bytes:
        """Ends the body: returns what was held back, raises if a stream was cut short."""
        out = b""
        last = len(self._layers) - 1
        for i, layer in enumerate(self._layers):
            limit = self._limit - self._total if i == last else self._limit
            if out:
                out = layer.decode(out, limit)
            out += layer.flush(limit)
            if len(out) > limit:
                self._overflow()
        self._total += len(out)
        return out

    def _overflow(self) -> NoReturn:
        raise LimitExceededError(
            f"decoded response body exceeds max_decoded_size ({self._limit} bytes)",
            limit=self._limit,
        )
