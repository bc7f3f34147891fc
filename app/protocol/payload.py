"""Inference in arrays: the `Payload` the DataPlane reads, and the response built from a
predictor's output arrays.

The codecs decode a wire request straight into a Payload: the input arrays by name (each of
the dtype that holds its datatype, so the datatype is read off the array), with the request's
id, parameters and requested outputs. An InferenceRequest is built from it (`request()`)
only for a predictor that answers whole requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, cast

import numpy as np

from app.protocol.codecs.arrays import array_from_values, element_count
from app.protocol.codecs.datatypes import DTYPES, Datatype, from_dtype
from app.protocol.errors import InvalidInput, PredictorError
from app.protocol.types import (
    InferenceRequest,
    InferenceResponse,
    Parameters,
    RequestInput,
    RequestOutput,
    ResponseOutput,
)

Tensors = dict[str, np.ndarray]
"""Tensors by name: what `predict` takes and returns."""


class Encoded(Protocol):
    """A request as a front received it, decoded by the DataPlane (so that a request that
    cannot be decoded is counted and logged as any other)."""

    def decode(self) -> Payload: ...


class Payload:
    """An inference request's input arrays by name, and what else the request says."""

    __slots__ = ("id", "input_parameters", "inputs", "outputs", "parameters")

    def __init__(
        self,
        inputs: Tensors,
        id: str | None = None,
        parameters: Parameters | None = None,
        outputs: list[RequestOutput] | None = None,
        input_parameters: dict[str, Parameters] | None = None,
    ) -> None:
        self.inputs = inputs
        self.id = id
        self.parameters = parameters
        self.outputs = outputs
        """The outputs the client asked for, in its order (None: every output)."""
        self.input_parameters = input_parameters
        """The parameters of the inputs that have some, by input name."""

    def decode(self) -> Payload:
        """Itself: a Payload is already decoded."""
        return self

    def request(self) -> InferenceRequest:
        """The InferenceRequest holding this payload."""
        given = self.input_parameters or {}
        inputs = [
            RequestInput.trusted(
                name=name,
                shape=list(array.shape),
                datatype=from_dtype(array.dtype),
                parameters=given.get(name),
                data=array,
            )
            for name, array in self.inputs.items()
        ]
        return InferenceRequest.trusted(
            id=self.id, parameters=self.parameters, inputs=inputs, outputs=self.outputs
        )

    @classmethod
    def of(cls, request: InferenceRequest) -> Payload:
        """The payload of a request built in process: each input's data as an array of its
        datatype and shape (InvalidInput, as from the wire, when it is not one)."""
        inputs: Tensors = {}
        given: dict[str, Parameters] = {}
        for tensor in request.inputs:
            name = tensor.name
            if name in inputs:
                raise InvalidInput(f"input {name!r} is given more than once")
            inputs[name] = _array_of(tensor)
            if tensor.parameters:
                given[name] = tensor.parameters
        return cls(inputs, request.id, request.parameters, request.outputs, given or None)


def _array_of(tensor: RequestInput) -> np.ndarray:
    data, shape, datatype = tensor.data, tensor.shape, tensor.datatype
    what = f"input {tensor.name!r}"
    if datatype is Datatype.BYTES and data.dtype.kind in "OSU":
        data = data.astype(object, copy=False)
    elif data.dtype != DTYPES[datatype]:
        return array_from_values(cast("Sequence[Any]", data), shape, datatype, what)
    if data.size != element_count(shape) or (data.ndim > 1 and list(data.shape) != shape):
        raise InvalidInput(f"{what}: data of shape {list(data.shape)} does not fill shape {shape}")
    return data.reshape(shape)


def response_from_arrays(
    model_name: str,
    outputs: object,
    model_version: str | None = None,
    request_id: str | None = None,
) -> InferenceResponse:
    """The response holding a predictor's `outputs`; PredictorError unless they are a dict
    of arrays (or of what `np.asarray` takes) whose dtypes an OIP datatype holds."""
    if not isinstance(outputs, dict):
        raise PredictorError(
            f"model {model_name!r}: predict must return a dict of arrays, "
            f"got {type(outputs).__name__}"
        )
    tensors = []
    for name, value in outputs.items():
        array = value if isinstance(value, np.ndarray) else np.asarray(value)
        tensors.append(
            ResponseOutput.trusted(
                name=name,
                shape=list(array.shape),
                datatype=_datatype(model_name, name, array),
                parameters=None,
                data=array,
            )
        )
    return InferenceResponse.trusted(
        model_name=model_name,
        model_version=model_version,
        id=request_id,
        parameters=None,
        outputs=tensors,
    )


def _datatype(model_name: str, name: str, array: np.ndarray) -> Datatype:
    datatype = from_dtype(array.dtype)
    if datatype is None:
        raise PredictorError(
            f"model {model_name!r}: output {name!r} has numpy dtype {array.dtype}, "
            "which no OIP datatype holds"
        )
    return datatype
