"""Tensor data <-> numpy arrays for the JSON form, with the protocol's validation."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NoReturn, cast

import numpy as np

from app.protocol.codecs.datatypes import DTYPES, Datatype, to_dtype
from app.protocol.errors import InvalidInput

_FLOAT = frozenset({Datatype.FP16, Datatype.FP32, Datatype.FP64})
_NARROW_FLOAT = frozenset({Datatype.FP16, Datatype.FP32})
# numpy kinds that JSON values of each family may arrive as
_ACCEPTED_KINDS = {"float": "iuf", "int": "iu", "bool": "b"}
_RAGGED = "data is ragged or holds values of mixed kinds"
_INT64_MAX = 2**63 - 1
MAX_DIMENSIONS = 64
"""numpy's limit on the number of dimensions."""
MAX_ELEMENTS = _INT64_MAX // 8
"""The most elements a shape may describe: numpy's size limit for 8-byte elements."""


def check_shape(shape: object, what: str) -> list[int]:
    """The shape if it is a list of integers >= 0 that numpy can hold, else InvalidInput
    naming the problem: at most MAX_DIMENSIONS dimensions, each within int64, whose non-zero
    ones multiply to at most MAX_ELEMENTS (numpy refuses larger shapes, even empty ones)."""
    if not isinstance(shape, list):
        raise InvalidInput(f"{what}: shape must be a list of integers, got {shape!r}")
    if len(shape) > MAX_DIMENSIONS:
        raise InvalidInput(
            f"{what}: shape has {len(shape)} dimensions, at most {MAX_DIMENSIONS} are supported"
        )
    product = 1
    for dim in shape:
        if type(dim) is not int or not 0 <= dim <= _INT64_MAX:
            _bad_dimension(shape, dim, what)
        if dim:
            product *= dim
    if product > MAX_ELEMENTS:
        raise InvalidInput(
            f"{what}: shape {shape} is too large: its non-zero dimensions multiply to "
            f"{product}, at most {MAX_ELEMENTS} are supported"
        )
    return shape


def _bad_dimension(shape: list[Any], dim: object, what: str) -> NoReturn:
    """InvalidInput naming what is wrong with the dimension `dim` of `shape`."""
    if _beyond_64_bits(dim):
        dim = int(cast(float, dim))
    if type(dim) is not int:
        raise InvalidInput(f"{what}: shape {shape} has a dimension that is not an integer")
    if dim < 0:
        raise InvalidInput(f"{what}: shape {shape} has a negative dimension")
    raise InvalidInput(
        f"{what}: shape {shape} has a dimension too large for 64 bits (at most {_INT64_MAX})"
    )


def _beyond_64_bits(value: object) -> bool:
    """Whether `value` is how orjson reads an integer beyond 64 bits: a whole float."""
    return type(value) is float and value.is_integer() and abs(value) > _INT64_MAX


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
        raise InvalidInput(f"{what}: {_RAGGED}") from None
    _check_fill(array.size, list(array.shape), shape, what)
    family = _family(datatype)
    if array.size and array.dtype.kind not in _ACCEPTED_KINDS[family]:
        array = _coerce(array, values, datatype, what, family)
    if family == "int" and array.size:
        _check_range(array, datatype, what)
    elif datatype in _NARROW_FLOAT and array.size and array.dtype.itemsize > 2:
        _check_float_range(array, datatype, what)
    return array.astype(to_dtype(datatype), copy=False).reshape(shape)


def _check_fill(size: int, nested: list[int], shape: list[int], what: str) -> None:
    """`size` values, nested as `nested`, must fill `shape`: flat, or nested as the shape."""
    if size != element_count(shape):
        raise InvalidInput(f"{what}: {size} values do not fill shape {shape}")
    if len(nested) > 1 and nested != shape:
        raise InvalidInput(f"{what}: nested data of shape {nested} does not match shape {shape}")


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
        if all(type(value) is int or _beyond_64_bits(value) for value in exact.flat):
            raise _out_of_range(min(exact.flat), max(exact.flat), datatype, what)
    expected = {"float": "numbers", "int": "integers", "bool": "true/false values"}[family]
    raise InvalidInput(f"{what}: datatype {datatype} expects {expected} in data")


