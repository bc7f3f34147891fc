"""The OIP datatype table: wire names <-> numpy dtypes (little-endian on the wire)."""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from app.protocol.errors import InvalidInput


class Datatype(StrEnum):
    """Tensor element types of the Open Inference Protocol."""

    BOOL = "BOOL"
    UINT8 = "UINT8"
    UINT16 = "UINT16"
    UINT32 = "UINT32"
    UINT64 = "UINT64"
    INT8 = "INT8"
    INT16 = "INT16"
    INT32 = "INT32"
    INT64 = "INT64"
    FP16 = "FP16"
    FP32 = "FP32"
    FP64 = "FP64"
    BYTES = "BYTES"


DTYPES: dict[Datatype, np.dtype[np.generic]] = {
    Datatype.BOOL: np.dtype(np.bool_),
    Datatype.UINT8: np.dtype("<u1"),
    Datatype.UINT16: np.dtype("<u2"),
    Datatype.UINT32: np.dtype("<u4"),
    Datatype.UINT64: np.dtype("<u8"),
    Datatype.INT8: np.dtype("<i1"),
    Datatype.INT16: np.dtype("<i2"),
    Datatype.INT32: np.dtype("<i4"),
    Datatype.INT64: np.dtype("<i8"),
    Datatype.FP16: np.dtype("<f2"),
    Datatype.FP32: np.dtype("<f4"),
    Datatype.FP64: np.dtype("<f8"),
    Datatype.BYTES: np.dtype(np.object_),
}
"""The numpy dtype holding elements of each datatype: little-endian as on the wire, BYTES
elements Python bytes in an object array (`to_dtype` as a table, for the hot path)."""
_BY_KIND_SIZE: dict[tuple[str, int], Datatype] = {
    (dtype.kind, dtype.itemsize): datatype
    for datatype, dtype in DTYPES.items()
    if datatype is not Datatype.BYTES
}
_BY_DTYPE = {dtype: datatype for datatype, dtype in DTYPES.items()}
_NAMES = ", ".join(Datatype)
_BY_NAME = {datatype.value: datatype for datatype in Datatype}


def parse_datatype(value: object, what: str) -> Datatype:
    """The Datatype named by a wire value, or InvalidInput naming `what` and the value."""
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    raise InvalidInput(f"{what}: unknown datatype {value!r} (expected one of {_NAMES})")


def to_dtype(datatype: Datatype) -> np.dtype[np.generic]:
    """The numpy dtype holding elements of `datatype` (object for BYTES)."""
    return DTYPES[datatype]


def from_dtype(dtype: np.dtype[np.generic]) -> Datatype | None:
    """The Datatype for a numpy dtype (strings and objects are BYTES), None if it has none."""
    found = _BY_DTYPE.get(dtype)  # the usual dtypes, in one lookup
    if found is not None:
        return found
    if dtype.kind in "OSU":
        return Datatype.BYTES
    return _BY_KIND_SIZE.get((dtype.kind, dtype.itemsize))


def itemsize(datatype: Datatype) -> int:
    """Bytes per element on the wire; 0 for BYTES (variable length)."""
    return 0 if datatype is Datatype.BYTES else DTYPES[datatype].itemsize
