"""HPACK (RFC 7541): encoding request header blocks, remembering each field's bytes,
and decoding response header blocks.

A client sends nearly the same fields on every request. The general encoder h2 uses
(the hpack package) searches its tables, logs and re-encodes every field each time,
which costs more than the rest of sending a request. This encoder keeps, per
connection, the representation of every field that does not depend on the dynamic
table (a static-table match, a literal that is never or not indexed) and the
position of every field it put in the dynamic table, so a repeated field costs a
dictionary look-up. It takes h2's encoder's place: h2 calls `encode()` for each
header block and sets `header_table_size` when the server changes
SETTINGS_HEADER_TABLE_SIZE.

Decoding is hpack's decoder's work done in one loop (`LeanDecoder`): the general
one logs every field, builds each through several calls and re-decodes the same
Huffman-coded strings response after response; its table and errors are the
same. A Huffman string it has not seen (a request id, a rate-limit count: a few
in every response of the API) is decoded a byte at a step (`huffman_decode`)
rather than hpack's half a byte, about twice as fast.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any, Final

from hpack import Decoder, Encoder, HeaderTuple, NeverIndexedHeaderTuple
from hpack.exceptions import (
    HPACKDecodingError,
    InvalidTableIndex,
    InvalidTableSizeError,
    OversizedHeaderListError,
)
from hpack.huffman import HuffmanEncoder
from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
from hpack.huffman_table import (
    HUFFMAN_COMPLETE,
    HUFFMAN_EMIT_SYMBOL,
    HUFFMAN_FAIL,
    HUFFMAN_TABLE,
)
from hpack.table import HeaderTable

# Internal to the HTTP/2 connection; nothing here is public.
__all__: list[str] = []

_DEFAULT_TABLE_SIZE: Final = 4096  # RFC 7541 §4.2, SETTINGS_HEADER_TABLE_SIZE's default
_ENTRY_OVERHEAD: Final = 32  # RFC 7541 §4.1
_STATIC_LENGTH: Final = len(HeaderTable.STATIC_TABLE)

# First-byte patterns of the field representations (RFC 7541 §6).
_INDEXED: Final = 0x80  # §6.1, 7-bit index
_INCREMENTAL: Final = 0x40  # §6.2.1, 6-bit name index
_NOT_INDEXED: Final = 0x00  # §6.2.2, 4-bit name index
_NEVER_INDEXED: Final = 0x10  # §6.2.3, 4-bit name index
_SIZE_UPDATE: Final = 0x20  # §6.3, 5-bit size

# Fields whose value changes from request to request: indexing them would only push
# the fields that repeat out of the dynamic table.
_VOLATILE: Final = frozenset({b"content-length", b"idempotency-key"})

_STATIC_FIELDS: Final[dict[tuple[bytes, bytes], int]] = {}
_STATIC_NAMES: Final[dict[bytes, int]] = {}
for _index, _entry in enumerate(HeaderTable.STATIC_TABLE, 1):
    _STATIC_FIELDS.setdefault(_entry, _index)
    _STATIC_NAMES.setdefault(_entry[0], _index)

_HUFFMAN: Final = HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH)
_SHORT_INDEXED: Final = tuple(bytes((_INDEXED | i,)) for i in range(127))
# Bounds the memory a connection spends on representations (each is a few bytes).
_MAX_REMEMBERED: Final = 1024
# Bounds the header blocks a connection remembers (`CachingEncoder.encode`).
_MAX_BLOCKS: Final = 32


def _integer(value: int, prefix_bits: int, pattern: int) -> bytearray:
    """`value` with an N-bit prefix after the pattern bits (RFC 7541 §5.1)."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytearray((pattern | value,))
    out = bytearray((pattern | limit,))
    value -= limit
    while value >= 0x80:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return out


def _string(data: bytes) -> bytes:
    """A string literal, Huffman-coded when that is shorter (RFC 7541 §5.2)."""
    coded = _HUFFMAN.encode(data)
    if len(coded) < len(data):
        return bytes(_integer(len(coded), 7, 0x80)) + coded
    return bytes(_integer(len(data), 7, 0x00)) + data


def _literal(name: bytes, value: bytes, pattern: int, prefix_bits: int) -> bytes:
    """A literal field, naming the static table's entry when it has the name (§6.2)."""
    name_index = _STATIC_NAMES.get(name, 0)
    head = _integer(name_index, prefix_bits, pattern)
    if not name_index:
        head += _string(name)
    return bytes(head) + _string(value)


