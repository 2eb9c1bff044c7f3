"""The HTTP/2 request-header encoder against hpack's decoder, and the response-header
decoder against hpack's (RFC 7541).

Every block must decode to the fields given, in order, with credentials marked never
indexed, while the decoder's dynamic table follows the encoder's through insertions,
evictions and table size changes announced by the server. `LeanDecoder` must give
what hpack's decoder gives for any sequence of blocks, well-formed or not: the same
fields, or an error where hpack errs.
"""

from __future__ import annotations

import hpack
import pytest
from hpack.exceptions import HPACKDecodingError, HPACKError
from hpack.huffman import HuffmanEncoder
from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
from hpack.huffman_table import decode_huffman
from hypothesis import given, settings
from hypothesis import strategies as st

from oxide_proto.http._http2_hpack import CachingEncoder, LeanDecoder, huffman_decode

NAMES = [
    b":method",
    b":path",
    b":authority",
    b"accept",
    b"content-type",
    b"content-length",
    b"user-agent",
    b"x-stainless-retry-count",
    b"x-custom",
    b"x-" + b"n" * 150,
]
VALUES = [b"", b"0", b"1", b"GET", b"POST", b"/", b"application/json", b"v" * 200, b"\xff\x01\x7f"]

fields = st.tuples(st.sampled_from(NAMES), st.sampled_from(VALUES) | st.binary(max_size=40))
secret = st.builds(
    hpack.NeverIndexedHeaderTuple, st.sampled_from([b"authorization", b"x-key"]), st.binary()
)
block = st.lists(fields | secret, max_size=12)
# A header block, or a new SETTINGS_HEADER_TABLE_SIZE from the server.
steps = st.lists(block | st.sampled_from([0, 64, 256, 1000, 4096, 8192]), max_size=30)


def _check(
    encoder: CachingEncoder, decoder: hpack.Decoder, headers: list[tuple[bytes, bytes]]
) -> None:
    decoded = decoder.decode(encoder.encode(headers), raw=True)
    assert [tuple(h) for h in decoded] == [tuple(h) for h in headers]
    for sent, got in zip(headers, decoded, strict=True):
        never = isinstance(sent, hpack.NeverIndexedHeaderTuple)
        assert isinstance(got, hpack.NeverIndexedHeaderTuple) == never
    # The decoder's table is the encoder's: same size, within what the server allows.
    assert decoder.header_table._current_size == encoder._size


@settings(max_examples=200)
@given(steps)
def test_blocks_decode_to_the_fields_sent(steps: list[list[tuple[bytes, bytes]] | int]) -> None:
    encoder, decoder = CachingEncoder(), hpack.Decoder()
    for step in steps:
        if isinstance(step, int):
            # h2 applies a new SETTINGS_HEADER_TABLE_SIZE to its encoder when it
            # arrives; the decoder enforces it from then on.
            encoder.header_table_size = step
            decoder.max_allowed_table_size = step
        else:
            _check(encoder, decoder, step)


def test_repeated_fields_are_indexed_and_volatile_ones_are_not() -> None:
    encoder, decoder = CachingEncoder(), hpack.Decoder()
    headers = [
        (b":method", b"POST"),
        (b":path", b"/v1/chat/completions"),
        (b"user-agent", b"oxide"),
        hpack.NeverIndexedHeaderTuple(b"authorization", b"Bearer sk-1"),
        (b"content-length", b"17"),
    ]
    first = encoder.encode(headers)
    assert decoder.decode(first, raw=True)
    second = encoder.encode(headers)
    # :method POST, :path and user-agent as one byte each (static or dynamic index);
    # the credential and the length as literals again.
    literal_rest = len(encoder.encode(headers[3:]))
    assert len(second) == 3 + literal_rest
    assert [tuple(h) for h in decoder.decode(second, raw=True)] == [tuple(h) for h in headers]
    assert len(decoder.header_table.dynamic_entries) == 2  # :path and user-agent only


def test_a_smaller_table_then_a_larger_one_announces_both() -> None:
    encoder, decoder = CachingEncoder(), hpack.Decoder()
    _check(encoder, decoder, [(b"x-a", b"1" * 100), (b"x-b", b"2")])
    encoder.header_table_size = 0
    encoder.header_table_size = 2048
    decoder.max_allowed_table_size = 2048
    block = encoder.encode([(b"x-a", b"1" * 100)])
    assert block[:1] == b"\x20"  # size 0 first: every entry evicted
    assert [tuple(h) for h in decoder.decode(block, raw=True)] == [(b"x-a", b"1" * 100)]
    assert decoder.header_table_size == 2048


def test_an_entry_larger_than_the_table_empties_it() -> None:
    encoder, decoder = CachingEncoder(), hpack.Decoder()
    encoder.header_table_size = decoder.max_allowed_table_size = 200
    _check(encoder, decoder, [(b"x-a", b"1")])
    _check(encoder, decoder, [(b"x-big", b"v" * 300), (b"x-a", b"1")])
    _check(encoder, decoder, [(b"x-a", b"1"), (b"x-big", b"v" * 300)])


