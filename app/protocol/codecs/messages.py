"""Whole inference messages <-> HTTP bodies: JSON, plus the binary tensor data extension.

A body with binary tensors is a JSON header of `Inference-Header-Content-Length` bytes
followed by each binary tensor's raw bytes, in the order of the tensors in the header; such a
tensor carries `parameters.binary_data_size` instead of `data`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import numpy as np
import orjson

from app.protocol.codecs.arrays import array_from_json, array_to_json, check_shape
from app.protocol.codecs.datatypes import Datatype, parse_datatype
from app.protocol.codecs.raw import Buffer, array_from_raw, raw_view
from app.protocol.errors import InvalidInput
from app.protocol.payload import Answer, Output, Payload, Tensors
from app.protocol.types import (
    InferenceRequest,
    InferenceResponse,
    Parameters,
    RequestInput,
    RequestOutput,
    ResponseOutput,
)

HEADER_LENGTH = "inference-header-content-length"
BINARY_SIZE = "binary_data_size"
BINARY_OUTPUTS = "binary_data_output"  # request parameter: every output as binary data
BINARY_OUTPUT = "binary_data"  # requested output parameter: this output as binary data or not
_JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


class BinarySection:
    """Hands out consecutive slices of the bytes that follow the JSON header."""

    def __init__(self, view: memoryview) -> None:
        self._view = view
        self._offset = 0

    def take(self, size: object, what: str) -> memoryview:
        if type(size) is not int or size < 0:
            raise InvalidInput(f"{what}: {BINARY_SIZE} must be an integer >= 0, got {size!r}")
        end = self._offset + size
        if end > len(self._view):
            raise InvalidInput(
                f"{what}: {BINARY_SIZE} {size} runs past the binary data "
                f"({len(self._view) - self._offset} bytes left)"
            )
        chunk = self._view[self._offset : end]
        self._offset = end
        return chunk

    def check_consumed(self) -> None:
        left = len(self._view) - self._offset
        if left:
            raise InvalidInput(f"body has {left} bytes of binary data that no tensor claims")


def parse_header_length(value: str | None) -> int | None:
    """The `Inference-Header-Content-Length` header's value as an integer >= 0."""
    if value is None:
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit()):
        raise InvalidInput(
            f"Inference-Header-Content-Length must be an integer >= 0, got {value[:40]!r}"
        )
    digits = text.lstrip("0")
    if len(digits) > 18:  # int() refuses more than 4300 digits; no body is this long
        raise InvalidInput(
            f"Inference-Header-Content-Length has {len(digits)} digits: longer than any body"
        )
    return int(digits or "0")


def not_an_object(body: object) -> str:
    """The message for a JSON body that is not an object."""
    return f"body must be a JSON object, got {'null' if body is None else type(body).__name__}"


def split_body(body: Buffer, header_length: int | None) -> tuple[dict[str, Any], BinarySection]:
    """A body's JSON object, and the binary data after it (InvalidInput if malformed)."""
    view = memoryview(body)
    if header_length is None:
        header_length = len(view)
    elif header_length > len(view):
        raise InvalidInput(
            f"Inference-Header-Content-Length {header_length} exceeds the body's {len(view)} bytes"
        )
    try:
        message = orjson.loads(view[:header_length])
    except orjson.JSONDecodeError as error:
        raise InvalidInput(f"malformed JSON: {error}") from None
    if not isinstance(message, dict):
        raise InvalidInput(not_an_object(message))
    return message, BinarySection(view[header_length:])


def _optional(message: dict[str, Any], key: str, kind: type, what: str) -> Any:
    value = message.get(key)
    if value is not None and not isinstance(value, kind):
        raise InvalidInput(f"{what}: '{key}' must be a {_KIND_NAMES[kind]}")
    return value


_KIND_NAMES: dict[type, str] = {dict: "JSON object", str: "string", list: "list"}


def _tensor(
    item: object, index: int, role: str, binary: BinarySection
) -> tuple[str, list[int], Datatype, Parameters | None, np.ndarray]:
    """One tensor's name, shape, datatype, parameters and data."""
    if not isinstance(item, dict):
        raise InvalidInput(f"{role} {index}: must be a JSON object")
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"{role} {index}: 'name' must be a non-empty string")
    what = f"{role} {name!r}"
    shape = check_shape(item.get("shape"), what)
    datatype = parse_datatype(item.get("datatype"), what)
    parameters: Parameters | None = None
    if "parameters" in item:
        parameters = _optional(item, "parameters", dict, what)
    if parameters and BINARY_SIZE in parameters:
        if "data" in item:
            raise InvalidInput(f"{what}: has both 'data' and {BINARY_SIZE}")
        raw = binary.take(parameters[BINARY_SIZE], what)
        data = array_from_raw(raw, shape, datatype, what)
    elif "data" in item:
        data = array_from_json(item["data"], shape, datatype, what)
    else:
        raise InvalidInput(f"{what}: has no 'data'")
    return name, shape, datatype, parameters, data


def _tensor_list(message: dict[str, Any], key: str) -> list[Any]:
    items = message.get(key)
    if not isinstance(items, list):
        raise InvalidInput(f"'{key}' must be a list of tensors")
    return items


def _requested_outputs(message: dict[str, Any]) -> list[RequestOutput] | None:
    items = _optional(message, "outputs", list, "request")
    if items is None:
        return None
    outputs = []
    for index, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name:
            raise InvalidInput(f"requested output {index}: 'name' must be a non-empty string")
        what = f"requested output {name!r}"
        parameters = _optional(item, "parameters", dict, what)
        _check_boolean(parameters, BINARY_OUTPUT, what)
        outputs.append(RequestOutput.trusted(name=name, parameters=parameters))
    return outputs


