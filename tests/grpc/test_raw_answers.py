"""Answers with raw outputs written field by field, which read as protobuf's own
serialization."""

from __future__ import annotations

import numpy as np
import pytest

from app.grpc.convert import response_to_proto
from app.grpc.raw_answers import response_to_wire_plain
from app.protocol.payload import response_from_arrays

ROWS = np.arange(8, dtype="<f4").reshape(2, 4)
OUTPUTS: list[dict[str, object]] = [
    {"y": ROWS},
    {"y": ROWS[:, 1:3], "n": np.arange(3, dtype=np.int64), "b": np.array([[True], [False]])},
    {"s": np.array([b"a", b"\xff\x00"], dtype=object), "h": np.ones(2, np.float16)},
    {"scalar": np.float64(2.5), "listed": [1, 2, 3], "empty": np.zeros((0, 2), np.uint8)},
    {},
]


@pytest.mark.parametrize("outputs", OUTPUTS)
@pytest.mark.parametrize(("version", "request_id"), [("1", "r-1"), (None, None)])
def test_raw_answers_are_protobufs_serialization(
    outputs: dict[str, object], version: str | None, request_id: str | None
) -> None:
    response = response_from_arrays("mödel", outputs, version, request_id)
    expected = response_to_proto(response, raw=True).SerializeToString()
    assert response_to_wire_plain(response) == expected
    assert response_to_wire_plain(response) == expected  # remembered fields too


def test_answers_with_parameters_are_left_to_protobuf() -> None:
    response = response_from_arrays("m", {"y": ROWS})
    response.outputs[0].parameters = {"content_type": "np"}
    assert response_to_wire_plain(response) is None
    response.outputs[0].parameters = None
    response.parameters = {"x-a": "1"}
    assert response_to_wire_plain(response) is None
