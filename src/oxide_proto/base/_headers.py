"""An immutable, case-insensitive, ordered header list.

HTTP header names are case-insensitive (RFC 9110 §5.1) and HTTP/2 sends them in
lower case, so lookups lower-case the name once; the original order and repeated
fields are kept because `set-cookie`-style repeats must survive a round trip.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar, overload

__all__ = ["Headers", "SECRET_HEADERS"]

_T = TypeVar("_T")

# Headers whose values are credentials: never shown by repr, logs or error text.
SECRET_HEADERS = frozenset({"authorization", "api-key", "proxy-authorization", "cookie"})


def _first_values(items: tuple[tuple[str, str], ...]) -> dict[str, str]:
    # A dict keeps each key where it first appeared and the last value given, so only
    # repeated fields need a second pass, from the end, to keep their first value.
    index = dict(items)
    if len(index) != len(items):
        for name, value in reversed(items):
            index[name] = value
    return index


class Headers(Mapping[str, str]):
    """Response or request headers: `headers["x-request-id"]`, `headers.get(...)`.

    Indexing returns the first value of a repeated field (as most HTTP libraries do);
    `get_list(name)` returns all of them.
    """

    __slots__ = ("_index", "_items")

    def __init__(self, items: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: tuple[tuple[str, str], ...] = tuple([(k.lower(), v) for k, v in pairs])
        self._index = _first_values(self._items)

    @classmethod
    def from_raw(cls, raw: Iterable[tuple[bytes, bytes]]) -> Headers:
        """Builds headers from the byte pairs h11 and h2 hand out (latin-1, per RFC 9110)."""
        return cls((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)

    @classmethod
    def _from_lowered(cls, items: tuple[tuple[str, str], ...]) -> Headers:
        # For the core's own callers, whose names are lower-case already.
        headers = cls.__new__(cls)
        headers._items = items
        headers._index = _first_values(items)
        return headers

    def __getitem__(self, name: str) -> str:
        return self._index[name.lower()]

    @overload
    def get(self, name: str, /) -> str | None: ...
    @overload
    def get(self, name: str, /, default: str) -> str: ...
    @overload
    def get(self, name: str, /, default: _T) -> str | _T: ...

    def get(self, name: str, /, default: object = None) -> object:
        # Mapping.get would look up through __getitem__ and catch its KeyError: a
        # raised exception for every absent field (Content-Encoding, on most responses).
        if not isinstance(name, str):
            return default
        return self._index.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def get_list(self, name: str) -> list[str]:
        key = name.lower()
        return [v for k, v in self._items if k == key]

    def multi_items(self) -> tuple[tuple[str, str], ...]:
        """Every field in received order, names lower-cased."""
        return self._items

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._items == other._items
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        shown = [(k, "<redacted>" if k in SECRET_HEADERS else v) for k, v in self._items]
        return f"Headers({shown!r})"


class CheckedHeaders(Headers):
    """Request headers whose names are RFC 9110 tokens and whose values hold no
    control character and no blank at either end, as `build_request` makes them:
    the HTTP/1.1 writer need not check them again."""

    __slots__ = ()
