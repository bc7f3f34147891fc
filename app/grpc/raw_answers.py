"""ModelInferResponse messages with raw output contents, written field by field in number
order, as protobuf writes them, without building a message (`raw_answer`), from the encoded
fields of the models and outputs seen before.

A speed trick: protobuf written by hand, with caches of encoded bytes. `python -m
bench.instructions` counts 447k instructions per grpc-small request with it, 466k without
(the caches are what it is worth: without them it costs what building the message does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.wire_format import field_key, packed_int64s, string_field, varint
from app.protocol.codecs.datatypes import Datatype
from app.protocol.codecs.raw import Buffer, raw_view
from app.protocol.payload import Answer

_MODEL_NAME_KEY, _MODEL_VERSION_KEY, _ID_KEY, _OUTPUTS_KEY, _RAW_OUTPUT_KEY = (
    field_key(pb.ModelInferResponse, field)
    for field in ("model_name", "model_version", "id", "outputs", "raw_output_contents")
)
_NAME_KEY, _DATATYPE_KEY, _SHAPE_KEY = (
    field_key(pb.ModelInferResponse.InferOutputTensor, field)
    for field in ("name", "datatype", "shape")
)


def raw_answer(answer: Answer) -> bytes | None:
    """The serialized ModelInferResponse of `answer`, outputs as raw contents; None if the
    answer or one of its outputs has parameters."""
    if answer.parameters:
        return None
    headers: list[Buffer] = []
    chunks: list[Buffer] = []
    for tensor in answer.outputs:
        if tensor.parameters:
            return None
        headers.append(_output_field(tensor.name, tensor.datatype, tensor.shape))
        chunks.append(raw_view(tensor.data, tensor.datatype))
    return _raw_answer(answer.model_name, answer.model_version, answer.id, headers, chunks)


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
