"""The predict lane's JSON bodies: which requests are plain and their arrays, and answers
written as `response_to_body` writes a response."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from app.protocol.codecs.messages import response_to_body
from app.protocol.codecs.plain import plain_inputs, prediction_to_body
from app.protocol.prediction import Prediction


def _tensor(name: str = "x", **changes: Any) -> dict[str, Any]:
    return {"name": name, "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3, 4], **changes}


def test_plain_inputs_are_arrays_by_name() -> None:
    message = {
        "id": "r-1",
        "inputs": [
            _tensor(),
            {"name": "s", "shape": [1], "datatype": "BYTES", "data": ["hé"]},
            {"name": "b", "shape": [2], "datatype": "BOOL", "data": [True, False]},
        ],
    }
    inputs = plain_inputs(message)
    assert inputs is not None
    assert list(inputs) == ["x", "s", "b"]
    assert inputs["x"].dtype == np.float32
    assert inputs["x"].tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert inputs["s"].tolist() == ["hé".encode()]
    assert inputs["b"].tolist() == [True, False]


NOT_PLAIN: dict[str, dict[str, Any]] = {
    "request parameters": {"inputs": [_tensor()], "parameters": {"timeout": 5}},
    "requested outputs": {"inputs": [_tensor()], "outputs": [{"name": "y"}]},
    "binary outputs asked for": {"inputs": [_tensor()], "parameters": {"binary_data_output": True}},
    "an id that is not a string": {"id": 7, "inputs": [_tensor()]},
    "an id of null": {"id": None, "inputs": [_tensor()]},
    "no inputs": {"inputs": []},
    "inputs that are not a list": {"inputs": _tensor()},
    "an input that is not an object": {"inputs": [["x"]]},
    "tensor parameters": {"inputs": [_tensor(parameters={"k": 1})]},
    "binary data": {"inputs": [{**_tensor(), "parameters": {"binary_data_size": 16}}]},
    "no data": {"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "extra": 1}]},
    "no name": {"inputs": [_tensor("")]},
    "a name that is not a string": {"inputs": [{**_tensor(), "name": 3}]},
    "unknown datatype": {"inputs": [_tensor(datatype="FP8")]},
    "a datatype that is a list": {"inputs": [_tensor(datatype=["FP32"])]},
    "a bad shape": {"inputs": [_tensor(shape=[-2, 2])]},
    "data that does not fit the shape": {"inputs": [_tensor(shape=[3, 2])]},
    "values out of range": {"inputs": [_tensor(datatype="UINT8", data=[1, 2, 3, 256])]},
    "a name given twice": {"inputs": [_tensor(), _tensor()]},
    "an unknown key": {"inputs": [_tensor()], "extra": {}},
}


def test_plain_requests_with_and_without_an_id() -> None:
    assert plain_inputs({"inputs": [_tensor()]}) is not None
    assert plain_inputs({"id": "r", "inputs": [_tensor(), _tensor("y")]}) is not None


@pytest.mark.parametrize("case", NOT_PLAIN)
def test_other_requests_are_not_plain(case: str) -> None:
    assert plain_inputs(NOT_PLAIN[case]) is None


OUTPUTS: list[dict[str, object]] = [
    {"y": np.arange(6, dtype="<f4").reshape(2, 3)},
    {"n": np.array([-(2**62), 7]), "b": np.array([[True], [False]]), "h": np.ones(2, np.float16)},
    {"s": np.array([b"a", "é".encode()], dtype=object), "e": np.zeros((0, 2), np.uint8)},
    {"scalar": np.float64(2.5), "strided": np.arange(8, dtype=np.int32)[::2]},
]


@pytest.mark.parametrize("outputs", OUTPUTS)
@pytest.mark.parametrize(("version", "request_id"), [("1", "r-1"), (None, None)])
def test_prediction_body_is_the_response_body(
    outputs: dict[str, object], version: str | None, request_id: str | None
) -> None:
    prediction = Prediction("mödel", outputs, version, request_id)
    body, json_length = response_to_body(prediction.response())
    assert json_length is None
    assert prediction_to_body("mödel", prediction) == body
