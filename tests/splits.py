"""Feeding a decoder its input whole, byte by byte and at random split points.

Every decoder test goes through `feeds()` so that all three ways give the same
events: a parser that only works when a line arrives in one piece is a bug.
"""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import strategies as st


def whole(data: bytes) -> list[bytes]:
    return [data]


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def split_at(data: bytes, points: list[int]) -> list[bytes]:
    cuts = sorted({p % (len(data) + 1) for p in points})
    chunks, last = [], 0
    for cut in cuts:
        chunks.append(data[last:cut])
        last = cut
    chunks.append(data[last:])
    return chunks


def split_points() -> st.SearchStrategy[list[int]]:
    """Hypothesis strategy for `split_at`'s points."""
    return st.lists(st.integers(min_value=0, max_value=1 << 20), max_size=20)


def fixed_feeds(data: bytes) -> Iterator[tuple[str, list[bytes]]]:
    """The deterministic ways: whole and byte by byte."""
    yield "whole", whole(data)
    yield "bytewise", bytewise(data)
