"""JSON tensor data <-> numpy arrays: every datatype, flat and nested, and every way data can
be wrong."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import orjson
import pytest

from app.protocol.codecs.arrays import array_from_json, array_to_json, check_shape, element_count
from app.protocol.codecs.datatypes import Datatype, to_dtype
from app.protocol.errors import InvalidInput
from tests.payloads import SAMPLES

WHAT = "input 't'"


def _json(value: Any) -> Any:
    """`value` as a client would receive it: through orjson and back."""
    return orjson.loads(orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY))


@pytest.mark.parametrize("datatype", list(Datatype))
def test_every_datatype_round_trips_through_json(datatype: Datatype) -> None:
    array = array_from_json(SAMPLES[datatype], [2, 3], datatype, WHAT)
    assert array.shape == (2, 3)
    assert array.dtype == to_dtype(datatype)
    wire = _json(array_to_json(array, datatype, WHAT))
    if datatype is not Datatype.FP32:  # FP32 values print as their nearest float32
        assert wire == SAMPLES[datatype]
    again = array_from_json(wire, [2, 3], datatype, WHAT)
    np.testing.assert_array_equal(again, array)


@pytest.mark.parametrize("datatype", [d for d in Datatype if d is not Datatype.BYTES])
def test_nested_data_equals_flat_data(datatype: Datatype) -> None:
    flat = SAMPLES[datatype]
    nested = [flat[0:3], flat[3:6]]
    np.testing.assert_array_equal(
        array_from_json(nested, [2, 3], datatype, WHAT),
        array_from_json(flat, [2, 3], datatype, WHAT),
    )


def test_nested_bytes_are_read_row_major() -> None:
    array = array_from_json([["a", "b"], ["c", "d"]], [2, 2], Datatype.BYTES, WHAT)
    assert array.tolist() == [[b"a", b"b"], [b"c", b"d"]]


def test_output_is_flat_whatever_the_shape() -> None:
    array = np.arange(6, dtype=np.int32).reshape(2, 3).T
    assert _json(array_to_json(array, Datatype.INT32, WHAT)) == [0, 3, 1, 4, 2, 5]


def test_big_endian_arrays_are_written_by_value() -> None:
    array = np.array([1.5, 2.5], dtype=">f4")
    assert _json(array_to_json(array, Datatype.FP32, WHAT)) == [1.5, 2.5]


def test_scalar_and_empty_shapes() -> None:
    assert array_from_json([7], [], Datatype.INT32, WHAT).shape == ()
    empty = array_from_json([], [0, 4], Datatype.FP32, WHAT)
    assert empty.shape == (0, 4)
    assert empty.dtype == np.float32
    assert array_from_json([], [0], Datatype.BYTES, WHAT).shape == (0,)


def test_null_is_nan_for_floats() -> None:
    array = array_from_json([1.0, None, [2.0, None][0]], [3], Datatype.FP32, WHAT)
    assert array.dtype == np.float32
    assert np.isnan(array[1])
    nested = array_from_json([[None, 1.0], [2.0, 3.0]], [2, 2], Datatype.FP64, WHAT)
    assert np.isnan(nested[0, 0])


def test_integers_are_accepted_for_floats() -> None:
    array = array_from_json([1, 2], [2], Datatype.FP32, WHAT)
    assert array.dtype == np.float32
    assert array.tolist() == [1.0, 2.0]


def _rejected(data: Any, shape: list[int], datatype: Datatype) -> str:
    with pytest.raises(InvalidInput) as caught:
        array_from_json(data, shape, datatype, WHAT)
    assert caught.value.message.startswith(f"{WHAT}: ")
    return caught.value.message


@pytest.mark.parametrize(
    ("data", "shape", "expected"),
    [
        ([1, 2, 3, 4, 5, 6], [1, 4], "input 't': 6 values do not fill shape [1, 4]"),
        ([1, 2, 3], [2, 2], "input 't': 3 values do not fill shape [2, 2]"),
        ([1, 2, 3, 4], [2**40, 2**40], "input 't': 4 values do not fill shape [1099511627776,"),
        ([[1, 2, 3], [4, 5, 6]], [3, 2], "nested data of shape [2, 3] does not match shape [3, 2]"),
        ([[1, 2], [3]], [3], "input 't': data is ragged"),
        ([[1, 2], 3], [3], "input 't': data is ragged"),
        ({"a": 1}, [1], "input 't': data must be a list, got dict"),
        (5, [1], "input 't': data must be a list, got int"),
    ],
)
def test_data_that_does_not_fit_the_shape(data: Any, shape: list[int], expected: str) -> None:
    assert expected in _rejected(data, shape, Datatype.FP32)


@pytest.mark.parametrize(
    ("data", "datatype", "expected"),
    [
        (["1.0", "2.0"], Datatype.FP32, "datatype FP32 expects numbers"),
        ([1.0, "x"], Datatype.FP64, "datatype FP64 expects numbers"),
        ([True, False], Datatype.FP32, "datatype FP32 expects numbers"),
        ([{"a": 1}, 2.0], Datatype.FP32, "datatype FP32 expects numbers"),
        ([1.5, 2.0], Datatype.INT32, "datatype INT32 expects integers"),
        ([True, False], Datatype.INT32, "datatype INT32 expects integers"),
        (["1", "2"], Datatype.UINT8, "datatype UINT8 expects integers"),
        ([None, 1], Datatype.INT64, "datatype INT64 expects integers"),
        ([1, 0], Datatype.BOOL, "datatype BOOL expects true/false values"),
        (["true", "false"], Datatype.BOOL, "datatype BOOL expects true/false values"),
        ([1, 2], Datatype.BYTES, "datatype BYTES expects strings"),
        ([["a"], [None]], Datatype.BYTES, "datatype BYTES expects strings"),
    ],
)
def test_values_of_the_wrong_kind(data: list[Any], datatype: Datatype, expected: str) -> None:
    assert expected in _rejected(data, [2], datatype)


@pytest.mark.parametrize(
    ("data", "datatype", "expected"),
    [
        ([256, 0], Datatype.UINT8, "values from 0 to 256 are out of range for UINT8 [0, 255]"),
        ([-1, 0], Datatype.UINT32, "values from -1 to 0 are out of range for UINT32"),
        ([-129, 5], Datatype.INT8, "values from -129 to 5 are out of range for INT8 [-128, 127]"),
        ([2**31, 0], Datatype.INT32, "out of range for INT32"),
        ([2**15, 0], Datatype.INT16, "out of range for INT16"),
        ([2**16, 0], Datatype.UINT16, "out of range for UINT16"),
        ([2**63, 0], Datatype.INT64, "out of range for INT64"),
    ],
)
def test_integers_out_of_range(data: list[int], datatype: Datatype, expected: str) -> None:
    assert expected in _rejected(data, [2], datatype)


@pytest.mark.parametrize(
    ("data", "datatype", "expected"),
    [
        (
            [1e39, 0.0],
            Datatype.FP32,
            "values up to 1e+39 are out of range for FP32 (largest 3.40282e+38)",
        ),
        ([None, -1e39], Datatype.FP32, "values up to 1e+39 are out of range for FP32"),
        (
            [70000.0, 0.0],
            Datatype.FP16,
            "values up to 70000 are out of range for FP16 (largest 65504)",
        ),
        ([-(2**63), 0], Datatype.FP16, "values up to 9.22337e+18 are out of range for FP16"),
    ],
)
def test_floats_out_of_range(data: list[Any], datatype: Datatype, expected: str) -> None:
    assert expected in _rejected(data, [2], datatype)


@pytest.mark.parametrize(
    "data",
    [
        [1.0, None, -1e39],  # few values: Python's max, past a NaN
        [None, 1.0, 1e39],  # few values, a NaN first: numpy's reduction
        [*range(40), 1e39],  # many values: numpy's reduction
    ],
)
def test_floats_out_of_range_are_found_among_few_or_many(data: list[Any]) -> None:
    assert "values up to 1e+39 are out of range for FP32" in _rejected(
        data, [len(data)], Datatype.FP32
    )


def test_floats_at_the_limits_and_nan_pass() -> None:
    array = array_from_json([65519.0, None], [2], Datatype.FP16, WHAT)
    assert array[0] == 65504.0
    assert np.isnan(array[1])
    assert "out of range for FP16" in _rejected([65520.0, 0.0], [2], Datatype.FP16)
    largest = np.finfo(np.float32).max
    wire = _json(array_to_json(np.array([largest, -largest]), Datatype.FP32, WHAT))
    assert array_from_json(wire, [2], Datatype.FP32, WHAT).tolist() == [largest, -largest]
    assert array_from_json([None, None], [2], Datatype.FP32, WHAT).dtype == np.float32
    assert array_from_json([1e300, 0.0], [2], Datatype.FP64, WHAT)[0] == 1e300


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([1e29], "values from 1e+29 to 1e+29 are out of range for INT8 [-128, 127]"),
        ([-1e29, 3], "values from -1e+29 to 3 are out of range for INT8"),
        ([[1, 1e20]], "values from 1 to 1e+20 are out of range for INT8"),
    ],
)
def test_integers_beyond_64_bits_read_as_floats(data: list[Any], expected: str) -> None:
    """orjson reads integers beyond 64 bits as floats: out of range, not of the wrong kind."""
    shape = [1, 2] if isinstance(data[0], list) else [len(data)]
    assert expected in _rejected(data, shape, Datatype.INT8)
    assert "expects integers" in _rejected([1e3 + 0.5], [1], Datatype.INT8)


@pytest.mark.parametrize(
    ("data", "shape", "expected"),
    [
        ([["a", "b"], ["c", "d"]], [4], "nested data of shape [2, 2] does not match shape [4]"),
        (
            [["a", "b"], ["c", "d"]],
            [1, 4],
            "nested data of shape [2, 2] does not match shape [1, 4]",
        ),
        ([[["a"]], [["b"]]], [2, 1], "nested data of shape [2, 1, 1] does not match shape [2, 1]"),
        ([["a", "b"], ["c"]], [3], "data is ragged or holds values of mixed kinds"),
        ([["a", "b"], "c"], [3], "data is ragged or holds values of mixed kinds"),
        (["a", ["b"]], [2], "data is ragged or holds values of mixed kinds"),
        ([["a", 1]], [1, 2], "datatype BYTES expects strings in data"),
        ([["a", "b"]], [3], "2 values do not fill shape [3]"),
    ],
)
def test_nested_bytes_must_match_the_shape(data: Any, shape: list[int], expected: str) -> None:
    assert _rejected(data, shape, Datatype.BYTES) == f"{WHAT}: {expected}"


def test_nested_bytes_of_the_shape_pass() -> None:
    array = array_from_json([["a", "b"], ["c", "d"]], [2, 2], Datatype.BYTES, WHAT)
    assert array.tolist() == [[b"a", b"b"], [b"c", b"d"]]
    assert array_from_json(["a", "b", "c", "d"], [2, 2], Datatype.BYTES, WHAT).shape == (2, 2)
    assert array_from_json([[], []], [2, 0], Datatype.BYTES, WHAT).shape == (2, 0)


@pytest.mark.parametrize("data", [[2**64, 0], [-(2**63) - 1, 0], [-1, 2**63]])
def test_integers_beyond_64_bits(data: list[int]) -> None:
    message = _rejected(data, [2], Datatype.INT64)
    assert "INT64" in message


def test_absurd_shape_is_rejected_without_allocating() -> None:
    # An allocation of 2**80 elements would raise MemoryError; the count check comes first.
    assert "do not fill shape" in _rejected([], [2**40, 2**40], Datatype.BYTES)
    assert "do not fill shape" in _rejected([1.0], [2**40, 2**40], Datatype.FP64)


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ([1, -4], "input 't': shape [1, -4] has a negative dimension"),
        ([1, 2.0], "input 't': shape [1, 2.0] has a dimension that is not an integer"),
        ([1, 1e30], "input 't': shape [1, 1e+30] has a dimension too large for 64 bits (at most "),
        ([2**63], "input 't': shape [9223372036854775808] has a dimension too large for 64 bits"),
        ([-1e30], "input 't': shape [-1e+30] has a negative dimension"),
        ([1.5e30], "input 't': shape [1.5e+30] has a dimension too large"),
        ([1] * 65, "input 't': shape has 65 dimensions, at most 64 are supported"),
        ([0, 2**63 - 1], "input 't': shape [0, 9223372036854775807] is too large: its non-zero "),
        ([2**60, 0, 2], "input 't': shape [1152921504606846976, 0, 2] is too large: its non-"),
        ([True], "input 't': shape [True] has a dimension that is not an integer"),
        ("[1, 4]", "input 't': shape must be a list of integers, got '[1, 4]'"),
        (None, "input 't': shape must be a list of integers, got None"),
    ],
)
def test_check_shape(shape: object, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_shape(shape, WHAT)
    assert caught.value.message.startswith(expected), caught.value.message


def test_check_shape_and_count() -> None:
    assert check_shape([2, 0, 3], WHAT) == [2, 0, 3]
    assert check_shape([1] * 64, WHAT) == [1] * 64
    largest = [0, (2**63 - 1) // 8]  # numpy's limit for 8-byte elements
    assert check_shape(largest, WHAT) == largest
    for datatype in Datatype:
        assert array_from_json([], check_shape(largest, WHAT), datatype, WHAT).shape == (
            0,
            2**60 - 1,
        )
    assert element_count([]) == 1
    assert element_count([2**40, 2**40]) == 2**80


def test_bytes_output_must_be_text() -> None:
    array = np.array([b"\xff\xfe"], dtype=object)
    with pytest.raises(InvalidInput) as caught:
        array_to_json(array, Datatype.BYTES, "output 'o'")
    assert caught.value.message == (
        "output 'o': BYTES data is not UTF-8 text; ask for it as binary data"
    )


def test_bytes_output_from_strings() -> None:
    array = np.array(["é", "b"])
    assert array_to_json(array, Datatype.BYTES, WHAT) == ["é", "b"]


def test_infinities_pass_and_finite_values_that_round_to_one_do_not() -> None:
    """Inf is a value of FP16 and FP32 (typed gRPC contents and in-process requests carry
    it; JSON cannot), whatever else the data holds."""
    array = array_from_json([math.inf, -math.inf, 1.0], [3], Datatype.FP32, WHAT)
    assert array.tolist() == [math.inf, -math.inf, 1.0]
    assert array_from_json([math.inf, math.inf], [2], Datatype.FP16, WHAT).dtype == np.float16
    assert "values up to 1e+39 are out of range for FP32" in _rejected(
        [math.inf, 1e39], [2], Datatype.FP32
    )