def _check_range(array: np.ndarray, datatype: Datatype, what: str) -> None:
    info = np.iinfo(cast("np.dtype[np.integer[Any]]", to_dtype(datatype)))
    low, high = int(array.min()), int(array.max())
    if low < int(info.min) or high > int(info.max):
        raise _out_of_range(low, high, datatype, what)


def _out_of_range(low: float, high: float, datatype: Datatype, what: str) -> InvalidInput:
    """The error for integer data from `low` to `high` (a float where JSON held an integer
    beyond 64 bits) outside the range of `datatype`."""
    info = np.iinfo(cast("np.dtype[np.integer[Any]]", to_dtype(datatype)))
    return InvalidInput(
        f"{what}: values from {low} to {high} are out of range for {datatype} "
        f"[{int(info.min)}, {int(info.max)}]"
    )


def _rounding_limit(datatype: Datatype) -> float:
    """The smallest magnitude that rounds to infinity in `datatype`: half an ulp above its
    largest value."""
    info = np.finfo(cast("np.dtype[np.floating[Any]]", to_dtype(datatype)))
    return float(info.max) + 2.0 ** (info.maxexp - 2 - info.nmant)


_ROUNDING_LIMITS = {datatype: _rounding_limit(datatype) for datatype in _NARROW_FLOAT}


def _check_float_range(array: np.ndarray, datatype: Datatype, what: str) -> None:
    """Finite values that would round to infinity in FP16/FP32 (an infinity is a value of
    both, and stays one)."""
    high = float(np.fmax.reduce(np.abs(array, dtype=np.float64), axis=None))  # skips NaNs
    if high == math.inf:  # rare: look again at the finite values alone
        finite = np.abs(array[np.isfinite(array)], dtype=np.float64)
        high = float(finite.max()) if finite.size else 0.0
    if high >= _ROUNDING_LIMITS[datatype]:
        largest = float(np.finfo(cast("np.dtype[np.floating[Any]]", to_dtype(datatype))).max)
        raise InvalidInput(
            f"{what}: values up to {high:g} are out of range for {datatype} (largest {largest:g})"
        )


def _bytes_from_json(data: list[Any], shape: list[int], what: str) -> np.ndarray:
    nested, flat = _flatten_strings(data, what)
    _check_fill(len(flat), nested, shape, what)
    array = np.empty(len(flat), dtype=object)
    array[:] = flat
    return array.reshape(shape)


def _flatten_strings(data: list[Any], what: str) -> tuple[list[int], list[bytes]]:
    """The shape of the nested lists (one level at a time, each regular) and their strings,
    row-major, as bytes."""
    nested = [len(data)]
    level = data
    while level and all(isinstance(item, list) for item in level):
        lengths = {len(item) for item in level}
        if len(lengths) > 1:
            raise InvalidInput(f"{what}: {_RAGGED}")
        nested.append(lengths.pop())
        level = [value for item in level for value in item]
    if not all(isinstance(item, str) for item in level):
        if any(isinstance(item, list) for item in level):
            raise InvalidInput(f"{what}: {_RAGGED}")
        raise InvalidInput(f"{what}: datatype BYTES expects strings in data")
    return nested, [item.encode() for item in level]


_NATIVE = {datatype: dtype.newbyteorder("=") for datatype, dtype in DTYPES.items()}
"""Each datatype's dtype in the machine's byte order, which orjson writes."""


def array_to_json(array: np.ndarray, datatype: Datatype, what: str) -> Any:
    """Flat row-major JSON data for an array: a contiguous array orjson writes natively, or
    a list of strings for BYTES."""
    if datatype is Datatype.BYTES:
        return [_text(item, what) for item in array.ravel()]
    return np.ascontiguousarray(array, dtype=_NATIVE[datatype]).ravel()


def _text(item: object, what: str) -> str:
    if isinstance(item, bytes):
        try:
            return item.decode()
        except UnicodeDecodeError:
            raise InvalidInput(
                f"{what}: BYTES data is not UTF-8 text; ask for it as binary data"
            ) from None
    return str(item)
