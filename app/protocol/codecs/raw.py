"""Raw tensor bytes <-> numpy arrays: the binary tensor extension and gRPC raw contents.

Row-major, little-endian; BOOL is one byte per element; each BYTES element is a 4-byte
little-endian length followed by that many bytes.
"""

from __future__ import annotations

import struct

import numpy as np

from app.protocol.codecs.arrays import element_count
from app.protocol.codecs.datatypes import DTYPES, Datatype, to_dtype
from app.protocol.errors import InvalidInput

Buffer = bytes | bytearray | memoryview
_LENGTH = struct.Struct("<I")


def array_from_raw(raw: Buffer, shape: list[int], datatype: Datatype, what: str) -> np.ndarray:
    """An array over `raw` without copying (read-only), or InvalidInput if sizes disagree."""
    if datatype is Datatype.BYTES:
        return _bytes_from_raw(raw, element_count(shape), what).reshape(shape)
    dtype = DTYPES[datatype]
    expected = element_count(shape) * dtype.itemsize
    if len(raw) != expected:
        raise InvalidInput(
            f"{what}: {len(raw)} bytes of raw data do not match shape {shape} of {datatype} "
            f"({expected} bytes)"
        )
    if datatype is Datatype.BOOL:
        return _bool_array(np.frombuffer(raw, dtype=np.uint8), what).reshape(shape)
    return np.ndarray(shape, dtype, raw)  # np.frombuffer(...).reshape(shape) in one call


def _bool_array(octets: np.ndarray, what: str) -> np.ndarray:
    """The BOOL elements of one byte each, which must be 0 (false) or 1 (true)."""
    if octets.size and octets.max() > 1:
        index = int(np.argmax(octets > 1))
        raise InvalidInput(
            f"{what}: BOOL element {index} is byte {int(octets[index])}; BOOL bytes must be 0 or 1"
        )
    return octets.view(np.bool_)


def _bytes_from_raw(raw: Buffer, count: int, what: str) -> np.ndarray:
    view = memoryview(raw)
    items: list[bytes] = []
    offset, end = 0, len(view)
    while offset < end:
        if offset + 4 > end:
            raise InvalidInput(f"{what}: BYTES data ends inside an element's length prefix")
        (length,) = _LENGTH.unpack_from(view, offset)
        offset += 4
        if offset + length > end:
            raise InvalidInput(f"{what}: BYTES element of {length} bytes runs past the data")
        items.append(bytes(view[offset : offset + length]))
        offset += length
        if len(items) > count:
            break
    if len(items) != count:
        raise InvalidInput(
            f"{what}: raw data holds {len(items)} BYTES elements, shape needs {count}"
        )
    array = np.empty(count, dtype=object)
    array[:] = items
    return array


def _bytes_elements(array: np.ndarray) -> bytes:
    parts: list[bytes] = []
    for item in array.ravel():
        data = item if isinstance(item, bytes) else str(item).encode()
        parts.append(_LENGTH.pack(len(data)))
        parts.append(data)
    return b"".join(parts)


def raw_view(array: np.ndarray, datatype: Datatype) -> Buffer:
    """The raw little-endian bytes of an array of `datatype`: a view of the array itself
    when it is already contiguous and little-endian (no copy), bytes otherwise."""
    if datatype is Datatype.BYTES:
        return _bytes_elements(array)
    dtype = DTYPES[datatype]
    if array.dtype == dtype:
        try:
            return array.data.cast("B")  # the usual case: one memoryview, no numpy call
        except TypeError:  # not C-contiguous, or empty (such memoryviews do not cast)
            pass
    contiguous = np.ascontiguousarray(array, dtype=dtype)
    return contiguous.reshape(-1).view(np.uint8).data


def array_to_raw(array: np.ndarray, datatype: Datatype) -> bytes:
    """The raw little-endian bytes of an array of `datatype`, as a bytes object."""
    if datatype is Datatype.BYTES:
        return _bytes_elements(array)
    return np.ascontiguousarray(array, dtype=to_dtype(datatype)).tobytes()
