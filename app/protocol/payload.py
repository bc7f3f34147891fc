"""Inference in arrays: the `Payload` the DataPlane reads and the `Answer` it gives back.

The codecs decode a wire request straight into a Payload: the input arrays by name (each of
the dtype that holds its datatype, so the datatype is read off the array), with the request's
id, parameters and requested outputs; and they write an Answer straight to the wire. The
protocol's messages are built from them only where someone asks for one: an InferenceRequest
(`Payload.request()`) for a predictor that answers whole requests, an InferenceResponse
(`Answer.response()`) for a caller in process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, cast

import numpy as np

from app.protocol.codecs.arrays import array_from_values, check_shape, element_count
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
            inputs[name] = _array_of(tensor, f"input {name!r}")
            if tensor.parameters:
                given[name] = tensor.parameters
        return cls(inputs, request.id, request.parameters, request.outputs, given or None)


def _array_of(tensor: RequestInput | ResponseOutput, what: str) -> np.ndarray:
    """The tensor's data as an array of its datatype and shape; InvalidInput naming `what`
    when it is not one (values out of the datatype's range, or too many or too few)."""
    data, datatype = tensor.data, tensor.datatype
    shape = check_shape(tensor.shape, what)
    if datatype is Datatype.BYTES:
        if data.dtype.kind not in "OSU":
            raise InvalidInput(f"{what}: datatype BYTES expects strings in data, got {data.dtype}")
        data = data.astype(object, copy=False)
    elif data.dtype != DTYPES[datatype]:
        return array_from_values(cast("Sequence[Any]", data), shape, datatype, what)
    if data.size != element_count(shape) or (data.ndim > 1 and list(data.shape) != shape):
        raise InvalidInput(f"{what}: data of shape {list(data.shape)} does not fill shape {shape}")
    return data if data.shape == tuple(shape) else data.reshape(shape)


class Output:
    """One output of an answer: its name, datatype, shape, array and parameters."""

    __slots__ = ("data", "datatype", "name", "parameters", "shape")

    def __init__(
        self,
        name: str,
        datatype: Datatype,
        shape: Sequence[int],
        data: np.ndarray,
        parameters: Parameters | None = None,
    ) -> None:
        self.name = name
        self.datatype = datatype
        self.shape = shape
        self.data = data
        self.parameters = parameters


class Answer:
    """What a servable answered: its outputs, the model (version) that answered, the request
    id. Fronts write it to the wire; `response()` is the InferenceResponse it stands for."""

    __slots__ = ("id", "model_name", "model_version", "outputs", "parameters")

    def __init__(
        self,
        model_name: str,
        outputs: list[Output],
        model_version: str | None = None,
        id: str | None = None,
        parameters: Parameters | None = None,
    ) -> None:
        self.model_name = model_name
        self.outputs = outputs
        self.model_version = model_version
        self.id = id
        self.parameters = parameters

    @classmethod
    def of(cls, response: InferenceResponse) -> Answer:
        """The answer an InferenceResponse holds; InvalidInput naming the output whose data is
        not an array of its datatype and shape (as a request's input would be)."""
        outputs = [
            Output(
                tensor.name,
                tensor.datatype,
                tensor.shape,
                _array_of(tensor, f"output {tensor.name!r}"),
                tensor.parameters,
            )
            for tensor in response.outputs
        ]
        return cls(
            response.model_name, outputs, response.model_version, response.id, response.parameters
        )

    def response(self) -> InferenceResponse:
        """The InferenceResponse holding this answer."""
        outputs = [
            ResponseOutput.trusted(
                name=output.name,
                shape=list(output.shape),
                datatype=output.datatype,
                parameters=output.parameters,
                data=output.data,
            )
            for output in self.outputs
        ]
        return InferenceResponse.trusted(
            model_name=self.model_name,
            model_version=self.model_version,
            id=self.id,
            parameters=self.parameters,
            outputs=outputs,
        )


def answer_from_arrays(
    model_name: str,
    outputs: object,
    model_version: str | None = None,
    request_id: str | None = None,
) -> Answer:
    """The answer holding a predictor's `outputs`; PredictorError unless they are a dict of
    arrays (or of what `np.asarray` takes) whose dtypes an OIP datatype holds."""
    if not isinstance(outputs, dict):
        raise PredictorError(
            f"model {model_name!r}: predict must return a dict of arrays, "
            f"got {type(outputs).__name__}"
        )
    checked = []
    for name, value in outputs.items():
        if type(name) is not str or not name:
            raise PredictorError(
                f"model {model_name!r}: predict must name its outputs with non-empty strings, "
                f"got {name!r}"
            )
        array = value if type(value) is np.ndarray else np.asarray(value)  # no subclass
        checked.append(Output(name, _datatype(model_name, name, array), array.shape, array))
    return Answer(model_name, checked, model_version, request_id)


def _datatype(model_name: str, name: str, array: np.ndarray) -> Datatype:
    datatype = from_dtype(array.dtype)
    if datatype is None:
        raise PredictorError(
            f"model {model_name!r}: output {name!r} has numpy dtype {array.dtype}, "
            "which no OIP datatype holds"
        )
    return datatype
