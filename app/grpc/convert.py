"""Protocol types <-> gRPC messages, for the servicer and the gRPC client alike.

Tensors travel either typed (`contents`, one repeated field per datatype family) or raw
(`raw_input_contents` / `raw_output_contents`: one little-endian row-major entry per tensor).
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence

import numpy as np
import orjson

from app.grpc.contents import (
    CONTENTS_FIELD as CONTENTS_FIELD,  # re-exported: tests and the client read it here
    array_from_contents,
    array_to_contents,
)
from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.raw_answers import raw_answer, raw_output_fields
from app.protocol.codecs.arrays import check_shape
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

ProtoTensor = pb.ModelInferRequest.InferInputTensor | pb.ModelInferResponse.InferOutputTensor

_INT64_MAX = 2**63 - 1


def parameters_from_proto(source: MutableMapping[str, pb.InferParameter]) -> Parameters | None:
    """A parameters dict from a protobuf parameter map (None when empty)."""
    if not source:
        return None
    found: Parameters = {}
    for key, parameter in source.items():
        choice = parameter.WhichOneof("parameter_choice")
        if choice is not None:
            found[key] = getattr(parameter, choice)
    return found


def parameters_to_proto(
    parameters: Parameters | None, target: MutableMapping[str, pb.InferParameter]
) -> None:
    """Fill a protobuf parameter map; values that are not scalars travel as JSON strings."""
    for key, value in (parameters or {}).items():
        parameter = target[key]
        if isinstance(value, bool):
            parameter.bool_param = value
        elif isinstance(value, int) and value > _INT64_MAX:
            parameter.uint64_param = value
        elif isinstance(value, int):
            parameter.int64_param = value
        elif isinstance(value, float):
            parameter.double_param = value
        elif isinstance(value, str):
            parameter.string_param = value
        else:
            parameter.string_param = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def _tensor_from_proto(
    tensor: ProtoTensor, raw: Buffer | None, role: str, index: int
) -> tuple[str, list[int], Datatype, np.ndarray]:
    """One tensor's name, shape, datatype and data (from `raw` when given)."""
    name = tensor.name
    if not name:
        raise InvalidInput(f"{role} {index}: 'name' must be a non-empty string")
    what = f"{role} {name!r}"
    shape = check_shape(tensor.shape[:], what)  # a list: slicing is quicker than list()
    datatype = parse_datatype(tensor.datatype, what)
    if raw is None:
        data = array_from_contents(tensor.contents, shape, datatype, what)
    elif tensor.HasField("contents"):
        raise InvalidInput(f"{what}: has typed contents, but the message uses raw contents")
    else:
        data = array_from_raw(raw, shape, datatype, what)
    return name, shape, datatype, data


def _raw_contents(
    tensors: Sequence[ProtoTensor], raw: Sequence[Buffer], role: str
) -> Sequence[Buffer] | None:
    """The message's raw contents, one for each tensor; None when it has none."""
    if not raw:
        return None
    if len(raw) != len(tensors):
        raise InvalidInput(f"message has {len(raw)} raw contents for {len(tensors)} {role}s")
    return raw


def _tensor_to_proto(
    tensor: RequestInput | Output, target: ProtoTensor, raw: list[Buffer] | None
) -> None:
    """Fill `target`; its data goes to `raw` (views of the arrays, not copies) when given."""
    target.name = tensor.name
    target.datatype = tensor.datatype.value
    target.shape.extend(tensor.shape)
    parameters_to_proto(tensor.parameters, target.parameters)
    if raw is not None:
        raw.append(raw_view(tensor.data, tensor.datatype))
    else:
        array_to_contents(tensor.data, tensor.datatype, target.contents)


def needs_raw(tensors: Sequence[RequestInput | Output]) -> bool:
    """Whether some tensor has no typed contents field (FP16), so all must travel raw."""
    return any(tensor.datatype not in CONTENTS_FIELD for tensor in tensors)


class ProtoRequest:
    """A ModelInferRequest (with its raw input contents apart, see `request_from_wire`),
    decoded when the DataPlane asks."""

    __slots__ = ("message", "raw")

    def __init__(self, message: pb.ModelInferRequest, raw: Sequence[Buffer] | None = None) -> None:
        self.message = message
        self.raw = raw

    def decode(self) -> Payload:
        return payload_from_proto(self.message, self.raw)


