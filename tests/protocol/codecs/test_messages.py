"""Whole inference bodies: JSON, the binary tensor extension both ways, and every malformed
body."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest

from app.protocol.codecs.datatypes import Datatype
from app.protocol.codecs.messages import (
    answer_to_body,
    binary_output_names,
    parse_header_length,
    request_from_body,
    request_to_body,
    response_from_body,
)
from app.protocol.payload import Answer, Output
from app.protocol.types import (
    InferenceRequest,
    InferenceResponse,
    RequestInput,
    RequestOutput,
    ResponseOutput,
)

FLOATS = np.arange(8, dtype=np.float32).reshape(2, 4)


def _input(name: str = "x", data: Any = (1.0, 2.0), **extra: Any) -> dict[str, Any]:
    return {"name": name, "shape": [len(data)], "datatype": "FP32", "data": list(data), **extra}


def _body(message: object) -> bytes:
    return orjson.dumps(message)


def test_json_request_with_everything() -> None:
    message = {
        "id": "r1",
        "parameters": {"temperature": 0.5, "mode": "fast", "flag": True},
        "inputs": [_input(parameters={"content_type": "np"})],
        "outputs": [{"name": "y", "parameters": {"binary_data": True}}, {"name": "z"}],
    }
    request = request_from_body(_body(message))
    assert request.id == "r1"
    assert request.parameters == {"temperature": 0.5, "mode": "fast", "flag": True}
    (tensor,) = request.inputs
    assert (tensor.name, tensor.shape, tensor.datatype) == ("x", [2], Datatype.FP32)
    assert tensor.parameters == {"content_type": "np"}
    assert tensor.data.dtype == np.float32
    assert tensor.data.tolist() == [1.0, 2.0]
    assert request.outputs == [
        RequestOutput(name="y", parameters={"binary_data": True}),
        RequestOutput(name="z"),
    ]


def test_minimal_request() -> None:
    request = request_from_body(_body({"inputs": [_input()]}))
    assert request.id is None
    assert request.parameters is None
    assert request.outputs is None


def _binary_body(
    header: dict[str, Any], *chunks: bytes, length: int | None = None
) -> tuple[bytes, int]:
    json = _body(header)
    return json + b"".join(chunks), len(json) if length is None else length


def test_binary_inputs_between_json_inputs() -> None:
    header = {
        "inputs": [
            {
                "name": "a",
                "shape": [2, 4],
                "datatype": "FP32",
                "parameters": {"binary_data_size": 32},
            },
            _input("b"),
            {
                "name": "c",
                "shape": [2],
                "datatype": "BYTES",
                "parameters": {"binary_data_size": 11},
            },
        ]
    }
    body, length = _binary_body(header, FLOATS.tobytes(), b"\x03\x00\x00\x00abc\x00\x00\x00\x00")
    a, b, c = request_from_body(body, length).inputs
    np.testing.assert_array_equal(a.data, FLOATS)
    assert a.parameters == {"binary_data_size": 32}
    assert b.data.tolist() == [1.0, 2.0]
    assert c.data.tolist() == [b"abc", b""]


def test_binary_inputs_share_memory_with_the_body() -> None:
    header = {
        "inputs": [
            {"name": "a", "shape": [8], "datatype": "FP32", "parameters": {"binary_data_size": 32}}
        ]
    }
    body, length = _binary_body(header, FLOATS.tobytes())
    buffer = bytearray(body)
    (tensor,) = request_from_body(buffer, length).inputs
    assert np.shares_memory(tensor.data, np.frombuffer(buffer, dtype=np.uint8))


def test_header_length_equal_to_the_body_is_plain_json() -> None:
    body = _body({"inputs": [_input()]})
    assert request_from_body(body, len(body)).inputs[0].data.tolist() == [1.0, 2.0]


def _response() -> InferenceResponse:
    return InferenceResponse(
        model_name="m",
        model_version="2",
        id="r1",
        parameters={"took": 3},
        outputs=[
            ResponseOutput(name="p", shape=[2, 4], datatype=Datatype.FP32, data=FLOATS),
            ResponseOutput(
                name="s",
                shape=[2],
                datatype=Datatype.BYTES,
                data=np.array([b"x", b"yz"], dtype=object),
            ),
            ResponseOutput(
                name="b", shape=[3], datatype=Datatype.BOOL, data=np.array([True, False, True])
            ),
        ],
    )


@pytest.mark.parametrize("binary", [(), ("p",), ("s",), ("p", "s", "b")])
def test_response_round_trips(binary: tuple[str, ...]) -> None:
    original = _response()
    body, length = answer_to_body(Answer.of(original), binary)
    assert (length is None) == (not binary)
    header = orjson.loads(body[:length] if length else body)
    for item in header["outputs"]:
        assert ("data" in item) == (item["name"] not in binary)
        assert ("binary_data_size" in item.get("parameters", {})) == (item["name"] in binary)
    decoded = response_from_body(body, length)
    assert (decoded.model_name, decoded.model_version, decoded.id) == ("m", "2", "r1")
    assert decoded.parameters == {"took": 3}
    for got, want in zip(decoded.outputs, original.outputs, strict=True):
        assert (got.name, got.shape, got.datatype) == (want.name, want.shape, want.datatype)
        np.testing.assert_array_equal(got.data, want.data)


def test_binary_response_layout() -> None:
    body, length = answer_to_body(Answer.of(_response()), ("b",))
    assert length is not None
    assert body[length:] == b"\x01\x00\x01"
    (bool_output,) = [o for o in orjson.loads(body[:length])["outputs"] if o["name"] == "b"]
    assert bool_output["parameters"] == {"binary_data_size": 3}


@pytest.mark.parametrize("binary", [(), ("x",)])
def test_request_round_trips(binary: tuple[str, ...]) -> None:
    original = InferenceRequest(
        id="q",
        parameters={"binary_data_output": True},
        inputs=[RequestInput(name="x", shape=[2, 4], datatype=Datatype.FP32, data=FLOATS)],
        outputs=[RequestOutput(name="y", parameters={"binary_data": False})],
    )
    body, length = request_to_body(original, binary)
    decoded = request_from_body(body, length)
    assert decoded.id == "q"
    assert decoded.parameters == {"binary_data_output": True}
    assert decoded.outputs == original.outputs
    np.testing.assert_array_equal(decoded.inputs[0].data, FLOATS)


def test_stale_binary_size_is_not_written_as_json() -> None:
    output = _response().outputs[0]
    output.parameters = {"binary_data_size": 999, "kept": 1}
    body, _ = answer_to_body(Answer.of(InferenceResponse(model_name="m", outputs=[output])))
    assert orjson.loads(body)["outputs"][0]["parameters"] == {"kept": 1}


def _request(**parameters: Any) -> InferenceRequest:
    outputs = [
        RequestOutput(name=name, parameters={"binary_data": value})
        for name, value in parameters.items()
    ]
    return InferenceRequest(inputs=[], outputs=outputs or None)


def test_binary_output_names() -> None:
    names = [Output(name, Datatype.FP32, [1], np.zeros(1, np.float32)) for name in "abc"]
    assert binary_output_names(_request(), names) == set()
    everything = InferenceRequest(inputs=[], parameters={"binary_data_output": True})
    assert binary_output_names(everything, names) == {"a", "b", "c"}
    assert binary_output_names(_request(b=True), names) == {"b"}
    everything.outputs = [RequestOutput(name="a", parameters={"binary_data": False})]
    assert binary_output_names(everything, names) == {"b", "c"}


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("0", 0), ("123", 123), (" 7 ", 7)])
def test_header_length_values(value: str | None, expected: int | None) -> None:
    assert parse_header_length(value) == expected
