"""Typed tensor contents <-> numpy arrays: every typed datatype both ways, through the wire."""

from __future__ import annotations

import numpy as np
import pytest

from app.grpc.contents import CONTENTS_FIELD, array_from_contents, array_to_contents
from app.grpc.generated import open_inference_pb2 as pb
from app.protocol.codecs.datatypes import Datatype, to_dtype
from app.protocol.errors import InvalidInput

ARRAYS = [
    (Datatype.FP32, np.array([[0.5, -0.0, 2.5], [np.nan, 1e-45, 3.4e38]], dtype=np.float32)),
    (Datatype.FP64, np.array([np.pi, -1e308, 5e-324])),
    (Datatype.BOOL, np.array([[True, False], [False, True]])),
    (Datatype.INT8, np.array([-128, 0, 127], dtype=np.int8)),
    (Datatype.INT16, np.array([-(2**15), 2**15 - 1], dtype=np.int16)),
    (Datatype.INT32, np.array([[-(2**31), 2**31 - 1]], dtype=np.int32)),
    (Datatype.INT64, np.array([-(2**63), 2**63 - 1], dtype=np.int64)),
    (Datatype.UINT8, np.array([0, 255], dtype=np.uint8)),
    (Datatype.UINT16, np.array([0, 2**16 - 1], dtype=np.uint16)),
    (Datatype.UINT32, np.array([0, 2**32 - 1], dtype=np.uint32)),
    (Datatype.UINT64, np.array([0, 2**64 - 1], dtype=np.uint64)),
    (Datatype.BYTES, np.array([b"", b"\x00\xff", b"text"], dtype=object)),
    (Datatype.FP32, np.zeros((0, 3), dtype=np.float32)),
    (Datatype.BOOL, np.zeros(0, dtype=np.bool_)),
    (Datatype.FP32, np.arange(150_528, dtype=np.float32).reshape(1, 3, 224, 224)),
]


def _through_the_wire(array: np.ndarray, datatype: Datatype) -> pb.InferTensorContents:
    contents = pb.InferTensorContents()
    array_to_contents(array, datatype, contents)
    return pb.InferTensorContents.FromString(contents.SerializeToString())


@pytest.mark.parametrize(("datatype", "array"), ARRAYS)
def test_arrays_round_trip(datatype: Datatype, array: np.ndarray) -> None:
    contents = _through_the_wire(array, datatype)
    assert [field.name for field, _ in contents.ListFields()] in ([], [CONTENTS_FIELD[datatype]])
    back = array_from_contents(contents, list(array.shape), datatype, "input 'x'")
    assert back.dtype == to_dtype(datatype)
    assert back.shape == array.shape
    np.testing.assert_array_equal(back, array)


@pytest.mark.parametrize(("datatype", "array"), ARRAYS[:3])
def test_fixed_width_fields_match_the_element_by_element_encoding(
    datatype: Datatype, array: np.ndarray
) -> None:
    """The packed fast path writes the bytes protobuf itself writes for the same values."""
    fast = pb.InferTensorContents()
    array_to_contents(array, datatype, fast)
    slow = pb.InferTensorContents()
    getattr(slow, CONTENTS_FIELD[datatype]).extend(array.ravel().tolist())
    assert fast.SerializeToString() == slow.SerializeToString()


def test_values_set_one_by_one_are_read_back() -> None:
    contents = pb.InferTensorContents()
    contents.fp32_contents.extend([1.5, -2.0, 3.25, 0.0])
    contents.fp32_contents.append(7.0)
    array = array_from_contents(contents, [5], Datatype.FP32, "input 'x'")
    assert array.tolist() == [1.5, -2.0, 3.25, 0.0, 7.0]


@pytest.mark.parametrize(
    ("datatype", "shape", "fields", "message"),
    [
        (Datatype.FP32, [2, 2], {"fp32_contents": [1.0]}, "1 values do not fill shape [2, 2]"),
        (Datatype.BOOL, [3], {"bool_contents": [True]}, "1 values do not fill shape [3]"),
        (Datatype.UINT8, [1], {"uint_contents": [300]}, "values from 300 to 300 are out of range"),
        (Datatype.INT16, [1], {"int_contents": [-40000]}, "are out of range for INT16"),
        (Datatype.FP32, [1], {"fp64_contents": [1.0]}, "datatype FP32 takes fp32_contents"),
        (Datatype.FP16, [1], {"fp32_contents": [1.0]}, "datatype FP16 has no typed contents"),
    ],
)
def test_bad_contents_are_invalid_input(
    datatype: Datatype, shape: list[int], fields: dict[str, list[object]], message: str
) -> None:
    contents = pb.InferTensorContents(**fields)  # type: ignore[arg-type]  # field names vary
    with pytest.raises(InvalidInput, match=message.replace("[", r"\[").replace("]", r"\]")):
        array_from_contents(contents, shape, datatype, "input 'x'")
