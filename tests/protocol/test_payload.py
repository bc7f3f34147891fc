"""Payload: a request's input arrays by name; and the response of a predictor's arrays."""

from __future__ import annotations

import numpy as np
import pytest

from app.protocol.codecs.datatypes import Datatype
from app.protocol.errors import InvalidInput, PredictorError
from app.protocol.payload import Payload, answer_from_arrays
from app.protocol.types import InferenceRequest, RequestInput, RequestOutput


def test_the_request_of_a_payload_reads_datatypes_off_its_arrays() -> None:
    rows = np.ones((2, 3), np.float32)
    words = np.array([b"a", b"b"], dtype=object)
    payload = Payload(
        {"x": rows, "w": words},
        "r-1",
        {"p": 1},
        [RequestOutput(name="y")],
        {"w": {"content_type": "str"}},
    )
    request = payload.request()
    assert (request.id, request.parameters) == ("r-1", {"p": 1})
    assert [(t.name, t.datatype, t.shape, t.parameters) for t in request.inputs] == [
        ("x", Datatype.FP32, [2, 3], None),
        ("w", Datatype.BYTES, [2], {"content_type": "str"}),
    ]
    assert request.inputs[0].data is rows  # arrays are kept, not copied
    assert request.outputs == [RequestOutput(name="y")]
    again = Payload.of(request).inputs
    assert list(again) == ["x", "w"]
    assert np.shares_memory(again["x"], rows)


def test_a_request_built_in_process_becomes_arrays_of_its_datatypes() -> None:
    request = InferenceRequest(
        id="r",
        inputs=[
            RequestInput(name="a", shape=[2, 2], datatype="FP32", data=np.arange(4.0)),
            RequestInput(name="b", shape=[1], datatype="BYTES", data=np.array(["x"])),
        ],
    )
    payload = Payload.of(request)
    assert payload.inputs["a"].dtype == np.float32
    assert payload.inputs["a"].shape == (2, 2)
    assert payload.inputs["b"].tolist() == ["x"]
    assert payload.inputs["b"].dtype == object


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        (
            [("a", [3], "FP32", np.zeros(2)), ("b", [1], "FP32", np.zeros(1))],
            "input 'a': 2 values do not fill shape [3]",
        ),
        (
            [("a", [1], "FP32", np.zeros(1)), ("a", [1], "FP32", np.zeros(1))],
            "input 'a' is given more than once",
        ),
        (
            [("a", [2], "INT32", np.array([0.5, 1.0]))],
            "input 'a': datatype INT32 expects integers in data",
        ),
        (
            [("a", [3, 1], "INT8", np.zeros((1, 3), np.int8))],
            "input 'a': data of shape [1, 3] does not fill shape [3, 1]",
        ),
    ],
)
def test_in_process_data_that_does_not_fit_is_invalid_input(
    inputs: list[tuple[str, list[int], str, np.ndarray]], expected: str
) -> None:
    request = InferenceRequest(
        inputs=[
            RequestInput(name=name, shape=shape, datatype=datatype, data=data)
            for name, shape, datatype, data in inputs
        ]
    )
    with pytest.raises(InvalidInput) as caught:
        Payload.of(request)
    assert caught.value.message == expected


def test_a_payload_is_its_own_decoding() -> None:
    payload = Payload({})
    assert payload.decode() is payload


def test_outputs_keep_their_order_with_their_datatypes() -> None:
    rows = np.ones((2, 3), np.float32)
    outputs = {
        "z": rows,
        "a": [1, 2],
        "s": np.array([b"x"]),
        "h": np.zeros((2, 2), np.float16),
        "b": np.array([True]),
        "u": np.array(["a", "b"]),
    }
    answer = answer_from_arrays("m", outputs, "2", "r-1")
    response = answer.response()
    assert (response.model_name, response.model_version, response.id) == ("m", "2", "r-1")
    assert [(t.name, t.datatype, t.shape) for t in response.outputs] == [
        ("z", Datatype.FP32, [2, 3]),
        ("a", Datatype.INT64, [2]),
        ("s", Datatype.BYTES, [1]),
        ("h", Datatype.FP16, [2, 2]),
        ("b", Datatype.BOOL, [1]),
        ("u", Datatype.BYTES, [2]),
    ]
    assert response.outputs[0].data is rows  # arrays are kept, not copied
    assert response.outputs[1].data.tolist() == [1, 2]


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        (None, "model 'm': predict must return a dict of arrays, got NoneType"),
        (
            {"ok": np.zeros(1), "c": np.zeros(1, np.complex128)},
            "model 'm': output 'c' has numpy dtype complex128, which no OIP datatype holds",
        ),
    ],
)
def test_what_no_datatype_holds_is_the_models_failure(outputs: object, expected: str) -> None:
    with pytest.raises(PredictorError) as caught:
        answer_from_arrays("m", outputs)
    assert caught.value.message == expected