class CachingEncoder(Encoder):
    """An HPACK encoder for one connection's request header blocks.

    Fields are (name, value) bytes tuples in the order they are sent; an
    `hpack.NeverIndexedHeaderTuple` (credentials) is sent as never indexed
    (RFC 7541 §7.1.3). Other fields go into the dynamic table on first use, except
    those whose value changes with each request (content-length), which are sent
    as literals without indexing.

    A client sends the same fields request after request, in the same order:
    once they are all in the table, the block they make is the same bytes every
    time. Such a block is kept, and sent again as long as the table has not
    changed since and the fields are of the same types (a `tuple` and an
    `hpack.NeverIndexedHeaderTuple` of the same bytes are equal, but are not
    sent alike). A trailing content-length is encoded each time.
    """

    def __init__(self) -> None:
        super().__init__()
        self._max_size = _DEFAULT_TABLE_SIZE
        self._size = 0
        # The dynamic table, oldest first: (field, insertion number, entry size).
        self._entries: deque[tuple[tuple[bytes, bytes], int, int]] = deque()
        self._inserted = 0  # insertions so far: an entry's index follows from its number
        self._positions: dict[tuple[bytes, bytes], int] = {}  # field -> insertion number
        self._fixed: dict[tuple[bytes, bytes], bytes] = {}  # representations that never change
        self._secret: dict[tuple[bytes, bytes], bytes] = {}  # never-indexed representations
        self._smallest: int | None = None  # smallest table size since the last block
        # Changes of the dynamic table (an insertion or a new size): an entry's
        # index, so a block that refers to it, holds until the next.
        self._changes = 0
        # Blocks made without changing the table, by their fields: (the fields'
        # types, `_changes` when made, the block).
        self._blocks: dict[tuple[Any, ...], tuple[tuple[type, ...], int, bytes]] = {}
        # Fields that follow those `encode()` is given, in the next block only: the
        # connection hands h2 the pseudo-fields alone and the rest to the encoder.
        self.following: list[Any] | None = None

    @property
    def header_table_size(self) -> int:
        return self._max_size

    @header_table_size.setter
    def header_table_size(self, value: int) -> None:
        # The server's decoder allows `value` bytes from now on: shrink to fit, and
        # say so at the start of the next header block (RFC 7541 §4.2, §6.3).
        if value == self._max_size:
            return
        self._max_size = value
        self._changes += 1
        self._evict(0)
        # Of several changes between two blocks, the smallest and the last are told.
        self._smallest = value if self._smallest is None else min(self._smallest, value)

    def encode(self, headers: Iterable[Any], huffman: bool = True) -> bytes:
        """The header block for `headers` (bytes pairs, pseudo-fields first), then
        `following` when it is set (it is used once)."""
        following = self.following
        if following is not None:
            self.following = None
            fields = (*headers, *following)
        else:
            fields = tuple(headers)
        if self._smallest is not None:
            return self._encode(fields)  # a new table size to announce first
        tail: tuple[Any, ...] = ()
        if fields and fields[-1][0] in _VOLATILE:
            fields, tail = fields[:-1], fields[-1:]
        changes = self._changes
        kinds = tuple(map(type, fields))
        kept = self._blocks.get(fields)
        if kept is not None and kept[1] == changes and kept[0] == kinds:
            block = kept[2]
        else:
            block = self._encode(fields)
            if self._changes == changes:
                if len(self._blocks) >= _MAX_BLOCKS:
                    self._blocks.clear()
                self._blocks[fields] = (kinds, changes, block)
        return block + self._encode(tail) if tail else block

    def _encode(self, headers: Iterable[Any]) -> bytes:
        """The representations of `headers`, after a table size update if one is due."""
        parts: list[bytes] = []
        if self._smallest is not None:
            if self._smallest < self._max_size:
                parts.append(bytes(_integer(self._smallest, 5, _SIZE_UPDATE)))
            parts.append(bytes(_integer(self._max_size, 5, _SIZE_UPDATE)))
            self._smallest = None
        fixed, positions = self._fixed, self._positions
        for header in headers:
            if type(header) is not tuple:
                if isinstance(header, HeaderTuple) and not header.indexable:
                    parts.append(self._never_indexed(header[0], header[1]))
                    continue
                header = (header[0], header[1])
            encoded = fixed.get(header)
            if encoded is not None:
                parts.append(encoded)
                continue
            number = positions.get(header)
            if number is not None:
                index = _STATIC_LENGTH + 1 + self._inserted - number
                parts.append(
                    _SHORT_INDEXED[index] if index < 127 else bytes(_integer(index, 7, _INDEXED))
                )
                continue
            parts.append(self._first(header))
        return b"".join(parts)

    def _first(self, header: tuple[bytes, bytes]) -> bytes:
        """A field not seen yet (or evicted since)."""
        name, value = header
        static = _STATIC_FIELDS.get(header)
        if static is not None:
            return self._remember(header, bytes(_integer(static, 7, _INDEXED)))
        if name in _VOLATILE:
            return self._remember(header, _literal(name, value, _NOT_INDEXED, 4))
        encoded = _literal(name, value, _INCREMENTAL, 6)
        self._insert(header, len(name) + len(value) + _ENTRY_OVERHEAD)
        return encoded

    def _remember(self, header: tuple[bytes, bytes], encoded: bytes) -> bytes:
        if len(self._fixed) >= _MAX_REMEMBERED:
            self._fixed.clear()
        self._fixed[header] = encoded
        return encoded

    def _never_indexed(self, name: bytes, value: bytes) -> bytes:
        key = (name, value)
        encoded = self._secret.get(key)
        if encoded is None:
            if len(self._secret) >= _MAX_REMEMBERED:
                self._secret.clear()
            encoded = self._secret[key] = _literal(name, value, _NEVER_INDEXED, 4)
        return encoded

    def _insert(self, header: tuple[bytes, bytes], size: int) -> None:
        # The decoder adds the entry after evicting what it must; an entry larger
        # than the whole table empties it and is not added (RFC 7541 §4.4).
        self._changes += 1
        self._evict(size)
        if size <= self._max_size:
            self._inserted += 1
            self._entries.append((header, self._inserted, size))
            self._positions[header] = self._inserted
            self._size += size

    def _evict(self, room: int) -> None:
        """Drops the oldest entries until `room` more bytes fit (RFC 7541 §4.3, §4.4)."""
        entries, positions = self._entries, self._positions
        while entries and self._size + room > self._max_size:
            header, _, size = entries.popleft()
            del positions[header]
            self._size -= size


