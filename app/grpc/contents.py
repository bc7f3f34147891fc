"""Typed tensor contents (`InferTensorContents`) <-> numpy arrays.

Repeated numeric fields travel packed: the field's key, the byte length as a varint, then
the values. For the fixed-width ones (fp32, fp64 and bool, one byte each) those bytes are
the array itself, so they convert with one `np.frombuffer` (in) or one parse of the bytes
(out) instead of a Python object per element. Varint fields go through `np.fromiter`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.wire_format import field_key, read_varint, varint
from app.protocol.codecs.arrays import array_from_values, element_count
from app.protocol.codecs.datatypes import Datatype
from app.protocol.errors import InvalidInput

# The typed `contents` field for each datatype; FP16 has none and travels raw only.
CONTENTS_FIELD: dict[Datatype, str] = {
    Datatype.BOOL: "bool_contents",
    Datatype.UINT8: "uint_contents",
    Datatype.UINT16: "uint_contents",
    Datatype.UINT32: "uint_contents",
    Datatype.UINT64: "uint64_contents",
    Datatype.INT8: "int_contents",
    Datatype.INT16: "int_contents",
    Datatype.INT32: "int_contents",
    Datatype.INT64: "int64_contents",
    Datatype.FP32: "fp32_contents",
    Datatype.FP64: "fp64_contents",
    Datatype.BYTES: "bytes_contents",
}
# numpy dtypes of the fields: fixed-width ones as packed on the wire, varint ones as held
_FIXED: dict[str, np.dtype[Any]] = {
    "bool_contents": np.dtype(np.bool_),
    "fp32_contents": np.dtype("<f4"),
    "fp64_contents": np.dtype("<f8"),
}
_VARINT: dict[str, np.dtype[Any]] = {
    "int_contents": np.dtype(np.int32),
    "int64_contents": np.dtype(np.int64),
    "uint_contents": np.dtype(np.uint32),
    "uint64_contents": np.dtype(np.uint64),
}
_KEYS = {name: field_key(pb.InferTensorContents, name) for name in _FIXED}


def array_from_contents(
    contents: pb.InferTensorContents, shape: list[int], datatype: Datatype, what: str
) -> np.ndarray:
    """The array that typed contents hold, checked as JSON data is (count, kinds, ranges)."""
    field = CONTENTS_FIELD.get(datatype)
    if field is None:
        raise InvalidInput(f"{what}: datatype {datatype} has no typed contents; send it raw")
    others = [d.name for d, _ in contents.ListFields() if d.name != field]
    if others:
        raise InvalidInput(f"{what}: datatype {datatype} takes {field}, got {', '.join(others)}")
    if datatype is Datatype.BYTES:
        return _bytes_array(contents.bytes_contents, shape, what)
    if field in _FIXED:
        values = np.frombuffer(_packed_values(contents, field), dtype=_FIXED[field])
    else:
        repeated = getattr(contents, field)
        values = np.fromiter(repeated, dtype=_VARINT[field], count=len(repeated))
    # numpy reads an array as it reads a list; the checks and messages stay those of JSON data
    return array_from_values(cast("Sequence[Any]", values), shape, datatype, what)


def _bytes_array(values: Sequence[bytes], shape: list[int], what: str) -> np.ndarray:
    if len(values) != element_count(shape):
        raise InvalidInput(f"{what}: {len(values)} values do not fill shape {shape}")
    array = np.empty(len(values), dtype=object)
    array[:] = list(values)
    return array.reshape(shape)


def _packed_values(contents: pb.InferTensorContents, field: str) -> bytes | memoryview:
    """The packed bytes of `field`, the only field set in `contents`."""
    wire = contents.SerializeToString()
    if not wire:
        return b""
    length, start = read_varint(wire, 1)  # after the one-byte key
    if wire[:1] != _KEYS[field] or start + length != len(wire):
        raise InvalidInput(f"typed contents: {field} is not packed as expected")
    return memoryview(wire)[start:]


def array_to_contents(
    array: np.ndarray, datatype: Datatype, target: pb.InferTensorContents
) -> None:
    """Fill `target`'s field for `datatype` with the array's elements, row-major."""
    field = CONTENTS_FIELD[datatype]
    if datatype is Datatype.BYTES:
        target.bytes_contents.extend(
            item if isinstance(item, bytes) else str(item).encode() for item in array.ravel()
        )
    elif field in _FIXED:
        packed = np.ascontiguousarray(array, dtype=_FIXED[field]).tobytes()
        target.MergeFromString(_KEYS[field] + varint(len(packed)) + packed)
    else:
        getattr(target, field).extend(array.ravel().tolist())
