"""The same requests through the REST and the gRPC client give equal results and equal
exceptions (class, status and message)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import pytest

from app.client import (
    InferenceGRPCClient,
    InferenceRESTClient,
    InferInput,
    InferRequest,
    RequestedOutput as Wanted,
)
from app.protocol.errors import OIPError
from tests.payloads import IRIS_ROWS

Client = InferenceRESTClient | InferenceGRPCClient


def tensor(name: str, datatype: str, array: np.ndarray, binary: bool = True) -> InferInput:
    made = InferInput(name, list(array.shape), datatype)
    made.set_data_from_numpy(array, binary_data=binary)
    return made


REQUESTS: dict[str, InferRequest] = {
    "iris": InferRequest("iris", [tensor("input-0", "FP32", IRIS_ROWS)], request_id="p1"),
    "iris-v1-output": InferRequest(
        "iris",
        [tensor("input-0", "FP32", IRIS_ROWS)],
        outputs=[Wanted("output-0")],
        model_version="1",
        request_id="p2",
    ),
    "echo-mixed": InferRequest(
        "echo",
        [
            tensor("a", "FP16", np.array([[0.5, 1.5]], dtype=np.float16)),
            tensor("b", "INT64", np.array([-1, 2**40])),
            tensor("c", "BOOL", np.array([True])),
            tensor("d", "BYTES", np.array([b"x", b"yz"], dtype=object)),
        ],
        request_id="p3",
    ),
    "scale": InferRequest(
        "scale", [tensor("input-0", "FP32", np.ones((2, 2), np.float32))], request_id="p5"
    ),
    "versioned-10": InferRequest(
        "versioned",
        [tensor("input-0", "FP32", np.ones((1, 1), np.float32))],
        model_version="10",
        request_id="p4",
    ),
    # JSON input: with binary inputs the REST client also asks for binary outputs
    # (parameters.binary_data_output), which this predictor would echo back
    "params": InferRequest(
        "params",
        [tensor("x", "INT32", np.array([1], np.int32), binary=False)],
        parameters={"k": "v", "n": 3},
        request_id="p6",
    ),
    "unknown-model": InferRequest("nope", [tensor("x", "INT32", np.array([1], np.int32))]),
    "unknown-version": InferRequest(
        "iris", [tensor("input-0", "FP32", IRIS_ROWS)], model_version="9"
    ),
    "wrong-shape": InferRequest("iris", [tensor("input-0", "FP32", np.ones(3, np.float32))]),
    "wrong-datatype": InferRequest("iris", [tensor("input-0", "FP64", np.ones((1, 4)))]),
    "unknown-output": InferRequest(
        "iris", [tensor("input-0", "FP32", IRIS_ROWS)], outputs=[Wanted("nope")]
    ),
    "picky": InferRequest("picky", [tensor("x", "INT32", np.array([1], np.int32))]),
    "failing": InferRequest("failing", [tensor("x", "INT32", np.array([1], np.int32))]),
}


async def outcome(call: Callable[[], Awaitable[Any]]) -> Any:
    """The call's result, or (exception class, status, message) when it raised."""
    try:
        result = await call()
    except OIPError as error:
        return type(error), error.status, error.message
    return result


@pytest.mark.parametrize("name", list(REQUESTS))
async def test_infer_parity(
    rest_client: InferenceRESTClient, grpc_client: InferenceGRPCClient, name: str
) -> None:
    request = REQUESTS[name]
    over_rest = await outcome(lambda: rest_client.infer(request))
    over_grpc = await outcome(lambda: grpc_client.infer(request))
    assert over_rest == over_grpc
    if name.startswith(("unknown", "wrong", "picky", "failing")):
        assert isinstance(over_rest, tuple)
        assert issubclass(over_rest[0], OIPError)


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("is_server_live", ()),
        ("is_server_ready", ()),
        ("server_metadata", ()),
        ("is_model_ready", ("iris",)),
        ("is_model_ready", ("nope",)),
        ("model_metadata", ("versioned",)),
        ("model_metadata", ("nope",)),
    ],
)
async def test_health_and_metadata_parity(
    rest_client: InferenceRESTClient,
    grpc_client: InferenceGRPCClient,
    call: str,
    args: tuple[str, ...],
) -> None:
    over_rest = await outcome(lambda: getattr(rest_client, call)(*args))
    over_grpc = await outcome(lambda: getattr(grpc_client, call)(*args))
    assert over_rest == over_grpc
