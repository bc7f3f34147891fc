"""The table of bad inference requests: each as REST and/or gRPC can express it, with the
status and message every transport must answer (the parity test compares the two)."""

from __future__ import annotations

import orjson

from app.grpc.generated import open_inference_pb2 as pb
from app.protocol.errors import Status
from tests.bad_shapes import SHAPE_CASES
from tests.request_forms import (
    BadRequest,
    binary_body,
    both,
    grpc_only,
    proto,
    raw,
    rest_only,
    tensor,
)


def _irisproto(raw_chunks: int = 0, typed: bool = True) -> pb.ModelInferRequest:
    request = proto("iris", [tensor()])
    if not typed:
        request.inputs[0].ClearField("contents")
    request.raw_input_contents.extend([b"\0" * 16] * raw_chunks)
    return request


def _other_field() -> pb.ModelInferRequest:
    request = _irisproto(typed=False)
    request.inputs[0].contents.fp64_contents.extend([1.0, 2.0, 3.0, 4.0])
    return request


def _typed_fp16() -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name="echo")
    request.inputs.add(name="h", datatype="FP16", shape=[1]).contents.fp32_contents.append(1.0)
    return request


X = {"name": "x", "datatype": "FP32", "shape": [1], "data": [1.0]}
SIZED = {**tensor(), "parameters": {"binary_data_size": 16}}
_YES = {"binary_data": "yes"}
CASES: list[BadRequest] = [
    rest_only("malformed JSON", "malformed JSON: ", b'{"inputs": [', prefix=True),
    rest_only("empty body", "malformed JSON: ", b"", prefix=True),
    rest_only("body not an object", "body must be a JSON object, got list", b"[1, 2]"),
    rest_only("no inputs field", "'inputs' must be a list of tensors", b'{"id": "1"}'),
    rest_only(
        "data and binary data",
        "input 'input-0': has both 'data' and binary_data_size",
        *binary_body([SIZED], b"\0" * 16),
    ),
    rest_only(
        "binary data left over",
        "body has 4 bytes of binary data that no tensor claims",
        *binary_body([tensor()], b"\0" * 4),
    ),
    rest_only(
        "header length beyond the body",
        "Inference-Header-Content-Length 9999 exceeds the body's ",
        orjson.dumps({"inputs": [tensor()]}),
        {"Inference-Header-Content-Length": "9999"},
        prefix=True,
    ),
    rest_only(
        "header length not a number",
        "Inference-Header-Content-Length must be an integer >= 0, got 'ten'",
        orjson.dumps({"inputs": [tensor()]}),
        {"Inference-Header-Content-Length": "ten"},
    ),
    rest_only(
        "a binary header length of 5000 digits",
        "Inference-Header-Content-Length has 5000 digits: longer than any body",
        orjson.dumps({"inputs": [tensor()]}),
        {"Inference-Header-Content-Length": "9" * 5000},
    ),
    rest_only(
        "strings for FP32",
        "input 'input-0': datatype FP32 expects numbers in data",
        orjson.dumps({"inputs": [tensor(data=[["1", "2", "3", "4"]])]}),
    ),
    rest_only(
        "shape not a list",
        "input 'input-0': shape must be a list of integers, got '4'",
        orjson.dumps({"inputs": [tensor(shape="4")]}),
    ),
    rest_only(
        "ragged data",
        "input 'input-0': data is ragged or holds values of mixed kinds",
        orjson.dumps({"inputs": [tensor(shape=[2, 2], data=[[1.0, 2.0], [3.0]])]}),
    ),
    grpc_only(
        "raw mixed with typed",
        "input 'input-0': has typed contents, but the message uses raw contents",
        _irisproto(raw_chunks=1),
    ),
    grpc_only(
        "wrong count of raw contents",
        "message has 2 raw contents for 1 inputs",
        _irisproto(raw_chunks=2, typed=False),
    ),
    grpc_only(
        "contents of another datatype",
        "input 'input-0': datatype FP32 takes fp32_contents, got fp64_contents",
        _other_field(),
    ),
    grpc_only(
        "typed FP16", "input 'h': datatype FP16 has no typed contents; send it raw", _typed_fp16()
    ),
    both(
        "missing inputs",
        "model 'iris' expects input 'input-0', which the request does not have",
        [],
    ),
    both(
        "unknown input",
        "input 'petals' is not an input of model 'iris'; inputs: 'input-0'",
        [tensor(), tensor("petals")],
    ),
    both("input given twice", "input 'input-0' is given more than once", [tensor(), tensor()]),
    both(
        "output asked for twice",
        "requested output 'output-0' is given more than once",
        [tensor()],
        outputs=("output-0", "output-0"),
    ),
    rest_only(
        "binary_data not a boolean",
        "requested output 'output-0': parameter 'binary_data' must be a boolean (true or false)",
        orjson.dumps({"inputs": [tensor()], "outputs": [{"name": "output-0", "parameters": _YES}]}),
    ),
    rest_only(
        "binary_data_output not a boolean",
        "request: parameter 'binary_data_output' must be a boolean (true or false)",
        orjson.dumps({"inputs": [tensor()], "parameters": {"binary_data_output": "yes"}}),
    ),
    both(
        "unknown datatype",
        "input 'input-0': unknown datatype 'FP128' (expected one of BOOL, ",
        [tensor(datatype="FP128")],
        prefix=True,
    ),
    both(
        "datatype of the model",
        "input 'input-0': datatype FP64 does not match FP32 of model 'iris'",
        [tensor(datatype="FP64")],
    ),
    both(
        "data does not fill the shape",
        "input 'input-0': 6 values do not fill shape [1, 4]",
        [tensor(data=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])],
    ),
    both(
        "shape of the model",
        "input 'input-0': shape [1, 5] does not match [-1, 4] of model 'iris'",
        [tensor(shape=[1, 5], data=[1.0, 2.0, 3.0, 4.0, 5.0])],
    ),
    both(
        "negative dimension",
        "input 'input-0': shape [-1, 4] has a negative dimension",
        [tensor(shape=[-1, 4])],
    ),
    raw(
        "raw BOOL byte not 0 or 1",
        "input 'b': BOOL element 1 is byte 2; BOOL bytes must be 0 or 1",
        [tensor(name="b", datatype="BOOL", shape=[3])],
        [b"\x01\x02\x00"],
        model="echo",
    ),
    raw(
        "raw data of the wrong size",
        "input 'input-0': 12 bytes of raw data do not match shape [1, 4] of FP32 (16 bytes)",
        [tensor()],
        [b"\0" * 12],
    ),
    raw(
        "bytes without their length prefix",
        "input 'x': BYTES data ends inside an element's length prefix",
        [{"name": "x", "datatype": "BYTES", "shape": [1]}],
        [b"ab"],
        model="echo",
    ),
    both("empty tensor name", "input 0: 'name' must be a non-empty string", [tensor(name="")]),
    both(
        "unknown requested output",
        "requested output 'proba' is not an output of model 'iris'; outputs: 'output-0'",
        [tensor()],
        outputs=("proba",),
    ),
    both(
        "integer out of range",
        "input 'x': values from 300 to 300 are out of range for INT8 [-128, 127]",
        [{"name": "x", "datatype": "INT8", "shape": [1], "data": [300]}],
        model="echo",
    ),
    both(
        "unknown model", "model 'nope' not found", [tensor()], status=Status.NOT_FOUND, model="nope"
    ),
    both(
        "unknown version",
        "model 'iris' has no version '7' (versions: '1')",
        [tensor()],
        status=Status.NOT_FOUND,
        version="7",
    ),
    *(
        both(
            f"a request id {what}",
            "the request id must be printable ASCII of at most 1024 characters (it comes back "
            f"in the x-request-id header), got {shown}",
            [tensor()],
            request_id=request_id,
        )
        for what, request_id, shown in [
            ("with a line break", "a\nb", "'a\\nb'"),
            ("not ASCII", "\u2603", "'\u2603'"),
            ("of 2000 characters", "x" * 2000, f"{'x' * 40!r}..."),
        ]
    ),
    both("model rejects", "picky: no thanks", [X], model="picky"),
    both(
        "model fails",
        "model 'failing' failed: RuntimeError: boom",
        [X],
        status=Status.INTERNAL,
        model="failing",
    ),
    both(
        "model answers nonsense",
        "model 'wrong-output': predict must return a dict of arrays, got list",
        [X],
        status=Status.INTERNAL,
        model="wrong-output",
    ),
    *SHAPE_CASES,
]
REST_CASES = [case for case in CASES if case.rest is not None]
GRPC_CASES = [case for case in CASES if case.grpc is not None]
BOTH_CASES = [case for case in CASES if case.rest is not None and case.grpc is not None]
