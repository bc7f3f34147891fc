"""Plain ModelInfer messages, read and written without protocol messages: the predict lane.

A plain request holds raw input contents and nothing else to interpret: no parameters (of
the request or of a tensor), no requested outputs, no typed contents. `plain_inputs` reads
its arrays, and is None for any other request, which the general path answers (errors
included). Answers with raw output contents are written here field by field, in number order
as protobuf writes them: `prediction_to_wire` for the lane, `response_to_wire_plain` for an
InferenceResponse whose outputs have no parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.wire import field_key, packed_int64s, string_field, varint
from app.protocol.codecs.arrays import check_shape
from app.protocol.codecs.datatypes import Datatype, parse_datatype
from app.protocol.codecs.raw import Buffer, array_from_raw, raw_view
from app.protocol.errors import InvalidInput
from app.protocol.prediction import Prediction
from app.protocol.types import InferenceResponse

_MODEL_NAME_KEY, _MODEL_VERSION_KEY, _ID_KEY, _OUTPUTS_KEY, _RAW_OUTPUT_KEY = (
    field_key(pb.ModelInferResponse, field)
    for field in ("model_name", "model_version", "id", "outputs", "raw_output_contents")
)
_NAME_KEY, _DATATYPE_KEY, _SHAPE_KEY = (
    field_key(pb.ModelInferResponse.InferOutputTensor, field)
    for field in ("name", "datatype", "shape")
)


def plain_inputs(message: pb.ModelInferRequest) -> dict[str, np.ndarray] | None:
    """The input arrays of a plain request by name (views of its raw contents); None if
    the message is not plain or not well formed."""
    raw = message.raw_input_contents
    tensors = message.inputs
    count = len(tensors)
    if not raw or len(raw) != count or message.parameters or message.outputs:
        return None
    inputs: dict[str, np.ndarray] = {}
    try:
        for index in range(count):  # by index: quicker than iterating a repeated field
            tensor = tensors[index]
            name = tensor.name
            if not name or tensor.parameters or tensor.HasField("contents"):
                return None
            datatype = parse_datatype(tensor.datatype, name)
            shape = check_shape(tensor.shape[:], name)
            inputs[name] = array_from_raw(raw[index], shape, datatype, name)
    except InvalidInput:
        return None
    return inputs if len(inputs) == count else None  # fewer: a name given twice


def prediction_to_wire(model_name: str, prediction: Prediction) -> bytes:
    """The serialized ModelInferResponse of a prediction, outputs as raw contents."""
    headers: list[Buffer] = []
    chunks: list[Buffer] = []
    for name, datatype, array in prediction.outputs:
        headers.append(_output_field(name, datatype, array.shape))
        chunks.append(raw_view(array, datatype))
    return _raw_answer(model_name, prediction.model_version, prediction.id, headers, chunks)


def response_to_wire_plain(response: InferenceResponse) -> bytes | None:
    """The serialized ModelInferResponse of `response`, outputs as raw contents; None if
    the response or one of its outputs has parameters."""
    if response.parameters:
        return None
    headers: list[Buffer] = []
    chunks: list[Buffer] = []
    for tensor in response.outputs:
        if tensor.parameters:
            return None
        headers.append(_output_field(tensor.name, tensor.datatype, tensor.shape))
        chunks.append(raw_view(tensor.data, tensor.datatype))
    return _raw_answer(response.model_name, response.model_version, response.id, headers, chunks)


def _raw_answer(
    model_name: str,
    model_version: str | None,
    request_id: str | None,
    headers: list[Buffer],
    chunks: list[Buffer],
) -> bytes:
    """The answer's fields in number order, as protobuf writes them: model name and
    version, id, each output's header, each output's raw contents."""
    parts = [_model_fields(model_name, model_version), string_field(_ID_KEY, request_id or "")]
    return b"".join([*parts, *headers, *raw_output_fields(chunks)])


def raw_output_fields(chunks: Sequence[Buffer]) -> list[Buffer]:
    """The raw_output_contents fields holding `chunks`: key, length, bytes for each."""
    parts: list[Buffer] = []
    for chunk in chunks:
        parts += (_RAW_OUTPUT_KEY, varint(len(chunk)), chunk)
    return parts


_MODELS: dict[tuple[str, str | None], bytes] = {}
_OUTPUTS: dict[tuple[object, ...], bytes] = {}
_REMEMBERED = 1024
Key = TypeVar("Key")


def _model_fields(name: str, version: str | None) -> bytes:
    """The model name and version fields."""
    model = (name, version)
    known = _MODELS.get(model)
    if known is not None:
        return known
    encoded = string_field(_MODEL_NAME_KEY, name) + string_field(_MODEL_VERSION_KEY, version or "")
    return _remember(_MODELS, model, encoded)


def _output_field(name: str, datatype: Datatype, shape: Sequence[int]) -> bytes:
    """The `outputs` field of one tensor (name, datatype, shape) with no parameters."""
    key = (name, datatype, *shape)
    known = _OUTPUTS.get(key)
    if known is not None:
        return known
    fields = (
        string_field(_NAME_KEY, name)
        + string_field(_DATATYPE_KEY, datatype.value)
        + packed_int64s(_SHAPE_KEY, list(shape))
    )
    return _remember(_OUTPUTS, key, _OUTPUTS_KEY + varint(len(fields)) + fields)


def _remember(known: dict[Key, bytes], key: Key, encoded: bytes) -> bytes:
    """Keep `encoded` in `known` (at most _REMEMBERED entries) and return it: the same
    models, outputs and shapes come back request after request."""
    if len(known) >= _REMEMBERED:
        known.clear()
    known[key] = encoded
    return encoded