_STATIC: Final = HeaderTable.STATIC_TABLE
_new_tuple: Final = tuple.__new__
# Huffman-coded strings decoded before, by their coded bytes (bounded).
_MAX_DECODED: Final = 512
_MAX_STRING: Final = 256  # longer strings are decoded every time, not remembered
# An integer that needs more continuation bytes than this is refused (RFC 7541
# §5.1 lets a decoder bound them): no table index or length gets near 2**28.
_MAX_INTEGER_SHIFT: Final = 28


class LeanDecoder(Decoder):
    """hpack's decoder, in one loop (see the module docstring).

    h2 calls `decode(block, raw=True)` for each header block, and sets
    `max_header_list_size` and `max_allowed_table_size` from the settings; the
    errors are hpack's (h2 turns them into protocol errors).
    """

    def __init__(self) -> None:
        super().__init__()
        self._table_max = self.header_table.maxsize
        self._table_size = 0
        # The dynamic table, newest last: (name, value, entry size).
        self._entries: deque[tuple[bytes, bytes, int]] = deque()
        self._decoded: dict[bytes, bytes] = {}

    @property
    def header_table_size(self) -> int:
        return self._table_max

    @header_table_size.setter
    def header_table_size(self, value: int) -> None:
        self._table_max = value
        self._evict(0)

    def decode(self, data: bytes, raw: bool = False) -> list[HeaderTuple]:
        if not raw:
            return [
                _new_tuple(type(h), (h[0].decode("utf-8"), h[1].decode("utf-8")))
                for h in self.decode(data, raw=True)
            ]
        if type(data) is not bytes:
            data = bytes(data)
        headers: list[HeaderTuple] = []
        size = 0
        limit = self.max_header_list_size
        pos, end = 0, len(data)
        while pos < end:
            first = data[pos]
            kind: type[HeaderTuple] = HeaderTuple
            if first & 0x80:  # indexed field (§6.1)
                index, pos = _decode_integer(data, pos, 0x7F)
                name, value = self._field(index)
            elif first & 0x20 and not first & 0x40:  # dynamic table size update (§6.3)
                if headers:
                    raise HPACKDecodingError("Table size update not at the start of the block")
                new_size, pos = _decode_integer(data, pos, 0x1F)
                if new_size > self.max_allowed_table_size:
                    raise InvalidTableSizeError("Encoder exceeded max allowable table size")
                self.header_table_size = new_size
                continue
            else:  # a literal (§6.2), with its name indexed or given
                mask = 0x3F if first & 0x40 else 0x0F
                if first & mask:
                    index, pos = _decode_integer(data, pos, mask)
                    name = self._field(index)[0]
                else:
                    name, pos = self._string(data, pos + 1)
                value, pos = self._string(data, pos)
                if first & 0x40:
                    self._insert(name, value)
                elif first & 0x10:
                    kind = NeverIndexedHeaderTuple
            headers.append(_new_tuple(kind, (name, value)))
            size += len(name) + len(value) + _ENTRY_OVERHEAD
            if size > limit:
                raise OversizedHeaderListError(
                    f"A header list larger than {limit} has been received"
                )
        if self._table_max > self.max_allowed_table_size:
            raise InvalidTableSizeError("Encoder did not shrink table size to within the max")
        return headers

    def _field(self, index: int) -> tuple[bytes, bytes]:
        if 0 < index <= _STATIC_LENGTH:
            return _STATIC[index - 1]
        entries = self._entries
        position = index - _STATIC_LENGTH
        if index <= 0 or position > len(entries):
            raise InvalidTableIndex(f"Invalid table index {index}")
        name, value, _ = entries[-position]
        return name, value

    def _string(self, data: bytes, pos: int) -> tuple[bytes, int]:
        """The string literal at `pos` (§5.2) and where it ends."""
        if pos >= len(data):
            raise HPACKDecodingError("Truncated header block")
        huffman = data[pos] & 0x80
        length, pos = _decode_integer(data, pos, 0x7F)
        stop = pos + length
        if stop > len(data):
            raise HPACKDecodingError("Truncated header block")
        raw = data[pos:stop]
        if not huffman:
            return raw, stop
        text = self._decoded.get(raw)
        if text is None:
            text = huffman_decode(raw)
            if length <= _MAX_STRING:
                if len(self._decoded) >= _MAX_DECODED:
                    self._decoded.clear()
                self._decoded[raw] = text
        return text, stop

    def _insert(self, name: bytes, value: bytes) -> None:
        # An entry larger than the whole table empties it and is not added (§4.4).
        size = len(name) + len(value) + _ENTRY_OVERHEAD
        self._evict(size)
        if size <= self._table_max:
            self._entries.append((name, value, size))
            self._table_size += size

    def _evict(self, room: int) -> None:
        entries = self._entries
        while entries and self._table_size + room > self._table_max:
            self._table_size -= entries.popleft()[2]