def test_following_fields_join_the_next_block_only() -> None:
    encoder, decoder = CachingEncoder(), hpack.Decoder()
    pseudo = [(b":method", b"POST"), (b":path", b"/v1/chat/completions")]
    rest = [(b"user-agent", b"oxide"), hpack.NeverIndexedHeaderTuple(b"authorization", b"k")]
    encoder.following = list(rest)
    decoded = decoder.decode(encoder.encode(pseudo), raw=True)
    assert [tuple(h) for h in decoded] == [tuple(h) for h in pseudo + rest]
    assert isinstance(decoded[-1], hpack.NeverIndexedHeaderTuple)
    assert encoder.following is None
    _check(encoder, decoder, pseudo)  # the block after has the fields it is given


# Blocks drawn from a few, so that the same fields come again, between new ones and
# new table sizes.
_POOL = [
    [(b":method", b"POST"), (b":path", b"/"), (b"accept", b"application/json")],
    [(b":method", b"POST"), hpack.NeverIndexedHeaderTuple(b"authorization", b"k")],
    [(b"x-custom", b"1"), (b"user-agent", b"oxide"), (b"content-length", b"17")],
    [(b"x-" + b"n" * 150, b"v" * 200), (b"x-custom", b"1")],
    [(b"content-length", b"0")],
    [],
]
_again = st.sampled_from(_POOL) | block | st.sampled_from([0, 64, 256, 1000, 4096, 8192])


@settings(max_examples=200)
@given(st.lists(_again, max_size=30))
def test_kept_blocks_decode_to_the_fields_sent(
    steps: list[list[tuple[bytes, bytes]] | int],
) -> None:
    encoder, decoder = CachingEncoder(), hpack.Decoder()
    for step in steps:
        if isinstance(step, int):
            encoder.header_table_size = step
            decoder.max_allowed_table_size = step
        else:
            _check(encoder, decoder, step)
            _check(encoder, decoder, step)  # at once again: from what was kept


def test_a_block_is_kept_once_its_fields_are_in_the_table() -> None:
    encoder, decoder = CachingEncoder(), hpack.Decoder()
    fields = [(b":method", b"POST"), (b"user-agent", b"oxide"), (b"content-length", b"1")]
    first = encoder.encode(fields)  # inserts user-agent: not kept
    assert not encoder._blocks
    second = encoder.encode(fields)
    assert len(encoder._blocks) == 1 and len(second) < len(first)
    fields[-1] = (b"content-length", b"22")  # the length is encoded each time
    third = encoder.encode(fields)
    assert third[:2] == second[:2] and third != second  # the kept part, a new length
    for block in (first, second, third):
        assert decoder.decode(block, raw=True)
    assert decoder.decode(third, raw=True)[-1] == (b"content-length", b"22")
    assert len(encoder._blocks) == 1


def test_a_kept_block_is_not_sent_for_equal_fields_of_another_kind() -> None:
    # A tuple and a NeverIndexedHeaderTuple of the same bytes are equal: the
    # credential is still sent as never indexed.
    encoder, decoder = CachingEncoder(), hpack.Decoder()
    plain = [(b"x-key", b"secret")]
    for _ in range(3):
        _check(encoder, decoder, plain)
    assert encoder._blocks
    _check(encoder, decoder, [hpack.NeverIndexedHeaderTuple(b"x-key", b"secret")])


def test_a_kept_block_is_not_sent_after_the_table_changed() -> None:
    encoder, decoder = CachingEncoder(), hpack.Decoder()
    fields = [(b"x-a", b"1"), (b"x-b", b"2")]
    _check(encoder, decoder, fields)
    _check(encoder, decoder, fields)  # kept: indices 63, 62
    _check(encoder, decoder, [(b"x-c", b"3")])  # a new entry moves them to 64, 63
    _check(encoder, decoder, fields)
    encoder.header_table_size = decoder.max_allowed_table_size = 40  # room for one
    _check(encoder, decoder, fields)
    _check(encoder, decoder, fields)


# -- decoding ---------------------------------------------------------------------------


def _decode_both(
    blocks: list[bytes | int], lean: LeanDecoder, reference: hpack.Decoder
) -> list[object]:
    """Each block's fields from both decoders (an int: a new allowed table size);
    stops at the first error, which both must raise."""
    seen: list[object] = []
    for block in blocks:
        if isinstance(block, int):
            lean.max_allowed_table_size = reference.max_allowed_table_size = block
            continue
        try:
            expected = reference.decode(block, raw=True)
        except (HPACKError, IndexError) as exc:
            with pytest.raises(HPACKError):
                lean.decode(block, raw=True)
            seen.append(type(exc).__name__)
            return seen
        got = lean.decode(block, raw=True)
        assert [tuple(h) for h in got] == [tuple(h) for h in expected]
        assert [type(h) for h in got] == [type(h) for h in expected]
        assert lean.header_table_size == reference.header_table_size
        seen.append(got)
    return seen


