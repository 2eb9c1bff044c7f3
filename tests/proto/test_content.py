"""ContentDecoder: gzip, deflate (zlib-wrapped and raw), stacked encodings, limits.

Each encoded body is decoded fed whole, byte by byte and split at Hypothesis-chosen
points, and must give the same bytes (or the same error).
"""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pytest
from hypothesis import given, settings

from oxide_proto import (
    ContentDecoder,
    DecodingError,
    LimitExceededError,
    RemoteProtocolError,
    accepted_encodings,
)
from tests.splits import fixed_feeds, split_at, split_points

TEXT = b'{"id": "chatcmpl-1", "choices": [{"message": {"content": "' + b"hello " * 2000 + b'"}}]}'


def raw_deflate(data: bytes) -> bytes:
    comp = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return comp.compress(data) + comp.flush()


def decode(encoding: str, chunks: list[bytes], **kw: int) -> bytes | tuple[str, str]:
    decoder = ContentDecoder(encoding, **kw)
    try:
        out = [decoder.decode(chunk) for chunk in chunks]
        out.append(decoder.flush())
    except RemoteProtocolError as exc:
        return (type(exc).__name__, str(exc))
    return b"".join(out)


CASES = {
    "gzip": ("gzip", gzip.compress(TEXT), TEXT),
    "x-gzip": ("x-gzip", gzip.compress(TEXT), TEXT),
    "gzip-members": ("gzip", gzip.compress(b"one,") + gzip.compress(b"two"), b"one,two"),
    "gzip-padding": ("gzip", gzip.compress(b"padded") + b"\x00\x00\x00", b"padded"),
    "deflate-zlib": ("deflate", zlib.compress(TEXT), TEXT),
    "deflate-raw": ("deflate", raw_deflate(TEXT), TEXT),
    "stacked": ("gzip, deflate", zlib.compress(gzip.compress(TEXT)), TEXT),
    "identity": ("identity", TEXT, TEXT),
    "identity-gzip": ("identity, gzip", gzip.compress(TEXT), TEXT),
    "unknown-passthrough": ("compress", b"\x1f\x9dLZW", b"\x1f\x9dLZW"),
    "empty-gzip-body": ("gzip", b"", b""),
    "Upper-Case": ("GZIP", gzip.compress(b"shout"), b"shout"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_decodes_every_way(name: str) -> None:
    encoding, body, expected = CASES[name]
    for how, chunks in fixed_feeds(body):
        assert decode(encoding, chunks) == expected, how


@settings(max_examples=150, deadline=None)
@given(points=split_points())
def test_split_points_give_the_same_bytes(points: list[int]) -> None:
    for encoding, body, expected in CASES.values():
        assert decode(encoding, split_at(body, points)) == expected


CORRUPT = {
    "gzip-garbage": ("gzip", b"\x1f\x8b\x08\x00garbage-garbage-garbage"),
    "gzip-truncated": ("gzip", gzip.compress(TEXT)[:-12]),
    "gzip-bad-crc": ("gzip", gzip.compress(b"abc")[:-8] + b"\x00" * 8),
    "deflate-garbage": ("deflate", b"\x78\x9c\xff\xff\xff\xff"),
    "deflate-truncated": ("deflate", zlib.compress(TEXT)[:-20]),
    "deflate-one-byte": ("deflate", b"\x78"),
}


@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_corrupt_data_is_a_decoding_error(name: str) -> None:
    encoding, body = CORRUPT[name]
    results = {how: decode(encoding, chunks) for how, chunks in fixed_feeds(body)}
    assert results["whole"][0] == "DecodingError"
    assert results["bytewise"][0] == "DecodingError"
    assert issubclass(DecodingError, RemoteProtocolError)


def test_decoding_error_chains_the_zlib_error() -> None:
    decoder = ContentDecoder("gzip")
    with pytest.raises(DecodingError) as info:
        decoder.decode(b"\x1f\x8b\x09garbage")
    assert isinstance(info.value.__cause__, zlib.error)


def test_limit_hands_out_the_allowed_prefix_then_raises() -> None:
    body = gzip.compress(b"0123456789" * 100)
    for how, chunks in fixed_feeds(body):
        decoder = ContentDecoder("gzip", max_decoded_size=995)
        out = b""
        with pytest.raises(LimitExceededError):
            for chunk in chunks:
                out += decoder.decode(chunk)
            decoder.flush()
        assert out == (b"0123456789" * 100)[:995], how


def _bomb(size: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    return b"".join(comp.compress(block) for _ in range(size >> 20)) + comp.flush()


def test_gzip_bomb_is_stopped_before_memory_grows() -> None:
    bomb = _bomb(32 << 20)  # 32 MiB of zeros in about 32 KiB
    limit = 1 << 20
    decoder = ContentDecoder("gzip", max_decoded_size=limit)
    tracemalloc.start()
    try:
        with pytest.raises(LimitExceededError) as info:
            for start in range(0, len(bomb), 16384):
                decoder.decode(bomb[start : start + 16384])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.limit == limit
    assert peak < 4 * limit  # one bounded output buffer, never the whole 64 MiB


def test_bomb_in_a_single_chunk_is_bounded_too() -> None:
    bomb = _bomb(16 << 20)
    tracemalloc.start()
    try:
        decoder = ContentDecoder("gzip", max_decoded_size=100_000)
        assert decoder.decode(bomb) == bytes(100_000)  # the part within the limit
        with pytest.raises(LimitExceededError):
            decoder.flush()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_limit_counts_the_whole_body_not_each_chunk() -> None:
    body = gzip.compress(bytes(3000))
    decoder = ContentDecoder("gzip", max_decoded_size=2999)
    with pytest.raises(LimitExceededError):
        for i in range(0, len(body), 3):
            decoder.decode(body[i : i + 3])
    exact = ContentDecoder("gzip", max_decoded_size=3000)
    assert exact.decode(body) + exact.flush() == bytes(3000)


def test_stacked_bomb_is_stopped() -> None:
    bomb = zlib.compress(_bomb(8 << 20))
    decoder = ContentDecoder("gzip, deflate", max_decoded_size=1 << 20)
    assert len(decoder.decode(bomb)) == 1 << 20
    with pytest.raises(LimitExceededError):
        decoder.decode(b"")


def test_inner_layer_bomb_is_bounded() -> None:
    # deflate(gzip stored blocks): the inner layer alone expands 64 MiB of zeros.
    stored = zlib.compressobj(0, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    inner = b"".join(stored.compress(bytes(1 << 20)) for _ in range(64)) + stored.flush()
    bomb = zlib.compress(inner, 9)
    tracemalloc.start()
    try:
        decoder = ContentDecoder("gzip, deflate", max_decoded_size=1 << 20)
        with pytest.raises(LimitExceededError):
            for start in range(0, len(bomb), 4096):
                decoder.decode(bomb[start : start + 4096])
            decoder.flush()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20


def test_passthrough_and_accepted_encodings() -> None:
    assert ContentDecoder("identity").is_passthrough
    assert ContentDecoder("gzip, br-unknown").is_passthrough
    assert not ContentDecoder("deflate").is_passthrough
    encodings = [e.strip() for e in accepted_encodings().split(",")]
    assert encodings[:2] == ["gzip", "deflate"]
    assert set(encodings) <= {"gzip", "deflate", "br", "zstd"}
