"""A model's answer is checked against its declared outputs: an undeclared output, another
datatype or another shape is a 500 naming the model, the output and what was declared,
logged with the request id; a declared output may be missing; a model that declares no
outputs is not checked."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import grpc
import httpx
import numpy as np
import pytest

from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.service import Stub
from app.logs import ContextFilter
from tests.repo import add_model, tensor

BODY = {"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1.0]}]}
DECLARED = [tensor("y", "FP32", [-1, 2]), tensor("w", "INT64", [-1])]


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "models"
    wrongs: list[tuple[str, dict[str, Any]]] = [
        ("right", {}),
        ("ints", {"dtype": "int64"}),
        ("extra", {"output": "z"}),
        ("flat", {"shape": [3]}),
    ]
    for name, parameters in wrongs:
        add_model(repo, name, "tests.toys:Shaped", outputs=DECLARED, parameters=parameters)
    add_model(repo, "free", "tests.toys:Shaped", parameters={"dtype": "int8", "output": "q"})
    for name, (datatype, shape, values) in RESPONSES.items():
        parameters = {"datatype": datatype, "shape": shape, "values": values}
        add_model(repo, name, "tests.toys:Responding", parameters=parameters)
    add_model(repo, "masked", "tests.toys:Masked")
    add_model(repo, "numbered", "tests.toys:Keyed", parameters={"key": 1})
    add_model(repo, "unnamed", "tests.toys:Keyed", parameters={"key": ""})
    return repo


RESPONSES: dict[str, tuple[str, list[int], list[Any]]] = {
    "int8-300": ("INT8", [2], [1, 300]),
    "uint8-negative": ("UINT8", [1], [-1]),
    "bool-floats": ("BOOL", [2], [0.5, 0.0]),
    "fp32-1e39": ("FP32", [1], [1e39]),
    "short": ("FP32", [5], [1.0, 2.0]),
    "transposed": ("FP32", [3, 2], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
    "negative": ("FP32", [-1], [1.0]),
    "bytes-ints": ("BYTES", [2], [1, 2]),
    "int32-right": ("INT32", [2], [7, -7]),
}
"""`infer` models answering an output's datatype, shape and values (Responding)."""


@pytest.mark.parametrize("model", ["right", "free"])
async def test_declared_or_undeclared_answers_pass(served: httpx.AsyncClient, model: str) -> None:
    """`right` answers `y` as declared and leaves `w` out; `free` declares nothing."""
    answer = await served.post(f"/v2/models/{model}/infer", json=BODY)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("ints", "model 'ints' answered output 'y' as INT64, declared FP32"),
        (
            "extra",
            "model 'extra' answered output 'z', which it does not declare; outputs: 'y', 'w'",
        ),
        ("flat", "model 'flat' answered output 'y' of shape [3], declared [-1, 2]"),
    ],
)
async def test_a_wrong_answer_is_a_500_naming_it(
    served: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, model: str, message: str
) -> None:
    caplog.handler.addFilter(ContextFilter())
    headers = {"x-request-id": f"out-{model}"}
    answer = await served.post(f"/v2/models/{model}/infer", json=BODY, headers=headers)
    assert (answer.status_code, answer.json()) == (500, {"error": message})
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and r.getMessage() == message]
    assert [getattr(record, "request_id", None) for record in logged] == [f"out-{model}"]


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("int8-300", "values from 1 to 300 are out of range for INT8 [-128, 127]"),
        ("uint8-negative", "values from -1 to -1 are out of range for UINT8 [0, 255]"),
        ("bool-floats", "datatype BOOL expects true/false values in data"),
        ("fp32-1e39", "values up to 1e+39 are out of range for FP32 (largest 3.40282e+38)"),
        ("short", "2 values do not fill shape [5]"),
        ("transposed", "nested data of shape [2, 3] does not match shape [3, 2]"),
        ("negative", "shape [-1] has a negative dimension"),
        ("bytes-ints", "datatype BYTES expects strings in data, got int64"),
    ],
)
async def test_an_infer_answer_whose_data_is_not_its_datatype_and_shape_is_a_500(
    served: httpx.AsyncClient, channel: grpc.aio.Channel, model: str, message: str
) -> None:
    """What `infer` answers in a ResponseOutput is held to its datatype and shape, as a
    request's input is: before, INT8 300 went out as 44 (binary) or 300 (JSON)."""
    expected = f"model {model!r} answered output 'out': {message}"
    for binary in (False, True):
        body = {**BODY, "parameters": {"binary_data_output": binary}}
        answer = await served.post(f"/v2/models/{model}/infer", json=body)
        assert (answer.status_code, answer.json()) == (500, {"error": expected})
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await Stub(channel).ModelInfer(_grpc_request(model))
    assert (refused.value.code(), refused.value.details()) == (grpc.StatusCode.INTERNAL, expected)


async def test_an_infer_answer_of_its_datatype_and_shape_passes(
    served: httpx.AsyncClient, channel: grpc.aio.Channel
) -> None:
    answer = await served.post("/v2/models/int32-right/infer", json=BODY)
    assert answer.json()["outputs"] == [
        {"name": "out", "datatype": "INT32", "shape": [2], "data": [7, -7]}
    ]
    reply = await Stub(channel).ModelInfer(_grpc_request("int32-right"))
    assert np.frombuffer(reply.raw_output_contents[0], "<i4").tolist() == [7, -7]


async def test_an_ndarray_subclass_is_answered_as_its_array(
    served: httpx.AsyncClient, channel: grpc.aio.Channel
) -> None:
    """A masked array (an ndarray subclass) went out as JSON but was a 500 as binary or raw."""
    for binary in (False, True):
        body = {**BODY, "parameters": {"binary_data_output": binary}}
        answer = await served.post("/v2/models/masked/infer", json=body)
        assert answer.status_code == 200, answer.text
    reply = await Stub(channel).ModelInfer(_grpc_request("masked"))
    assert np.frombuffer(reply.raw_output_contents[0], "<f4").tolist() == [1.0]


@pytest.mark.parametrize(("model", "key"), [("numbered", "1"), ("unnamed", "''")])
async def test_outputs_named_by_anything_but_text_are_a_500(
    served: httpx.AsyncClient, channel: grpc.aio.Channel, model: str, key: str
) -> None:
    """An output keyed 1 went out as "name": 1 in JSON and was INTERNAL over gRPC."""
    expected = f"model {model!r}: predict must name its outputs with non-empty strings, got {key}"
    answer = await served.post(f"/v2/models/{model}/infer", json=BODY)
    assert (answer.status_code, answer.json()) == (500, {"error": expected})
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await Stub(channel).ModelInfer(_grpc_request(model))
    assert (refused.value.code(), refused.value.details()) == (grpc.StatusCode.INTERNAL, expected)


def _grpc_request(model: str) -> pb.ModelInferRequest:
    x = pb.ModelInferRequest.InferInputTensor(name="x", datatype="FP32", shape=[1])
    return pb.ModelInferRequest(model_name=model, inputs=[x], raw_input_contents=[b"\0\0\x80?"])
