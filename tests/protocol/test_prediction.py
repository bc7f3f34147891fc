"""Prediction: predict's outputs checked once, for the lane's writers and for responses."""

from __future__ import annotations

import numpy as np
import pytest

from app.protocol.codecs.datatypes import Datatype
from app.protocol.errors import PredictorError
from app.protocol.prediction import Prediction


def test_outputs_keep_their_order_with_their_datatypes() -> None:
    rows = np.ones((2, 3), np.float32)
    prediction = Prediction("m", {"z": rows, "a": [1, 2], "s": np.array([b"x"])}, "2", "r-1")
    assert [(name, datatype) for name, datatype, _ in prediction.outputs] == [
        ("z", Datatype.FP32),
        ("a", Datatype.INT64),
        ("s", Datatype.BYTES),
    ]
    assert prediction.outputs[0][2] is rows  # arrays are kept, not copied
    assert prediction.outputs[1][2].tolist() == [1, 2]


def test_the_response_holds_the_same_outputs() -> None:
    prediction = Prediction("m", {"y": np.arange(4, dtype=np.uint16).reshape(2, 2)}, "2", "r-1")
    response = prediction.response()
    assert (response.model_name, response.model_version, response.id) == ("m", "2", "r-1")
    (output,) = response.outputs
    assert (output.name, output.datatype, output.shape) == ("y", Datatype.UINT16, [2, 2])
    assert output.data.tolist() == [[0, 1], [2, 3]]


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
        Prediction("m", outputs)
    assert caught.value.message == expected
