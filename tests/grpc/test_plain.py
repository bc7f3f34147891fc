"""The predict lane's messages: which requests are plain and their arrays, and answers
written field by field that read as protobuf's own serialization."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from app.grpc.convert import response_to_proto
from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.plain import plain_inputs, prediction_to_wire
from app.protocol.prediction import Prediction

ROWS = np.arange(8, dtype="<f4").reshape(2, 4)


def _plain(*tensors: tuple[str, str, list[int], bytes]) -> pb.ModelInferRequest:
    message = pb.ModelInferRequest(model_name="m", id="r-1")
    for name, datatype, shape, raw in tensors:
        message.inputs.add(name=name, datatype=datatype, shape=shape)
        message.raw_input_contents.append(raw)
    return message


def test_plain_inputs_are_read_only_views_by_name() -> None:
    flags = np.array([True, False])
    message = _plain(
        ("x", "FP32", [2, 4], ROWS.tobytes()),
        ("f", "BOOL", [2], flags.tobytes()),
        ("s", "BYTES", [1], b"\x02\x00\x00\x00hi"),
    )
    inputs = plain_inputs(message)
    assert inputs is not None
    assert list(inputs) == ["x", "f", "s"]
    assert inputs["x"].dtype == np.float32
    assert inputs["x"].tolist() == ROWS.tolist()
    assert not inputs["x"].flags.writeable
    assert inputs["f"].tolist() == [True, False]
    assert inputs["s"].tolist() == [b"hi"]


def _with(change: Callable[[pb.ModelInferRequest], object]) -> pb.ModelInferRequest:
    message = _plain(("x", "FP32", [2, 4], ROWS.tobytes()))
    change(message)
    return message


_INT_PARAMETER = pb.InferParameter(int64_param=5)
NOT_PLAIN: dict[str, pb.ModelInferRequest] = {
    "request parameters": _with(lambda m: m.parameters["timeout"].CopyFrom(_INT_PARAMETER)),
    "requested outputs": _with(lambda m: m.outputs.add(name="y")),
    "tensor parameters": _with(lambda m: m.inputs[0].parameters["k"].CopyFrom(_INT_PARAMETER)),
    "typed contents as well": _with(lambda m: m.inputs[0].contents.fp32_contents.append(1.0)),
    "no raw contents": _with(lambda m: m.ClearField("raw_input_contents")),
    "more raw contents than inputs": _with(lambda m: m.raw_input_contents.append(b"")),
    "unknown datatype": _with(lambda m: setattr(m.inputs[0], "datatype", "FP8")),
    "no name": _with(lambda m: setattr(m.inputs[0], "name", "")),
    "negative dimension": _with(lambda m: m.inputs[0].shape.__setitem__(0, -2)),
    "size that does not add up": _with(lambda m: m.inputs[0].shape.__setitem__(0, 3)),
    "a name given twice": _plain(
        ("x", "FP32", [2, 4], ROWS.tobytes()), ("x", "FP32", [2, 4], ROWS.tobytes())
    ),
    "a BOOL byte that is not 0 or 1": _plain(("b", "BOOL", [1], b"\x02")),
}


@pytest.mark.parametrize("case", NOT_PLAIN)
def test_other_requests_are_not_plain(case: str) -> None:
    assert plain_inputs(NOT_PLAIN[case]) is None


OUTPUTS: list[dict[str, object]] = [
    {"y": ROWS},
    {"y": ROWS[:, 1:3], "n": np.arange(3, dtype=np.int64), "b": np.array([[True], [False]])},
    {"s": np.array([b"a", b"\xff\x00"], dtype=object), "h": np.ones(2, np.float16)},
    {"scalar": np.float64(2.5), "listed": [1, 2, 3], "empty": np.zeros((0, 2), np.uint8)},
    {},
]


@pytest.mark.parametrize("outputs", OUTPUTS)
@pytest.mark.parametrize(("version", "request_id"), [("1", "r-1"), (None, None)])
def test_prediction_wire_is_protobufs_serialization(
    outputs: dict[str, object], version: str | None, request_id: str | None
) -> None:
    prediction = Prediction("mödel", outputs, version, request_id)
    expected = response_to_proto(prediction.response(), raw=True).SerializeToString()
    assert prediction_to_wire("mödel", prediction) == expected
    assert prediction_to_wire("mödel", prediction) == expected  # remembered fields too
