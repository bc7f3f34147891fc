"""Malformed inference bodies: each gets InvalidInput naming the problem."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from app.protocol.codecs.messages import parse_header_length, request_from_body, response_from_body
from app.protocol.errors import InvalidInput


def _input(name: str = "x", data: Any = (1.0, 2.0), **extra: Any) -> dict[str, Any]:
    return {"name": name, "shape": [len(data)], "datatype": "FP32", "data": list(data), **extra}


def _body(message: object) -> bytes:
    return orjson.dumps(message)


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
    (b"null", None, "body must be a JSON object, got null"),
    *(
        (
            _body({"inputs": [], "outputs": [{"name": "y", "parameters": {"binary_data": value}}]}),
            None,
            "requested output 'y': parameter 'binary_data' must be a boolean (true or false)",
        )
        for value in ("yes", "true", 1, 0, None, [True])
    ),
    *(
        (
            _body({"inputs": [], "parameters": {"binary_data_output": value}}),
            None,
            "request: parameter 'binary_data_output' must be a boolean (true or false)",
        )
        for value in ("yes", 1, None)
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
