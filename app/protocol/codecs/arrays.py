"""Tensor data <-> numpy arrays for the JSON form, with the protocol's validation."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from app.protocol.codecs.datatypes import Datatype, to_dtype
from app.protocol.errors import InvalidInput

_FLOAT = frozenset({Datatype.FP16, Datatype.FP32, Datatype.FP64})
_NARROW_FLOAT = frozenset({Datatype.FP16, Datatype.FP32})
# numpy kinds that JSON values of each family may arrive as
_ACCEPTED_KINDS = {"float": "iuf", "int": "iu", "bool": "b"}


def check_shape(shape: object, what: str) -> list[int]:
    """The shape if it is a list of integers >= 0, else InvalidInput naming the problem."""
    if not isinstance(shape, list):
        raise InvalidInput(f"{what}: shape must be a list of integers, got {shape!r}")
    for dim in shape:
        if type(dim) is not int:
            raise InvalidInput(f"{what}: shape {shape} has a dimension that is not an integer")
        if dim < 0:
            raise InvalidInput(f"{what}: shape {shape} has a negative dimension")
    return shape


def element_count(shape: list[int]) -> int:
    """How many elements a tensor of `shape` holds (exact, even for absurd shapes)."""
    return math.prod(shape)


def _family(datatype: Datatype) -> str:
    if datatype is Datatype.BOOL:
        return "bool"
    return "float" if datatype in _FLOAT else "int"


def array_from_json(data: object, shape: list[int], datatype: Datatype, what: str) -> np.ndarray:
    """Decode JSON tensor data (flat or nested, row-major) into an array of `shape`."""
    if not isinstance(data, list):
        raise InvalidInput(f"{what}: data must be a list, got {type(data).__name__}")
    if datatype is Datatype.BYTES:
        return _bytes_from_json(data, shape, what)
    return array_from_values(data, shape, datatype, what)


def array_from_values(
    values: Sequence[Any], shape: list[int], datatype: Datatype, what: str
) -> np.ndarray:
    """An array of `shape` and `datatype` from a (possibly nested) sequence of numbers or
    booleans, checking the count, the kind of the values and the range of integers."""
    try:
        array = np.array(values)
    except (ValueError, TypeError, OverflowError):
        raise InvalidInput(f"{what}: data is ragged or holds values of mixed kinds") from None
    _check_fill(array, shape, what)
    family = _family(datatype)
    if array.size and array.dtype.kind not in _ACCEPTED_KINDS[family]:
        array = _coerce(array, values, datatype, what, family)
    if family == "int" and array.size:
        _check_range(array, datatype, what)
    elif datatype in _NARROW_FLOAT and array.size and array.dtype.itemsize > 2:
        _check_float_range(array, datatype, what)
    return array.astype(to_dtype(datatype), copy=False).reshape(shape)


def _check_fill(array: np.ndarray, shape: list[int], what: str) -> None:
    expected = element_count(shape)
    if array.size != expected:
        raise InvalidInput(f"{what}: {array.size} values do not fill shape {shape}")
    if array.ndim > 1 and list(array.shape) != shape:
        raise InvalidInput(
            f"{what}: nested data of shape {list(array.shape)} does not match shape {shape}"
        )


def _coerce(
    array: np.ndarray, data: Sequence[Any], datatype: Datatype, what: str, family: str
) -> np.ndarray:
    """Values numpy did not read as the datatype's kind. JSON has no NaN, so a float tensor
    may carry null for it; integers beyond int64 (UINT64 from 2**63) read as floats or
    objects, and stay exact as objects. Anything else is a type error."""
    if family == "float" and array.dtype.kind == "O":
        try:
            return np.array(data, dtype=np.float64)
        except (ValueError, TypeError):
            pass
    if family == "int" and array.dtype.kind in "fO":
        exact = np.array(data, dtype=object)
        if all(type(value) is int for value in exact.flat):
            return exact
    expected = {"float": "numbers", "int": "integers", "bool": "true/false values"}[family]
    raise InvalidInput(f"{what}: datatype {datatype} expects {expected} in data")


def _check_range(array: np.ndarray, datatype: Datatype, what: str) -> None:
    info = np.iinfo(cast("np.dtype[np.integer[Any]]", to_dtype(datatype)))
    low, high = int(array.min()), int(array.max())
    if low < int(info.min) or high > int(info.max):
        raise InvalidInput(
            f"{what}: values from {low} to {high} are out of range for {datatype} "
            f"[{int(info.min)}, {int(info.max)}]"
        )


def _check_float_range(array: np.ndarray, datatype: Datatype, what: str) -> None:
    """Values that would round to infinity in FP16/FP32 (from half an ulp above the largest)."""
    info = np.finfo(cast("np.dtype[np.floating[Any]]", to_dtype(datatype)))
    limit = float(info.max) + 2.0 ** (info.maxexp - 2 - info.nmant)
    high = float(np.fmax.reduce(np.abs(array, dtype=np.float64), axis=None))
    if high >= limit:
        raise InvalidInput(
            f"{what}: values up to {high:g} are out of range for {datatype} "
            f"(largest {float(info.max):g})"
        )


def _bytes_from_json(data: list[Any], shape: list[int], what: str) -> np.ndarray:
    flat = _flatten_strings(data, what)
    expected = element_count(shape)
    if len(flat) != expected:
        raise InvalidInput(f"{what}: {len(flat)} values do not fill shape {shape}")
    array = np.empty(expected, dtype=object)
    array[:] = flat
    return array.reshape(shape)


def _flatten_strings(data: list[Any], what: str) -> list[bytes]:
    flat: list[bytes] = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, str):
                flat.append(item.encode())
            elif isinstance(item, list):
                stack.append(iter(item))
                break
            else:
                raise InvalidInput(f"{what}: datatype BYTES expects strings in data")
        else:
            stack.pop()
    return flat


def array_to_json(array: np.ndarray, datatype: Datatype, what: str) -> Any:
    """Flat row-major JSON data for an array: a contiguous array orjson writes natively, or
    a list of strings for BYTES."""
    if datatype is Datatype.BYTES:
        return [_text(item, what) for item in array.ravel()]
    dtype = to_dtype(datatype).newbyteorder("=")
    return np.ascontiguousarray(array, dtype=dtype).ravel()


def _text(item: object, what: str) -> str:
    if isinstance(item, bytes):
        try:
            return item.decode()
        except UnicodeDecodeError:
            raise InvalidInput(
                f"{what}: BYTES data is not UTF-8 text; ask for it as binary data"
            ) from None
    return str(item)
