"""Open Inference Protocol wire messages, with the spec's names.

Tensor `data` holds a numpy array once decoded (`app.protocol.codecs` decodes and encodes it);
its JSON schema documents the wire form: row-major values, flat or nested.
"""

from __future__ import annotations

from typing import Annotated, Any, Self

import numpy as np
import orjson
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


_new = object.__new__
# BaseModel's slots, set through their descriptors: the quickest way to fill an instance
_set_dict, _set_fields_set, _set_extra, _set_private = (
    BaseModel.__dict__[slot].__set__
    for slot in (
        "__dict__",
        "__pydantic_fields_set__",
        "__pydantic_extra__",
        "__pydantic_private__",
    )
)


class _Message(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    @classmethod
    def trusted(cls, **fields: Any) -> Self:
        """An instance of `fields` (every field, each already of its declared type) as they
        are, not validated again: how the codecs build messages from what they checked
        themselves, on every request. Equal to the validated `cls(**fields)`."""
        message = _new(cls)
        _set_dict(message, fields)
        _set_fields_set(message, set(fields))
        _set_extra(message, None)
        _set_private(message, None)
        return message

    def assign_trusted(self, field: str, value: Any) -> None:
        """`self.field = value` for a value already of the field's type, without Pydantic's
        assignment machinery (which costs on every request)."""
        self.__dict__[field] = value
        self.__pydantic_fields_set__.add(field)


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


# Pipeline inspection (what Seldon's `seldon pipeline inspect` reads from Kafka topics).


class InspectedTensor(_Message):
    name: str
    datatype: str
    shape: list[int]
    data: list[Any]

    @classmethod
    def of(cls, name: str, datatype: str, shape: list[int], data: Any) -> Self:
        """The tensor as inspection shows it: its data flat, BYTES as text, numbers as an
        answer writes them (floats in their shortest text, through orjson)."""
        flat = np.asarray(data, dtype=object if datatype == "BYTES" else None).ravel()
        if datatype == "BYTES":
            values = [v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in flat]
        else:
            values = orjson.loads(orjson.dumps(flat, option=orjson.OPT_SERIALIZE_NUMPY))
        return cls(name=name, datatype=datatype, shape=shape, data=values)


class InspectedRequest(_Message):
    """The tensors each step of a pipeline was sent (`inputs`) and answered (`outputs`) for
    one request; the pipeline's own under its name."""

    pipeline: str
    id: str
    steps: dict[str, dict[str, list[InspectedTensor]]]


# Model repository extension (Triton's names and shapes).


class RepositoryIndexRequest(_Message):
    """List the models of the repository; only the ready ones when `ready`."""

    ready: bool = False


class RepositoryModel(_Message):
    """One model version of the repository index (version "" when none was read)."""

    name: str
    version: str = ""
    state: str = Field("", examples=["READY", "UNAVAILABLE", "LOADING", "UNLOADING"])
    reason: str = ""


class RepositoryIndexResponse(_Message):
    models: list[RepositoryModel]


class RepositoryModelRequest(_Message):
    """The body of a load or unload request; the body may be empty."""

    parameters: Parameters | None = None


# Statistics extension.


class StatisticDuration(_Message):
    count: int = 0
    ns: int = 0


class InferStatistics(_Message):
    success: StatisticDuration
    fail: StatisticDuration
    queue: StatisticDuration
    compute_input: StatisticDuration
    compute_infer: StatisticDuration
    compute_output: StatisticDuration
    cache_hit: StatisticDuration
    cache_miss: StatisticDuration


class InferBatchStatistics(_Message):
    batch_size: int
    compute_input: StatisticDuration
    compute_infer: StatisticDuration
    compute_output: StatisticDuration


class ModelStatistics(_Message):
    """Counts and cumulative times of one model version; `last_inference` in ms since epoch."""

    name: str
    version: str
    last_inference: int = 0
    inference_count: int = 0
    execution_count: int = 0
    inference_stats: InferStatistics
    batch_stats: list[InferBatchStatistics] = Field(default_factory=list)


class ModelStatisticsResponse(_Message):
    model_stats: list[ModelStatistics]


# Model configuration extension: the part of Triton's model configuration clients read.


class ModelInput(_Message):
    name: str
    data_type: str = Field(examples=["TYPE_FP32"])
    dims: list[int]


class ModelOutput(_Message):
    name: str
    data_type: str = Field(examples=["TYPE_FP32"])
    dims: list[int]


class ModelParameter(_Message):
    string_value: str


class ModelConfig(_Message):
    """Dims leave out the batch dimension when `max_batch_size` > 0, as in Triton."""

    name: str
    platform: str = ""
    backend: str = ""
    max_batch_size: int = 0
    input: list[ModelInput] = Field(default_factory=list)
    output: list[ModelOutput] = Field(default_factory=list)
    parameters: dict[str, ModelParameter] = Field(default_factory=dict)