def _check_boolean(parameters: Parameters | None, key: str, what: str) -> None:
    if parameters and key in parameters and not isinstance(parameters[key], bool):
        raise InvalidInput(f"{what}: parameter '{key}' must be a boolean (true or false)")


def payload_from_body(body: Buffer, header_length: int | None = None) -> Payload:
    """Decode an inference request body (JSON, or JSON header + binary tensors)."""
    return payload_from_parts(*split_body(body, header_length))


def payload_from_parts(message: dict[str, Any], binary: BinarySection) -> Payload:
    """The payload of a request body split by `split_body`."""
    inputs: Tensors = {}
    given: dict[str, Parameters] = {}
    for index, item in enumerate(_tensor_list(message, "inputs")):
        name, _, _, tensor_parameters, data = _tensor(item, index, "input", binary)
        if name in inputs:
            raise InvalidInput(f"input {name!r} is given more than once")
        inputs[name] = data
        if tensor_parameters:
            given[name] = tensor_parameters
    binary.check_consumed()
    if len(message) == 1:  # the inputs and nothing else: the usual request
        return Payload(inputs, input_parameters=given or None)
    parameters = _optional(message, "parameters", dict, "request")
    _check_boolean(parameters, BINARY_OUTPUTS, "request")
    request_id = _optional(message, "id", str, "request")
    return Payload(inputs, request_id, parameters, _requested_outputs(message), given or None)


def request_from_body(body: Buffer, header_length: int | None = None) -> InferenceRequest:
    """Decode an inference request body into an InferenceRequest."""
    return payload_from_body(body, header_length).request()


def response_from_body(body: Buffer, header_length: int | None = None) -> InferenceResponse:
    """Decode an inference response body (JSON, or JSON header + binary tensors)."""
    message, binary = split_body(body, header_length)
    outputs = []
    for index, item in enumerate(_tensor_list(message, "outputs")):
        name, shape, datatype, parameters, data = _tensor(item, index, "output", binary)
        outputs.append(
            ResponseOutput.trusted(
                name=name, shape=shape, datatype=datatype, parameters=parameters, data=data
            )
        )
    binary.check_consumed()
    model_name = message.get("model_name")
    if not isinstance(model_name, str):
        raise InvalidInput("response: 'model_name' must be a string")
    return InferenceResponse.trusted(
        model_name=model_name,
        model_version=_optional(message, "model_version", str, "response"),
        id=_optional(message, "id", str, "response"),
        parameters=_optional(message, "parameters", dict, "response"),
        outputs=outputs,
    )


def binary_output_names(
    request: InferenceRequest | Payload, outputs: Iterable[Output | ResponseOutput]
) -> set[str]:
    """The names of the `outputs` that the client asked to receive as binary data: all with
    `parameters.binary_data_output`, overridden per requested output by `binary_data`."""
    if not request.parameters and not request.outputs:
        return set()
    default = bool((request.parameters or {}).get(BINARY_OUTPUTS, False))
    chosen = {
        output.name: bool(output.parameters[BINARY_OUTPUT])
        for output in request.outputs or ()
        if output.parameters and BINARY_OUTPUT in output.parameters
    }
    return {output.name for output in outputs if chosen.get(output.name, default)}


def _encode_tensors(
    tensors: Iterable[RequestInput | Output], binary: Collection[str], chunks: list[Buffer]
) -> list[dict[str, Any]]:
    encoded = []
    for tensor in tensors:
        name, datatype = tensor.name, tensor.datatype
        item: dict[str, Any] = {"name": name, "datatype": datatype, "shape": tensor.shape}
        parameters = tensor.parameters
        if parameters and BINARY_SIZE in parameters:  # what an earlier hop sent: not ours
            parameters = {k: v for k, v in parameters.items() if k != BINARY_SIZE}
        if name in binary:
            raw = raw_view(tensor.data, datatype)  # copied once, by _finish
            chunks.append(raw)
            parameters = {**(parameters or {}), BINARY_SIZE: len(raw)}
        else:
            item["data"] = array_to_json(tensor.data, datatype, f"tensor {name!r}")
        if parameters:
            item["parameters"] = parameters
        encoded.append(item)
    return encoded


def _finish(message: dict[str, Any], chunks: list[Buffer]) -> tuple[bytes, int | None]:
    header = orjson.dumps(message, option=_JSON_OPTIONS)  # a Datatype: orjson writes its value
    if not chunks:
        return header, None
    return b"".join([header, *chunks]), len(header)


def _drop_none(message: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in message.items() if value is not None}


def answer_to_body(answer: Answer, binary: Collection[str] = ()) -> tuple[bytes, int | None]:
    """Encode an answer: (body, JSON header length if any output is binary)."""
    chunks: list[Buffer] = []
    message: dict[str, Any] = {"model_name": answer.model_name}
    if answer.model_version is not None:
        message["model_version"] = answer.model_version
    if answer.id is not None:
        message["id"] = answer.id
    if answer.parameters:
        message["parameters"] = answer.parameters
    message["outputs"] = _encode_tensors(answer.outputs, binary, chunks)
    return _finish(message, chunks)


def request_to_body(
    request: InferenceRequest, binary: Collection[str] = ()
) -> tuple[bytes, int | None]:
    """Encode a request: (body, JSON header length if any input is binary)."""
    chunks: list[Buffer] = []
    inputs = _encode_tensors(request.inputs, binary, chunks)
    outputs = [_drop_none(output.model_dump()) for output in request.outputs or ()]
    message = _drop_none(
        {
            "id": request.id,
            "parameters": request.parameters or None,
            "inputs": inputs,
            "outputs": outputs or None,
        }
    )
    return _finish(message, chunks)