def payload_from_proto(
    message: pb.ModelInferRequest, raw_contents: Sequence[Buffer] | None = None
) -> Payload:
    """The payload a ModelInferRequest carries (the model name and version stay outside);
    its raw contents are `raw_contents` when given apart."""
    tensors = message.inputs
    raw = _raw_contents(
        tensors, message.raw_input_contents if raw_contents is None else raw_contents, "input"
    )
    inputs: Tensors = {}
    given: dict[str, Parameters] = {}
    for index in range(len(tensors)):  # by index: protobuf's repeated fields index quicker
        tensor = tensors[index]
        contents = None if raw is None else raw[index]
        name, _, _, data = _tensor_from_proto(tensor, contents, "input", index)
        if name in inputs:
            raise InvalidInput(f"input {name!r} is given more than once")
        inputs[name] = data
        if tensor.parameters:
            given[name] = parameters_from_proto(tensor.parameters)  # type: ignore[assignment]  # not empty
    outputs = (
        [
            RequestOutput.trusted(
                name=output.name, parameters=parameters_from_proto(output.parameters)
            )
            for output in message.outputs
        ]
        if message.outputs
        else None
    )
    parameters = parameters_from_proto(message.parameters)
    return Payload(inputs, message.id or None, parameters, outputs, given or None)


def request_from_proto(message: pb.ModelInferRequest) -> InferenceRequest:
    """The request a ModelInferRequest carries (the model name and version stay outside)."""
    return payload_from_proto(message).request()


def request_to_proto(
    model_name: str, model_version: str | None, request: InferenceRequest, raw: bool = True
) -> pb.ModelInferRequest:
    """A ModelInferRequest for `request`; raw contents unless `raw` is False."""
    message = pb.ModelInferRequest(
        model_name=model_name, model_version=model_version or "", id=request.id or ""
    )
    parameters_to_proto(request.parameters, message.parameters)
    raw_list: list[Buffer] | None = [] if raw or needs_raw(request.inputs) else None
    for tensor in request.inputs:
        _tensor_to_proto(tensor, message.inputs.add(), raw_list)
    for output in request.outputs or ():
        parameters_to_proto(output.parameters, message.outputs.add(name=output.name).parameters)
    if raw_list is not None:
        message.raw_input_contents.extend(map(bytes, raw_list))
    return message


def response_from_proto(message: pb.ModelInferResponse) -> InferenceResponse:
    tensors = message.outputs
    raw = _raw_contents(tensors, message.raw_output_contents, "output")
    outputs = []
    for index in range(len(tensors)):
        tensor = tensors[index]
        contents = None if raw is None else raw[index]
        name, shape, datatype, data = _tensor_from_proto(tensor, contents, "output", index)
        outputs.append(
            ResponseOutput.trusted(
                name=name,
                shape=shape,
                datatype=datatype,
                parameters=parameters_from_proto(tensor.parameters),
                data=data,
            )
        )
    return InferenceResponse.trusted(
        model_name=message.model_name,
        model_version=message.model_version or None,
        id=message.id or None,
        parameters=parameters_from_proto(message.parameters),
        outputs=outputs,
    )


def _answer_message(answer: Answer, raw: bool) -> tuple[pb.ModelInferResponse, list[Buffer] | None]:
    """The message without its raw output contents, and those contents (None if typed)."""
    message = pb.ModelInferResponse(
        model_name=answer.model_name, model_version=answer.model_version or "", id=answer.id or ""
    )
    parameters_to_proto(answer.parameters, message.parameters)
    raw_list: list[Buffer] | None = [] if raw or needs_raw(answer.outputs) else None
    for tensor in answer.outputs:
        _tensor_to_proto(tensor, message.outputs.add(), raw_list)
    return message, raw_list


def answer_to_proto(answer: Answer, raw: bool) -> pb.ModelInferResponse:
    """A ModelInferResponse; raw output contents when `raw` (or when a datatype needs it)."""
    message, raw_list = _answer_message(answer, raw)
    if raw_list is not None:
        message.raw_output_contents.extend(map(bytes, raw_list))
    return message


def answer_to_wire(answer: Answer, raw: bool) -> bytes:
    """`answer_to_proto(answer, raw).SerializeToString()`, with each raw output copied once,
    from its array into the result: the message is serialized without them and each follows
    as a field of its own (protobuf readers take fields in any order). Raw answers without
    parameters, the usual kind, are written without building a message at all."""
    if raw:
        plain = raw_answer(answer)
        if plain is not None:
            return plain
    message, raw_list = _answer_message(answer, raw)
    return b"".join([message.SerializeToString(), *raw_output_fields(raw_list or ())])
