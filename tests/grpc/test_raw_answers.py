"""Answers with raw outputs written field by field, which read as protobuf's own
serialization."""

from __future__ import annotations

import numpy as np
import pytest

from app.grpc.convert import answer_to_proto
from app.grpc.raw_answers import raw_answer
from app.protocol.payload import answer_from_arrays

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
    answer = answer_from_arrays("mödel", outputs, version, request_id)
    expected = answer_to_proto(answer, raw=True).SerializeToString()
    assert raw_answer(answer) == expected
    assert raw_answer(answer) == expected  # remembered fields too


def test_answers_with_parameters_are_left_to_protobuf() -> None:
    answer = answer_from_arrays("m", {"y": ROWS})
    answer.outputs[0].parameters = {"content_type": "np"}
    assert raw_answer(answer) is None
    answer.outputs[0].parameters = None
    answer.parameters = {"x-a": "1"}
    assert raw_answer(answer) is None
