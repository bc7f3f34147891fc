"""Raw tensor bytes <-> numpy arrays (binary extension and gRPC raw contents)."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from app.protocol.codecs.datatypes import Datatype, to_dtype
from app.protocol.codecs.raw import array_from_raw, array_to_raw
from app.protocol.errors import InvalidInput
from tests.payloads import sample_array

WHAT = "input 't'"
NUMERIC = [d for d in Datatype if d is not Datatype.BYTES]


@pytest.mark.parametrize("datatype", list(Datatype))
def test_every_datatype_round_trips(datatype: Datatype) -> None:
    array = sample_array(datatype)
    raw = array_to_raw(array, datatype)
    again = array_from_raw(raw, [2, 3], datatype, WHAT)
    assert again.shape == (2, 3)
    assert again.dtype == to_dtype(datatype)
    np.testing.assert_array_equal(again, array)


@pytest.mark.parametrize("datatype", NUMERIC)
def test_wire_bytes_are_little_endian_row_major(datatype: Datatype) -> None:
    array = sample_array(datatype)
    expected = array.astype(to_dtype(datatype).newbyteorder("<")).tobytes(order="C")
    assert array_to_raw(array, datatype) == expected
    assert array_to_raw(array.astype(to_dtype(datatype).newbyteorder(">")), datatype) == expected


def test_transposed_arrays_are_written_row_major() -> None:
    array = np.arange(6, dtype=np.int32).reshape(2, 3).T
    assert np.frombuffer(array_to_raw(array, Datatype.INT32), "<i4").tolist() == [0, 3, 1, 4, 2, 5]


def test_bool_is_one_byte_per_element() -> None:
    raw = array_to_raw(np.array([True, False, True]), Datatype.BOOL)
    assert raw == b"\x01\x00\x01"
    assert array_from_raw(raw, [3], Datatype.BOOL, WHAT).tolist() == [True, False, True]


def test_bytes_elements_carry_a_little_endian_length_prefix() -> None:
    array = np.array([b"ab", b"", "é"], dtype=object)
    raw = array_to_raw(array, Datatype.BYTES)
    assert raw == b"\x02\x00\x00\x00ab" + b"\x00\x00\x00\x00" + b"\x02\x00\x00\x00\xc3\xa9"
    assert array_from_raw(raw, [3], Datatype.BYTES, WHAT).tolist() == [b"ab", b"", "é".encode()]


def test_numeric_arrays_share_memory_with_the_buffer() -> None:
    buffer = bytearray(np.arange(8, dtype="<f4").tobytes())
    array = array_from_raw(memoryview(buffer), [2, 4], Datatype.FP32, WHAT)
    assert np.shares_memory(array, np.frombuffer(buffer, dtype=np.uint8))
    buffer[0:4] = np.float32(42).tobytes()
    assert array[0, 0] == 42.0


def test_arrays_over_bytes_are_read_only() -> None:
    array = array_from_raw(b"\x00" * 16, [4], Datatype.INT32, WHAT)
    assert not array.flags.writeable


@pytest.mark.parametrize("datatype", NUMERIC)
@pytest.mark.parametrize("delta", [-1, 1])
def test_numeric_size_mismatch_names_both_sizes(datatype: Datatype, delta: int) -> None:
    size = 6 * to_dtype(datatype).itemsize + delta
    with pytest.raises(InvalidInput) as caught:
        array_from_raw(b"\x00" * size, [2, 3], datatype, WHAT)
    assert caught.value.message == (
        f"{WHAT}: {size} bytes of raw data do not match shape [2, 3] of {datatype} "
        f"({6 * to_dtype(datatype).itemsize} bytes)"
    )


def test_absurd_shapes_are_rejected_by_size() -> None:
    with pytest.raises(InvalidInput, match=r"16 bytes of raw data do not match shape"):
        array_from_raw(b"\x00" * 16, [2**40, 2**40], Datatype.FP32, WHAT)
    with pytest.raises(InvalidInput, match=r"raw data holds 0 BYTES elements, shape needs"):
        array_from_raw(b"", [2**40, 2**40], Datatype.BYTES, WHAT)


def _prefixed(*items: bytes) -> bytes:
    return b"".join(struct.pack("<I", len(item)) + item for item in items)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (_prefixed(b"a")[:3], "BYTES data ends inside an element's length prefix"),
        (_prefixed(b"a") + b"\x01\x00", "BYTES data ends inside an element's length prefix"),
        (_prefixed(b"abc")[:6], "BYTES element of 3 bytes runs past the data"),
        (
            struct.pack("<I", 2**32 - 1) + b"x",
            "BYTES element of 4294967295 bytes runs past the data",
        ),
        (_prefixed(b"a"), "raw data holds 1 BYTES elements, shape needs 2"),
        (_prefixed(b"a", b"b", b"c"), "raw data holds 3 BYTES elements, shape needs 2"),
        (_prefixed(b"a", b"b", b"c", b"d"), "raw data holds 3 BYTES elements, shape needs 2"),
    ],
)
def test_malformed_bytes(raw: bytes, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        array_from_raw(raw, [2], Datatype.BYTES, WHAT)
    assert caught.value.message == f"{WHAT}: {expected}"
