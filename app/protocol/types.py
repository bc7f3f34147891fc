"""Open Inference Protocol wire messages, with the spec's names.

Tensor `data` holds a numpy array once decoded (`app.protocol.codecs` decodes and encodes it);
its JSON schema documents the wire form: row-major values, flat or nested.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from app.protocol.codecs.datatypes import Datatype

Parameters = dict[str, Any]
"""Free-form parameters: string keys, boolean / number / string values."""

_DATA_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "Tensor elements in row-major order, flat or nested to the shape. "
    "Numbers for numeric datatypes, true/false for BOOL, strings for BYTES. "
    "Omitted when the tensor travels as binary data (parameters.binary_data_size).",
    "items": {},
    "example": [5.1, 3.5, 1.4, 0.2],
}
TensorData = Annotated[np.ndarray, WithJsonSchema(_DATA_SCHEMA)]
"""A tensor's elements: a numpy array in memory, a JSON array on the wire."""


class _Message(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)


class ErrorResponse(_Message):
    """The body of every error answer."""

    error: str = Field(examples=["model 'iris' has no version '7'"])


class ServerLiveResponse(_Message):
    live: bool


class ServerReadyResponse(_Message):
    ready: bool


class ModelReadyResponse(_Message):
    name: str
    ready: bool


class ServerMetadataResponse(_Message):
    name: str
    version: str
    extensions: list[str] = Field(default_factory=list)


class MetadataTensor(_Message):
    """A tensor's declared signature; -1 in `shape` accepts any size."""

    name: str
    datatype: Datatype
    shape: list[int]
    parameters: Parameters | None = None


class ModelMetadataResponse(_Message):
    name: str
    versions: list[str] | None = None
    platform: str = ""
    inputs: list[MetadataTensor] = Field(default_factory=list)
    outputs: list[MetadataTensor] = Field(default_factory=list)
    parameters: Parameters | None = None


class RequestInput(_Message):
    """One input tensor of an inference request."""

    name: str = Field(examples=["input-0"])
    shape: list[int] = Field(examples=[[1, 4]])
    datatype: Datatype = Field(examples=["FP32"])
    parameters: Parameters | None = None
    data: TensorData


class RequestOutput(_Message):
    """An output the client asks for, with per-output parameters (e.g. binary_data)."""

    name: str
    parameters: Parameters | None = None


class InferenceRequest(_Message):
    """A request to run one model; only the listed outputs come back when `outputs` is set."""

    id: str | None = None
    parameters: Parameters | None = None
    inputs: list[RequestInput]
    outputs: list[RequestOutput] | None = None


class ResponseOutput(_Message):
    """One output tensor of an inference response."""

    name: str
    shape: list[int]
    datatype: Datatype
    parameters: Parameters | None = None
    data: TensorData


class InferenceResponse(_Message):
    model_name: str
    model_version: str | None = None
    id: str | None = None
    parameters: Parameters | None = None
    outputs: list[ResponseOutput]