encoded_steps = st.lists(
    st.tuples(block, st.booleans()) | st.sampled_from([0, 64, 256, 1000, 4096]), max_size=20
)


@settings(max_examples=200)
@given(encoded_steps)
def test_lean_decoder_reads_what_hpack_encodes(
    steps: list[tuple[list[tuple[bytes, bytes]], bool] | int],
) -> None:
    encoder = hpack.Encoder()
    blocks: list[bytes | int] = []
    for step in steps:
        if isinstance(step, int):
            encoder.header_table_size = step  # announced in the next block
            blocks.append(step)
        else:
            headers, huffman = step
            blocks.append(encoder.encode(headers, huffman=huffman))
    # Both agree; an error comes only where the allowed size fell below the table's
    # before the encoder could say so (it announces a change with its next field).
    _decode_both(blocks, LeanDecoder(), hpack.Decoder())


@settings(max_examples=400)
@given(st.lists(st.binary(max_size=60), max_size=6))
def test_lean_decoder_errs_where_hpack_errs(blocks: list[bytes]) -> None:
    _decode_both(list(blocks), LeanDecoder(), hpack.Decoder())


@settings(max_examples=200)
@given(st.lists(st.tuples(block, st.binary(max_size=8)), max_size=8))
def test_lean_decoder_on_damaged_blocks(
    pairs: list[tuple[list[tuple[bytes, bytes]], bytes]],
) -> None:
    # Well-formed blocks with bytes cut off or added: the same fields or the same failure.
    encoder = hpack.Encoder()
    blocks: list[bytes | int] = []
    for headers, noise in pairs:
        data = encoder.encode(headers)
        blocks.append(data[: len(data) // 2] + noise if noise else data)
    _decode_both(blocks, LeanDecoder(), hpack.Decoder())


def test_lean_decoder_limits_the_header_list() -> None:
    block = hpack.Encoder().encode([(b"x-big", b"v" * 100)] * 3)
    for decoder in (LeanDecoder(), hpack.Decoder()):
        decoder.max_header_list_size = 300
        with pytest.raises(hpack.OversizedHeaderListError):
            decoder.decode(block, raw=True)


def test_lean_decoder_remembers_huffman_strings_it_decoded() -> None:
    encoder, decoder = hpack.Encoder(), LeanDecoder()
    block = encoder.encode([(b"x-plain", b"a value sent without indexing")])
    for _ in range(3):
        assert decoder.decode(block, raw=True) == [(b"x-plain", b"a value sent without indexing")]
    assert list(decoder._decoded.values()).count(b"a value sent without indexing") <= 1


# -- Huffman strings a byte at a step: the same bytes and errors as hpack's -------------

_HUFFMAN = HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH)


def _hpack_huffman(data: bytes) -> bytes | type[HPACKDecodingError]:
    try:
        return decode_huffman(data)
    except HPACKDecodingError:
        return HPACKDecodingError


def _ours(data: bytes) -> bytes | type[HPACKDecodingError]:
    try:
        return huffman_decode(data)
    except HPACKDecodingError:
        return HPACKDecodingError


@settings(max_examples=300, deadline=None)
@given(text=st.binary(max_size=64))
def test_huffman_decode_gives_back_what_was_coded(text: bytes) -> None:
    coded = _HUFFMAN.encode(text)
    assert huffman_decode(coded) == text == decode_huffman(coded)


@settings(max_examples=500, deadline=None)
@given(data=st.binary(max_size=40))
def test_huffman_decode_agrees_with_hpack_on_any_bytes(data: bytes) -> None:
    # Most random bytes are invalid (EOS, a code that does not exist, padding
    # that is too long or not of ones): the same input fails the same way.
    assert _ours(data) == _hpack_huffman(data)


def test_huffman_decode_refuses_what_hpack_refuses() -> None:
    eos = b"\xff\xff\xff\xff"  # 30 bits of EOS, then padding
    for bad, message in (
        (eos, "Invalid"),
        (_HUFFMAN.encode(b"a") + b"\xff", "Invalid|Incomplete"),  # 8+ bits of padding
        (b"\x00", "Incomplete"),  # '0' (00000) then padding 000: not ones
    ):
        with pytest.raises(HPACKDecodingError, match=message):
            huffman_decode(bad)
        with pytest.raises(HPACKDecodingError):
            decode_huffman(bad)
    assert huffman_decode(b"") == b"" == decode_huffman(b"")
    request_id = b"req_3c8befe5fb41456db9966ee69bdeceff"
    assert huffman_decode(_HUFFMAN.encode(request_id)) == request_id
