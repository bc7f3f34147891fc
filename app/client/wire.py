"""The clients' objects <-> the protocol core's types (`app.protocol.types`): one set of wire
types for the server and both clients."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from app.client.tensors import InferInput, InferOutput, InferRequest, InferResponse
from app.protocol.codecs.datatypes import DTYPES, Datatype
from app.protocol.codecs.messages import BINARY_SIZE
from app.protocol.errors import InvalidInput, InvalidResponse
from app.protocol.payload import Answer, Payload, Tensors
from app.protocol.types import (
    InferenceRequest,
    InferenceResponse,
    Parameters,
    RequestInput,
    RequestOutput,
    ResponseOutput,
)


def _without_size(parameters: Parameters | None) -> Parameters | None:
    if not parameters:
        return None
    kept = {key: value for key, value in parameters.items() if key != BINARY_SIZE}
    return kept or None


def to_protocol(request: InferRequest, binary_outputs: bool = False) -> InferenceRequest:
    """The protocol core's request for `request` (the model name travels separately); with
    `binary_outputs`, outputs come back as binary data unless the request says otherwise."""
    inputs = [
        RequestInput(
            name=tensor.name,
            shape=tensor.shape,
            datatype=Datatype(tensor.datatype),
            parameters=_without_size(tensor.parameters),
            data=tensor.as_numpy(),
        )
        for tensor in request.inputs
    ]
    outputs = [RequestOutput(name=o.name, parameters=o.parameters) for o in request.outputs or ()]
    parameters = request.parameters
    if binary_outputs and "binary_data_output" not in (parameters or {}):
        parameters = {**(parameters or {}), "binary_data_output": True}
    return InferenceRequest(
        id=request.id, parameters=parameters, inputs=inputs, outputs=outputs or None
    )


def to_payload(request: InferRequest) -> Payload:
    """The payload of `request` for a server in this process: each input's array as it is
    (an InferInput holds an array of its datatype and shape)."""
    inputs: Tensors = {}
    given: dict[str, Parameters] = {}
    for tensor in request.inputs:
        name = tensor.name
        if name in inputs:
            raise InvalidInput(f"input {name!r} is given more than once")
        inputs[name] = tensor.as_numpy()
        parameters = _without_size(tensor.parameters)
        if parameters:
            given[name] = parameters
    outputs = [RequestOutput(name=o.name, parameters=o.parameters) for o in request.outputs or ()]
    return Payload(inputs, request.id, request.parameters, outputs or None, given or None)


def from_answer(answer: Answer) -> InferResponse:
    """The client's response for an answer given in this process: arrays of their datatype
    and shape are taken as they are, others checked as a decoded response's are."""
    outputs = []
    for output in answer.outputs:
        data = output.data
        tensor = None
        if data.dtype == DTYPES[output.datatype] and data.shape == tuple(output.shape):
            tensor = InferOutput.of_array(output.name, data, output.parameters)
        if tensor is None:
            shape, datatype = list(output.shape), output.datatype.value
            tensor = InferOutput(output.name, shape, datatype, data, output.parameters)
        outputs.append(tensor)
    return InferResponse(
        answer.id, answer.model_name, outputs, answer.model_version, answer.parameters
    )


def binary_inputs(request: InferRequest) -> set[str]:
    """The names of the inputs set with `binary_data=True`."""
    return {tensor.name for tensor in request.inputs if tensor.binary_data}


def check_json_safe(tensors: list[InferInput]) -> None:
    """InvalidInput for a float tensor holding ±inf, which JSON cannot carry (orjson would
    write null, which reads back as NaN). NaN as null is fine: servers read null as NaN."""
    for tensor in tensors:
        array = tensor.as_numpy()
        if array.dtype.kind == "f" and np.isinf(array).any():
            raise InvalidInput(
                f"tensor {tensor.name!r} holds infinity, which JSON cannot carry: send it as "
                "binary data (set_data_from_numpy(..., binary_data=True) to a server that "
                "advertises binary_tensor_data) or over gRPC"
            )


@contextmanager
def answer_from(where: str) -> Iterator[None]:
    """Turns a decoding failure of a server's answer (InvalidInput from the codecs) into
    InvalidResponse: the answer, not the caller's input, is wrong."""
    try:
        yield
    except InvalidInput as error:
        raise InvalidResponse(
            f"{where} answered with a response that is not OIP: {error}"
        ) from None


def from_protocol(response: InferenceResponse) -> InferResponse:
    """The client's response for a decoded protocol response."""
    outputs = [_output(tensor) for tensor in response.outputs]
    return InferResponse(
        response.id, response.model_name, outputs, response.model_version, response.parameters
    )


def _output(tensor: ResponseOutput) -> InferOutput:
    parameters = _without_size(tensor.parameters)
    return InferOutput(tensor.name, tensor.shape, tensor.datatype.value, tensor.data, parameters)
