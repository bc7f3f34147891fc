"""Whole inference bodies: JSON, the binary tensor extension both ways, and every malformed
body."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest

from app.protocol.codecs.datatypes import Datatype
from app.protocol.codecs.messages import (
    binary_output_names,
    parse_header_length,
    request_from_body,
    request_to_body,
    response_from_body,
    response_to_body,
)
from app.protocol.errors import InvalidInput
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
    body, length = response_to_body(original, binary)
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
    body, length = response_to_body(_response(), ("b",))
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
    body, _ = response_to_body(InferenceResponse(model_name="m", outputs=[output]))
    assert orjson.loads(body)["outputs"][0]["parameters"] == {"kept": 1}


def _request(**parameters: Any) -> InferenceRequest:
    outputs = [
        RequestOutput(name=name, parameters={"binary_data": value})
        for name, value in parameters.items()
    ]
    return InferenceRequest(inputs=[], outputs=outputs or None)


def test_binary_output_names() -> None:
    names = ["a", "b", "c"]
    assert binary_output_names(_request(), names) == set()
    everything = InferenceRequest(inputs=[], parameters={"binary_data_output": True})
    assert binary_output_names(everything, names) == {"a", "b", "c"}
    assert binary_output_names(_request(b=True), names) == {"b"}
    everything.outputs = [RequestOutput(name="a", parameters={"binary_data": False})]
    assert binary_output_names(everything, names) == {"b", "c"}


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("0", 0), ("123", 123), (" 7 ", 7)])
def test_header_length_values(value: str | None, expected: int | None) -> None:
    assert parse_header_length(value) == expected


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "", "0x10", "\u00b2", "\u0663"])
def test_header_length_must_be_a_number(value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_header_length(value)
    assert caught.value.message == (
        f"Inference-Header-Content-Length must be an integer >= 0, got {value!r}"
    )


def _sized(name: str, size: object, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "shape": [2],
        "datatype": "FP32",
        "parameters": {"binary_data_size": size},
        **extra,
    }


MALFORMED: list[tuple[bytes, int | None, str]] = [
    (b"{", None, "malformed JSON: "),
    (b"", None, "malformed JSON: "),
    (b"\xff\xfe", None, "malformed JSON: "),
    (b"[1, 2]", None, "body must be a JSON object, got list"),
    (b'"text"', None, "body must be a JSON object, got str"),
    (b"{}", None, "'inputs' must be a list of tensors"),
    (b'{"inputs": {"name": "x"}}', None, "'inputs' must be a list of tensors"),
    (_body({"inputs": [5]}), None, "input 0: must be a JSON object"),
    (_body({"inputs": [_input(name="")]}), None, "input 0: 'name' must be a non-empty string"),
    (_body({"inputs": [{"shape": [1]}]}), None, "input 0: 'name' must be a non-empty string"),
    (
        _body({"inputs": [{**_input(), "name": 3}]}),
        None,
        "input 0: 'name' must be a non-empty string",
    ),
    (_body({"inputs": [{**_input(), "shape": "2"}]}), None, "input 'x': shape must be a list"),
    (
        _body({"inputs": [{**_input(), "shape": [-2]}]}),
        None,
        "input 'x': shape [-2] has a negative",
    ),
    (
        _body({"inputs": [{**_input(), "datatype": "F32"}]}),
        None,
        "input 'x': unknown datatype 'F32'",
    ),
    (_body({"inputs": [{**_input(), "data": None}]}), None, "input 'x': data must be a list"),
    (
        _body({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32"}]}),
        None,
        "input 'x': has no 'data'",
    ),
    (
        _body({"inputs": [_input(parameters=[1])]}),
        None,
        "input 'x': 'parameters' must be a JSON object",
    ),
    (_body({"id": 5, "inputs": []}), None, "request: 'id' must be a string"),
    (_body({"parameters": "p", "inputs": []}), None, "request: 'parameters' must be a JSON object"),
    (_body({"inputs": [], "outputs": {"name": "y"}}), None, "request: 'outputs' must be a list"),
    (
        _body({"inputs": [], "outputs": ["y"]}),
        None,
        "requested output 0: 'name' must be a non-empty",
    ),
    (_body({"inputs": [], "outputs": [{"name": ""}]}), None, "requested output 0: 'name' must be"),
    (
        _body({"inputs": [], "outputs": [{"name": "y", "parameters": 1}]}),
        None,
        "requested output 'y': 'parameters' must be a JSON object",
    ),
]


@pytest.mark.parametrize(("body", "length", "expected"), MALFORMED)
def test_malformed_requests(body: bytes, length: int | None, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        request_from_body(body, length)
    assert caught.value.message.startswith(expected), caught.value.message


def _binary_case(inputs: list[dict[str, Any]], raw: bytes, delta: int = 0) -> tuple[bytes, int]:
    json = _body({"inputs": inputs})
    return json + raw, len(json) + delta


BINARY_MALFORMED: list[tuple[tuple[bytes, int], str]] = [
    (_binary_case([_sized("x", 8)], b"\x00" * 8, delta=100), "Inference-Header-Content-Length 1"),
    (_binary_case([_sized("x", 8)], b"\x00" * 8, delta=-1), "malformed JSON: "),
    (
        _binary_case([_sized("x", 8)], b"\x00" * 4),
        "input 'x': binary_data_size 8 runs past the binary data (4 bytes left)",
    ),
    (
        _binary_case([_sized("x", 8)], b"\x00" * 12),
        "body has 4 bytes of binary data that no tensor claims",
    ),
    (
        _binary_case([_sized("x", 8), _sized("y", 8)], b"\x00" * 12),
        "input 'y': binary_data_size 8 runs past the binary data (4 bytes left)",
    ),
    (
        _binary_case([_sized("x", 4)], b"\x00" * 4),
        "input 'x': 4 bytes of raw data do not match shape [2] of FP32 (8 bytes)",
    ),
    (
        _binary_case([_sized("x", -8)], b"\x00" * 8),
        "input 'x': binary_data_size must be an integer >= 0, got -8",
    ),
    (
        _binary_case([_sized("x", "8")], b"\x00" * 8),
        "input 'x': binary_data_size must be an integer >= 0, got '8'",
    ),
    (
        _binary_case([_sized("x", 8.0)], b"\x00" * 8),
        "input 'x': binary_data_size must be an integer >= 0, got 8.0",
    ),
    (
        _binary_case([_sized("x", True)], b"\x00" * 8),
        "input 'x': binary_data_size must be an integer >= 0, got True",
    ),
    (
        _binary_case([_sized("x", 8, data=[1.0, 2.0])], b"\x00" * 8),
        "input 'x': has both 'data' and binary_data_size",
    ),
    (
        _binary_case([_input()], b"\x00" * 8),
        "body has 8 bytes of binary data that no tensor claims",
    ),
]


@pytest.mark.parametrize(("case", "expected"), BINARY_MALFORMED)
def test_malformed_binary_requests(case: tuple[bytes, int], expected: str) -> None:
    body, length = case
    with pytest.raises(InvalidInput) as caught:
        request_from_body(body, length)
    assert caught.value.message.startswith(expected), caught.value.message


def test_header_length_beyond_the_body_names_both_sizes() -> None:
    with pytest.raises(InvalidInput) as caught:
        request_from_body(b"{}", 10)
    assert caught.value.message == "Inference-Header-Content-Length 10 exceeds the body's 2 bytes"


def test_response_needs_a_model_name() -> None:
    with pytest.raises(InvalidInput, match="response: 'model_name' must be a string"):
        response_from_body(_body({"outputs": []}))
    with pytest.raises(InvalidInput, match="'outputs' must be a list of tensors"):
        response_from_body(_body({"model_name": "m"}))
