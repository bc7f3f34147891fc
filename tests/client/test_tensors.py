"""InferInput / InferRequest / InferResponse, and every datatype round-tripping through both
clients and a real server (REST JSON, REST binary, gRPC raw)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from app.client import (
    InferenceGRPCClient,
    InferenceRESTClient,
    InferInput,
    InferOutput,
    InferRequest,
    InferResponse,
    RequestedOutput,
)
from app.client.v1 import request_body as v1_body
from app.client.v2 import request_body as v2_body
from app.protocol.errors import InvalidInput


def _objects(*items: Any) -> np.ndarray:
    array = np.empty(len(items), dtype=object)
    array[:] = list(items)
    return array


ROUND_TRIPS: list[tuple[str, np.ndarray]] = [
    ("BOOL", np.array([[True, False], [False, True]])),
    ("UINT8", np.array([0, 255], dtype=np.uint8)),
    ("UINT16", np.array([0, 65535], dtype=np.uint16)),
    ("UINT32", np.array([0, 2**32 - 1], dtype=np.uint32)),
    ("UINT64", np.array([0, 2**64 - 1], dtype=np.uint64)),
    ("INT8", np.array([-128, 127], dtype=np.int8)),
    ("INT16", np.array([-(2**15), 2**15 - 1], dtype=np.int16)),
    ("INT32", np.array([[-(2**31)], [2**31 - 1]], dtype=np.int32)),
    ("INT64", np.array([-(2**63), 2**63 - 1], dtype=np.int64)),
    ("FP16", np.array([[1.5, -2.25, 65504.0]], dtype=np.float16)),
    ("FP32", np.array([0.1, -3.4e38, 1e-45], dtype=np.float32)),
    ("FP64", np.array([np.pi, -1e308, np.nan], dtype=np.float64)),
    ("BYTES", _objects(b"plain", b"", "caf\u00e9".encode())),
    ("BYTES", _objects("text", "f\u00fcr", "")),
    ("BYTES", np.array([[b"ab", b"c"]], dtype=np.bytes_)),
]


def _echo_request(datatype: str, array: np.ndarray, binary: bool) -> InferRequest:
    tensor = InferInput("x", list(array.shape), datatype)
    tensor.set_data_from_numpy(array, binary_data=binary)
    return InferRequest("echo", [tensor], request_id="rt")


def _same(sent: np.ndarray, received: np.ndarray) -> None:
    assert received.shape == sent.shape
    if sent.dtype.kind in "OSU":
        as_bytes = [v if isinstance(v, bytes) else str(v).encode() for v in sent.ravel()]
        assert received.ravel().tolist() == as_bytes
    else:
        assert received.dtype == sent.dtype
        np.testing.assert_array_equal(received, sent)


REST_CASES = [
    pytest.param(datatype, array, binary, id=f"{'binary' if binary else 'json'}-{datatype}-{index}")
    for binary in (False, True)
    for index, (datatype, array) in enumerate(ROUND_TRIPS)
]


@pytest.mark.parametrize(("datatype", "array", "binary"), REST_CASES)
async def test_every_datatype_round_trips_over_rest(
    rest_client: InferenceRESTClient, datatype: str, array: np.ndarray, binary: bool
) -> None:
    response = await rest_client.infer(_echo_request(datatype, array, binary))
    assert response["x"].datatype == datatype
    _same(array, response["x"].as_numpy())


@pytest.mark.parametrize(("datatype", "array"), ROUND_TRIPS)
async def test_every_datatype_round_trips_over_grpc(
    grpc_client: InferenceGRPCClient, datatype: str, array: np.ndarray
) -> None:
    response = await grpc_client.infer(_echo_request(datatype, array, binary=False))
    assert response["x"].datatype == datatype
    _same(array, response["x"].as_numpy())


async def test_infinities_travel_as_binary_data_and_over_grpc(
    rest_client: InferenceRESTClient, grpc_client: InferenceGRPCClient
) -> None:
    values = np.array([np.inf, -np.inf, np.nan], dtype=np.float32)
    for client in (rest_client, grpc_client):
        response = await client.infer(_echo_request("FP32", values, binary=True))
        np.testing.assert_array_equal(response["x"].as_numpy(), values)


async def test_bytes_that_are_not_text_need_binary_data_over_rest(
    rest_client: InferenceRESTClient,
) -> None:
    raw = _objects(b"\xff\x00\xfe")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        await rest_client.infer(_echo_request("BYTES", raw, binary=False))
    response = await rest_client.infer(_echo_request("BYTES", raw, binary=True))
    assert response["x"].as_numpy().tolist() == [b"\xff\x00\xfe"]


def test_input_data_may_be_a_nested_list() -> None:
    tensor = InferInput("x", [2, 2], "FP32", data=[[1, 2], [3, 4]])
    assert tensor.as_numpy().dtype == np.float32
    assert tensor.as_numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    words = InferInput("w", [2], "BYTES", data=["a", b"b"])
    assert words.as_numpy().tolist() == ["a", b"b"]


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda: InferInput("x", [3], "FP32", data=[1, 2]), "2 values do not fill shape"),
        (lambda: InferInput("x", [1], "FLOAT", data=[1]), "unknown datatype 'FLOAT'"),
        (lambda: InferInput("x", [1], "INT8", data=[300]), "out of range for INT8"),
        (lambda: InferInput("x", [1], "BYTES", data=[1]), "must be str or bytes"),
    ],
)
def test_bad_input_data_names_the_problem(make: Any, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        make()


def test_set_data_from_numpy_checks_dtype_and_shape() -> None:
    tensor = InferInput("x", [2], "FP32")
    with pytest.raises(InvalidInput, match="dtype float64 does not hold FP32"):
        tensor.set_data_from_numpy(np.zeros(2))
    with pytest.raises(InvalidInput, match=r"shape \[3\] does not match shape \[2\]"):
        tensor.set_data_from_numpy(np.zeros(3, dtype=np.float32))
    with pytest.raises(InvalidInput, match="has no data"):
        tensor.as_numpy()
    tensor.set_data_from_numpy(np.ones(2, dtype=np.float32), binary_data=False)
    assert tensor.binary_data is False
    assert tensor.as_numpy().tolist() == [1.0, 1.0]


def test_request_accepts_kserve_keyword_names() -> None:
    tensor = InferInput("x", [1], "INT32", data=[1])
    wanted = RequestedOutput("y", binary_data=True)
    request = InferRequest(model_name="m", infer_inputs=[tensor], request_outputs=[wanted])
    assert request.inputs == [tensor]
    assert (
        request.outputs == request.request_outputs == [RequestedOutput("y", {"binary_data": True})]
    )
    assert wanted.binary_data is True
    assert request.get_input_by_name("x") is tensor
    assert request.get_input_by_name("nope") is None
    with pytest.raises(TypeError, match="needs inputs"):
        InferRequest("m")


def test_response_finds_outputs_by_name_and_compares_by_value() -> None:
    first = InferOutput("a", [1], "FP32", data=[1.0])
    response = InferResponse("1", "m", [first, InferOutput("b", [1], "BYTES", data=[b"x"])])
    assert response["a"] is response.get_output_by_name("a") is first
    assert [output.name for output in response] == ["a", "b"]
    assert response.get_output_by_name("c") is None
    with pytest.raises(KeyError, match="no output 'c'"):
        response["c"]
    same = InferResponse("1", "m", [InferOutput("a", [1], "FP32", data=[1.0]), response["b"]])
    assert same == response
    same.outputs[0] = InferOutput("a", [1], "FP32", data=[2.0])
    assert same != response


@pytest.mark.parametrize(
    ("shape", "datatype", "array", "problem"),
    [
        ([1], "INT8", np.array([300.7]), "INT8 expects integers"),
        ([1], "INT8", np.array([300]), "out of range for INT8"),
        ([2], "BOOL", np.array([0.5, 0.0]), "BOOL expects true/false"),
        ([2], "BYTES", np.array([1, 2]), "BYTES data must be str or bytes, got int"),
        ([1], "FP32", np.array(["a"]), "FP32 expects numbers"),
        ([1], "FP16", np.array([1e6]), "out of range for FP16"),
        ([4], "FP32", np.ones((1, 4), np.float32), r"shape \[1, 4\] does not match"),
        ([4], "FP64", np.ones((1, 4), np.float32), r"shape \[1, 4\] does not match"),
        ([4], "BYTES", np.array([["a", "b", "c", "d"]]), r"shape \[1, 4\] does not match"),
    ],
)
def test_constructor_checks_arrays_as_it_checks_lists(
    shape: list[int], datatype: str, array: np.ndarray, problem: str
) -> None:
    """The same kind, range and shape checks as list data: no silent cast or reshape."""
    with pytest.raises(InvalidInput, match=problem):
        InferInput("x", shape, datatype, array)
    with pytest.raises(InvalidInput, match=problem):
        InferInput("x", shape, datatype, array.tolist())


def test_constructor_takes_lossless_arrays_flat_or_of_the_shape() -> None:
    rows = np.ones((1, 4), np.float32)
    assert InferInput("x", [1, 4], "FP32", rows).as_numpy() is not None
    assert InferInput("x", [1, 4], "FP32", rows.ravel()).as_numpy().shape == (1, 4)  # flat
    widened = InferInput("x", [2], "FP32", np.array([1.5, 2.0])).as_numpy()  # float64 values
    assert widened.dtype == np.float32
    assert widened.tolist() == [1.5, 2.0]
    assert InferInput("x", [2], "INT8", np.array([1, -2])).as_numpy().dtype == np.int8
    assert InferInput("x", [1], "BYTES", np.array(["a"])).as_numpy().tolist() == ["a"]


def test_infinity_cannot_go_as_json() -> None:
    """JSON has no infinity (it would arrive as null, read as NaN): InvalidInput naming the
    tensor, over v2 and v1. NaN goes as null."""
    values = np.array([np.inf, 1, np.nan, -np.inf], np.float32)
    tensor = InferInput("x", [4], "FP32")
    tensor.set_data_from_numpy(values, binary_data=False)
    request = InferRequest("m", [tensor])
    for encode in (lambda: v2_body(request, binary_allowed=True), lambda: v1_body(request)):
        with pytest.raises(InvalidInput, match="tensor 'x' holds infinity, which JSON cannot"):
            encode()
    tensor.set_data_from_numpy(values, binary_data=True)  # binary data carries it
    assert values.tobytes() in v2_body(request, binary_allowed=True)[0]
    with pytest.raises(InvalidInput, match="infinity"):  # not advertised: JSON again
        v2_body(request, binary_allowed=False)
    tensor.set_data_from_numpy(np.array([np.nan, 1, 2, 3], np.float32), binary_data=False)
    assert b'"data":[null,1.0,2.0,3.0]' in v2_body(request, binary_allowed=True)[0]