# Decoding a Huffman string a byte at a time: hpack's state machine (nghttp2's)
# reads half a byte a step; two of its steps make one here, learnt the first time
# a (state, byte) pair comes and kept in the state's row. A step is (the next
# state, the bytes it emits, whether the string may end there), or None when the
# byte makes the string invalid (the EOS symbol, or a code that does not exist).
_Step = tuple[int, bytes, bool] | None
_ROWS: Final[list[list[_Step | bool] | None]] = [None] * 256
_UNKNOWN: Final = False  # a step not learnt yet (a step is a tuple or None)


def _learn(state: int, byte: int) -> _Step:
    out = bytearray()
    flags = 0
    for nibble in (byte >> 4, byte & 0x0F):
        state, flags, symbol = HUFFMAN_TABLE[state * 16 + nibble]
        if flags & HUFFMAN_FAIL:
            return None
        if flags & HUFFMAN_EMIT_SYMBOL:
            out.append(symbol)
    return state, bytes(out), bool(flags & HUFFMAN_COMPLETE)


def huffman_decode(data: bytes) -> bytes:
    """A Huffman-coded string literal's bytes (RFC 7541 §5.2, Appendix B).

    Raises `HPACKDecodingError` as hpack's `decode_huffman` does: for the EOS
    symbol or an invalid code, and for padding longer than 7 bits or not of ones.
    The rows hold at most 256 x 256 steps, whatever the input.
    """
    rows = _ROWS
    state = 0
    complete = True
    parts: list[bytes] = []
    for byte in data:
        row = rows[state]
        if row is None:
            row = rows[state] = [_UNKNOWN] * 256
        step = row[byte]
        if step is _UNKNOWN:
            step = row[byte] = _learn(state, byte)
        if step is None:
            raise HPACKDecodingError("Invalid Huffman string")
        state, emitted, complete = step  # type: ignore[misc]
        if emitted:
            parts.append(emitted)
    if not complete:
        raise HPACKDecodingError("Incomplete Huffman string")
    return b"".join(parts)


def _decode_integer(data: bytes, pos: int, mask: int) -> tuple[int, int]:
    """The integer whose prefix is the `mask` bits of data[pos] (§5.1), and where it ends."""
    value = data[pos] & mask
    pos += 1
    if value < mask:
        return value, pos
    shift = 0
    end = len(data)
    while True:
        if pos >= end:
            raise HPACKDecodingError("Truncated header block")
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > _MAX_INTEGER_SHIFT:
            raise HPACKDecodingError("An integer too large for any header block")
