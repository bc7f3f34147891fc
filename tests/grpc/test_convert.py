"""Protocol types <-> protobuf messages: every datatype typed and raw, and parameters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from app.grpc.convert import (
    CONTENTS_FIELD,
    answer_to_proto,
    parameters_from_proto,
    parameters_to_proto,
    request_from_proto,
    request_to_proto,
    response_from_proto,
)
from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.metadata_messages import (
    model_metadata_from_proto,
    model_metadata_to_proto,
    server_metadata_from_proto,
    server_metadata_to_proto,
)
from app.protocol.codecs.datatypes import Datatype, to_dtype
from app.protocol.errors import InvalidInput
from app.protocol.payload import Answer
from app.protocol.types import (
    InferenceRequest,
    InferenceResponse,
    MetadataTensor,
    ModelMetadataResponse,
    RequestInput,
    RequestOutput,
    ResponseOutput,
    ServerMetadataResponse,
)
from tests.payloads import SAMPLES, sample_array


def _request(datatype: Datatype) -> InferenceRequest:
    tensor = RequestInput(
        name="x",
        shape=[2, 3],
        datatype=datatype,
        parameters={"tag": 1},
        data=sample_array(datatype),
    )
    return InferenceRequest(
        id="r",
        parameters={"p": "q"},
        inputs=[tensor],
        outputs=[RequestOutput(name="y", parameters={"binary_data": False})],
    )


@pytest.mark.parametrize("raw", [True, False])
@pytest.mark.parametrize("datatype", list(Datatype))
def test_requests_round_trip(datatype: Datatype, raw: bool) -> None:
    original = _request(datatype)
    message = request_to_proto("m", "2", original, raw=raw)
    assert (message.model_name, message.model_version) == ("m", "2")
    is_raw = raw or datatype is Datatype.FP16
    assert bool(message.raw_input_contents) is is_raw
    assert message.inputs[0].HasField("contents") is not is_raw
    decoded = request_from_proto(pb.ModelInferRequest.FromString(message.SerializeToString()))
    assert (decoded.id, decoded.parameters, decoded.outputs) == ("r", {"p": "q"}, original.outputs)
    (tensor,) = decoded.inputs
    assert (tensor.name, tensor.shape, tensor.datatype) == ("x", [2, 3], datatype)
    assert tensor.parameters == {"tag": 1}
    assert tensor.data.dtype == to_dtype(datatype)
    np.testing.assert_array_equal(tensor.data, original.inputs[0].data)


@pytest.mark.parametrize("raw", [True, False])
@pytest.mark.parametrize("datatype", list(Datatype))
def test_responses_round_trip(datatype: Datatype, raw: bool) -> None:
    output = ResponseOutput(name="y", shape=[2, 3], datatype=datatype, data=sample_array(datatype))
    original = InferenceResponse(model_name="m", model_version="3", id="r", outputs=[output])
    message = answer_to_proto(Answer.of(original), raw=raw)
    assert bool(message.raw_output_contents) is (raw or datatype is Datatype.FP16)
    decoded = response_from_proto(pb.ModelInferResponse.FromString(message.SerializeToString()))
    assert (decoded.model_name, decoded.model_version, decoded.id) == ("m", "3", "r")
    np.testing.assert_array_equal(decoded.outputs[0].data, output.data)
    assert decoded.outputs[0].datatype is datatype


def test_raw_inputs_share_memory_with_the_message() -> None:
    message = request_to_proto("m", None, _request(Datatype.FP32), raw=True)
    (tensor,) = request_from_proto(message).inputs
    assert not tensor.data.flags.owndata
    assert not tensor.data.flags.writeable


def test_typed_contents_use_the_field_of_the_datatype() -> None:
    assert set(CONTENTS_FIELD) == set(Datatype) - {Datatype.FP16}
    message = request_to_proto("m", None, _request(Datatype.UINT16), raw=False)
    assert list(message.inputs[0].contents.uint_contents) == SAMPLES[Datatype.UINT16]


def test_empty_fields_become_none() -> None:
    decoded = request_from_proto(pb.ModelInferRequest(model_name="m"))
    assert (decoded.id, decoded.parameters, decoded.outputs, decoded.inputs) == (
        None,
        None,
        None,
        [],
    )


PARAMETERS: list[tuple[Any, str, Any]] = [
    (True, "bool_param", True),
    (False, "bool_param", False),
    (7, "int64_param", 7),
    (-(2**63), "int64_param", -(2**63)),
    (2**63 - 1, "int64_param", 2**63 - 1),
    (2**64 - 1, "uint64_param", 2**64 - 1),
    (0.25, "double_param", 0.25),
    ("text", "string_param", "text"),
    ("", "string_param", ""),
    ([1, 2], "string_param", "[1,2]"),
    ({"a": None}, "string_param", '{"a":null}'),
]


@pytest.mark.parametrize(("value", "field", "back"), PARAMETERS)
def test_parameters_of_every_kind(value: Any, field: str, back: Any) -> None:
    message = pb.ModelInferRequest()
    parameters_to_proto({"k": value}, message.parameters)
    assert message.parameters["k"].WhichOneof("parameter_choice") == field
    again = pb.ModelInferRequest.FromString(message.SerializeToString())
    assert parameters_from_proto(again.parameters) == {"k": back}


def test_unset_parameters_are_skipped() -> None:
    message = pb.ModelInferRequest()
    message.parameters["empty"].Clear()
    message.parameters["set"].int64_param = 1
    assert parameters_from_proto(message.parameters) == {"set": 1}
    assert parameters_from_proto(pb.ModelInferRequest().parameters) is None


def _bad(message: pb.ModelInferRequest) -> str:
    with pytest.raises(InvalidInput) as caught:
        request_from_proto(message)
    return caught.value.message


def _typed(datatype: str, shape: list[int], **contents: list[Any]) -> pb.ModelInferRequest:
    message = pb.ModelInferRequest(model_name="m")
    tensor = message.inputs.add(name="x", datatype=datatype, shape=shape)
    for field, values in contents.items():
        getattr(tensor.contents, field).extend(values)
    return message


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            _typed("FP16", [1], fp32_contents=[1.0]),
            "input 'x': datatype FP16 has no typed contents; send it raw",
        ),
        (
            _typed("FP32", [1], fp64_contents=[1.0]),
            "input 'x': datatype FP32 takes fp32_contents, got fp64_contents",
        ),
        (
            _typed("INT32", [2], int_contents=[1], int64_contents=[2]),
            "input 'x': datatype INT32 takes int_contents, got int64_contents",
        ),
        (
            _typed("FP32", [2, 2], fp32_contents=[1.0]),
            "input 'x': 1 values do not fill shape [2, 2]",
        ),
        (_typed("BYTES", [2], bytes_contents=[b"a"]), "input 'x': 1 values do not fill shape [2]"),
        (
            _typed("UINT8", [1], uint_contents=[300]),
            "input 'x': values from 300 to 300 are out of range for UINT8",
        ),
        (
            _typed("INT8", [1], int_contents=[-200]),
            "input 'x': values from -200 to -200 are out of range for INT8",
        ),
        (
            _typed("FP32", [2**40, 2**40], fp32_contents=[1.0]),
            "input 'x': shape [1099511627776, 1099511627776] is too large",
        ),
        (
            _typed("FP32", [-1], fp32_contents=[1.0]),
            "input 'x': shape [-1] has a negative dimension",
        ),
        (_typed("F32", [1], fp32_contents=[1.0]), "input 'x': unknown datatype 'F32'"),
        (_typed("", [1], fp32_contents=[1.0]), "input 'x': unknown datatype ''"),
    ],
)
def test_bad_typed_contents(message: pb.ModelInferRequest, expected: str) -> None:
    assert _bad(message).startswith(expected)


def test_empty_tensor_name() -> None:
    message = _typed("FP32", [1], fp32_contents=[1.0])
    message.inputs[0].name = ""
    assert _bad(message) == "input 0: 'name' must be a non-empty string"


def test_raw_contents_mixed_with_typed_contents() -> None:
    message = _typed("FP32", [1], fp32_contents=[1.0])
    message.raw_input_contents.append(b"\x00" * 4)
    assert _bad(message) == "input 'x': has typed contents, but the message uses raw contents"


def test_wrong_count_of_raw_contents() -> None:
    message = _typed("FP32", [1])
    message.inputs.add(name="y", datatype="FP32", shape=[1])
    message.raw_input_contents.append(b"\x00" * 4)
    assert _bad(message) == "message has 1 raw contents for 2 inputs"


def test_raw_contents_of_the_wrong_size() -> None:
    message = _typed("FP32", [1, 4])
    message.raw_input_contents.append(b"\x00" * 12)
    assert _bad(message) == (
        "input 'x': 12 bytes of raw data do not match shape [1, 4] of FP32 (16 bytes)"
    )


def test_metadata_round_trips() -> None:
    server = ServerMetadataResponse(name="s", version="1", extensions=["a", "b"])
    assert server_metadata_from_proto(server_metadata_to_proto(server)) == server
    tensor = MetadataTensor(name="x", datatype=Datatype.FP32, shape=[-1, 4])
    model = ModelMetadataResponse(
        name="m", versions=["1", "2"], platform="numpy", inputs=[tensor], outputs=[tensor]
    )
    assert model_metadata_from_proto(model_metadata_to_proto(model)) == model
