"""The protobuf wire form written by hand: varints, keys, and serialized responses whose raw
outputs are copied once (answer_to_wire) but read as protobuf's own serialization."""

from __future__ import annotations

import numpy as np
import pytest

from app.grpc import raw_answers
from app.grpc.convert import answer_to_proto, answer_to_wire
from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.raw_requests import VIEWS_FROM, request_from_wire
from app.grpc.wire_format import field_key, read_varint, split_field, varint
from app.protocol.codecs.datatypes import Datatype
from app.protocol.errors import InvalidInput
from app.protocol.payload import Answer
from app.protocol.types import InferenceResponse, ResponseOutput


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2**21, 2**35 + 7, 2**63])
def test_varints_round_trip(value: int) -> None:
    encoded = b"\xff" + varint(value) + b"\x00"
    assert read_varint(encoded, 1) == (value, len(encoded) - 1)


def test_keys_of_length_delimited_fields() -> None:
    assert field_key(pb.ModelInferResponse, "raw_output_contents") == bytes([6 << 3 | 2])
    assert field_key(pb.InferTensorContents, "fp32_contents") == bytes([6 << 3 | 2])


def _output(name: str, array: np.ndarray, datatype: Datatype) -> ResponseOutput:
    return ResponseOutput(name=name, shape=list(array.shape), datatype=datatype, data=array)


RESPONSES = {
    "one FP32": [_output("y", np.arange(6, dtype=np.float32).reshape(2, 3), Datatype.FP32)],
    "several kinds": [
        _output("a", np.array([[1, 2], [3, 4]], dtype=np.int64).T, Datatype.INT64),
        _output("b", np.array([True, False]), Datatype.BOOL),
        _output("c", np.array([b"x", b"yz"], dtype=object), Datatype.BYTES),
    ],
    "FP16 (always raw)": [_output("h", np.array([0.5, 2.0], dtype=np.float16), Datatype.FP16)],
    "empty tensor": [_output("e", np.zeros((0, 4), dtype=np.float32), Datatype.FP32)],
    "no outputs": [],
}


@pytest.mark.parametrize("parameters", [{"p": 1}, None], ids=["with parameters", "plain"])
@pytest.mark.parametrize("raw", [True, False])
@pytest.mark.parametrize("outputs", RESPONSES.values(), ids=RESPONSES.keys())
def test_answer_to_wire_reads_as_answer_to_proto(
    outputs: list[ResponseOutput], raw: bool, parameters: dict[str, int] | None
) -> None:
    response = InferenceResponse(
        model_name="m", model_version="2", id="r-1", parameters=parameters, outputs=outputs
    )
    parsed = pb.ModelInferResponse.FromString(answer_to_wire(Answer.of(response), raw))
    assert parsed == answer_to_proto(Answer.of(response), raw)


@pytest.mark.parametrize(
    ("version", "request_id"), [(None, None), ("", ""), ("7", "é-1")], ids=["none", "empty", "set"]
)
def test_plain_raw_answers_are_protobufs_own_bytes(
    version: str | None, request_id: str | None
) -> None:
    """Written by hand, field for field as protobuf writes them (a shape with a large and a
    zero dimension too), and the same again once the fields are remembered."""
    outputs = [
        _output("y", np.zeros((1, 3), dtype=np.float32), Datatype.FP32),
        _output("z", np.zeros((300, 0), dtype=np.int8), Datatype.INT8),
    ]
    response = InferenceResponse(
        model_name="mödel", model_version=version, id=request_id, outputs=outputs
    )
    expected = answer_to_proto(Answer.of(response), raw=True).SerializeToString()
    assert answer_to_wire(Answer.of(response), raw=True) == expected
    assert answer_to_wire(Answer.of(response), raw=True) == expected


def test_remembered_fields_stay_bounded() -> None:
    for index in range(raw_answers._REMEMBERED + 10):
        array = np.zeros((1, index), dtype=np.float32)
        response = InferenceResponse(model_name="m", outputs=[_output("y", array, Datatype.FP32)])
        parsed = pb.ModelInferResponse.FromString(answer_to_wire(Answer.of(response), raw=True))
        assert list(parsed.outputs[0].shape) == [1, index]
    assert len(raw_answers._OUTPUTS) <= raw_answers._REMEMBERED


def _request_with_everything() -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name="m", model_version="2", id="r")
    request.parameters["n"].int64_param = 300
    request.inputs.add(name="a", datatype="FP32", shape=[2])
    request.inputs.add(name="b", datatype="UINT8", shape=[3])
    request.outputs.add(name="y")
    request.raw_input_contents.extend([np.array([1.5, 2.5], np.float32).tobytes(), b"\x01\x02\x03"])
    return request


def test_a_request_read_apart_from_its_raw_contents_is_the_request() -> None:
    request = _request_with_everything()
    data = request.SerializeToString()
    rest, raw = split_field(data, 7)
    assert [bytes(view) for view in raw] == list(request.raw_input_contents)
    assert all(view.obj is data for view in raw)  # views of the received bytes, not copies
    parsed = pb.ModelInferRequest.FromString(rest)
    parsed.raw_input_contents.extend(map(bytes, raw))
    assert parsed == request
    message, contents = request_from_wire(data)  # small: parsed whole
    assert message == request
    assert list(contents) == list(request.raw_input_contents)
    request.raw_input_contents[1] = bytes(VIEWS_FROM)
    message, contents = request_from_wire(request.SerializeToString())  # large: views
    assert message.model_name == "m"
    assert not message.raw_input_contents
    assert [len(view) for view in contents] == [8, VIEWS_FROM]


def test_other_wire_types_are_kept_and_broken_messages_refused() -> None:
    unknown = b"\x78\x96\x01" + b"\x81\x01" + bytes(8) + b"\x8d\x01" + bytes(4)  # 15, 16, 17
    data = unknown + _request_with_everything().SerializeToString()
    rest, raw = split_field(data, 7)
    assert rest.startswith(unknown)
    assert len(raw) == 2
    for broken in (b"\x0a\x05ab", b"\x0a", b"\x0b", b"\x3a\xff"):
        with pytest.raises(ValueError, match=r"ends inside a field|runs past the end|wire type"):
            split_field(broken, 7)
        with pytest.raises(InvalidInput, match="the request is not a ModelInferRequest"):
            request_from_wire(broken)
