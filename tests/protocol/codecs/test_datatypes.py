"""The datatype table: wire names <-> numpy dtypes."""

from __future__ import annotations

import numpy as np
import pytest

from app.protocol.codecs.datatypes import Datatype, from_dtype, itemsize, parse_datatype, to_dtype
from app.protocol.errors import InvalidInput

SIZES = {
    "BOOL": 1,
    "UINT8": 1,
    "UINT16": 2,
    "UINT32": 4,
    "UINT64": 8,
    "INT8": 1,
    "INT16": 2,
    "INT32": 4,
    "INT64": 8,
    "FP16": 2,
    "FP32": 4,
    "FP64": 8,
    "BYTES": 0,
}


def test_every_protocol_datatype_is_there() -> None:
    assert [datatype.value for datatype in Datatype] == list(SIZES)


@pytest.mark.parametrize("name", list(SIZES))
def test_parse_and_sizes(name: str) -> None:
    datatype = parse_datatype(name, "input 'x'")
    assert datatype is Datatype(name)
    assert itemsize(datatype) == SIZES[name]


@pytest.mark.parametrize("datatype", [d for d in Datatype if d is not Datatype.BYTES])
def test_dtypes_are_little_endian_and_round_trip(datatype: Datatype) -> None:
    dtype = to_dtype(datatype)
    assert dtype.byteorder in "<|="
    assert dtype.itemsize == itemsize(datatype)
    assert from_dtype(dtype) is datatype


@pytest.mark.parametrize("dtype", ["O", "S5", "U3"])
def test_text_and_objects_are_bytes(dtype: str) -> None:
    assert from_dtype(np.dtype(dtype)) is Datatype.BYTES
    assert to_dtype(Datatype.BYTES) == np.dtype(object)


@pytest.mark.parametrize("dtype", ["c8", "c16", "M8[s]", "m8[s]", "V4"])
def test_dtypes_without_a_datatype(dtype: str) -> None:
    assert from_dtype(np.dtype(dtype)) is None


def test_big_endian_arrays_map_to_their_datatype() -> None:
    assert from_dtype(np.dtype(">f4")) is Datatype.FP32


@pytest.mark.parametrize("value", ["FP128", "fp32", "", 32, None, ["FP32"]])
def test_unknown_datatype_names_the_tensor_and_value(value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_datatype(value, "input 'x'")
    assert caught.value.message.startswith(
        f"input 'x': unknown datatype {value!r} (expected one of BOOL, UINT8"
    )
