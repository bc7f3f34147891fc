"""The table of bad inference requests: each as REST and/or gRPC can express it, with the
status and message every transport must answer (the parity test compares the two)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
import orjson
import pytest

from app.grpc.convert import CONTENTS_FIELD
from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.service import Stub
from app.protocol.codecs.datatypes import Datatype
from app.protocol.errors import Status

ABSURD = [2**40, 2**40]
BAD = Status.INVALID_ARGUMENT


@dataclass(frozen=True)
class RestForm:
    """A POST of `body` (with `headers`) to `path`."""

    body: bytes
    path: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BadRequest:
    """A bad request and its answer: `status`, and a message equal to `message` (or starting
    with it when `prefix`)."""

    id: str
    status: Status
    message: str
    rest: RestForm | None = None
    grpc: pb.ModelInferRequest | None = None
    prefix: bool = False

    def matches(self, message: str) -> bool:
        return message.startswith(self.message) if self.prefix else message == self.message


def _path(model: str, version: str = "") -> str:
    return f"/v2/models/{model}" + (f"/versions/{version}" if version else "") + "/infer"


def _flat(data: Any) -> list[Any]:
    if isinstance(data, list):
        return [item for part in data for item in _flat(part)]
    return [data]


def _proto(
    model: str, inputs: list[dict[str, Any]], version: str = "", outputs: tuple[str, ...] = ()
) -> pb.ModelInferRequest:
    """A ModelInferRequest with the inputs as typed contents (none for unknown datatypes)."""
    message = pb.ModelInferRequest(model_name=model, model_version=version)
    for item in inputs:
        tensor = message.inputs.add(
            name=item["name"], datatype=item["datatype"], shape=item["shape"]
        )
        datatype = Datatype.__members__.get(item["datatype"])
        if datatype is not None and "data" in item:
            contents = getattr(tensor.contents, CONTENTS_FIELD[datatype])
            contents.extend(v.encode() if isinstance(v, str) else v for v in _flat(item["data"]))
    for name in outputs:
        message.outputs.add(name=name)
    return message


def both(
    id: str,
    message: str,
    inputs: list[dict[str, Any]],
    *,
    status: Status = BAD,
    model: str = "iris",
    version: str = "",
    outputs: tuple[str, ...] = (),
    prefix: bool = False,
) -> BadRequest:
    """A case with JSON inputs over REST and the same inputs as typed contents over gRPC."""
    body: dict[str, Any] = {"inputs": inputs}
    if outputs:
        body["outputs"] = [{"name": name} for name in outputs]
    rest = RestForm(orjson.dumps(body), _path(model, version))
    return BadRequest(id, status, message, rest, _proto(model, inputs, version, outputs), prefix)


def _binary_body(inputs: list[dict[str, Any]], tail: bytes) -> tuple[bytes, dict[str, str]]:
    header = orjson.dumps({"inputs": inputs})
    return header + tail, {"Inference-Header-Content-Length": str(len(header))}


def raw(
    id: str, message: str, inputs: list[dict[str, Any]], chunks: list[bytes], model: str = "iris"
) -> BadRequest:
    """A case with binary tensors over REST and the same bytes as raw contents over gRPC (the
    inputs' `data` is left out)."""
    bare = [{key: value for key, value in item.items() if key != "data"} for item in inputs]
    sized = [
        {**item, "parameters": {"binary_data_size": len(chunk)}}
        for item, chunk in zip(bare, chunks, strict=True)
    ]
    body, headers = _binary_body(sized, b"".join(chunks))
    grpc = _proto(model, bare)
    grpc.raw_input_contents.extend(chunks)
    return BadRequest(id, BAD, message, RestForm(body, _path(model), headers), grpc)


def rest_only(
    id: str, message: str, body: bytes, headers: dict[str, str] | None = None, prefix: bool = False
) -> BadRequest:
    return BadRequest(id, BAD, message, RestForm(body, _path("iris"), headers or {}), None, prefix)


def grpc_only(id: str, message: str, request: pb.ModelInferRequest) -> BadRequest:
    return BadRequest(id, BAD, message, None, request)


def tensor(
    name: str = "input-0", datatype: str = "FP32", shape: Any = None, data: Any = None
) -> dict[str, Any]:
    """An iris-like JSON input: one flower, unless told otherwise."""
    shape = [1, 4] if shape is None else shape
    data = [[5.1, 3.5, 1.4, 0.2]] if data is None else data
    return {"name": name, "datatype": datatype, "shape": shape, "data": data}


def _iris_proto(raw_chunks: int = 0, typed: bool = True) -> pb.ModelInferRequest:
    request = _proto("iris", [tensor()])
    if not typed:
        request.inputs[0].ClearField("contents")
    request.raw_input_contents.extend([b"\0" * 16] * raw_chunks)
    return request


def _other_field() -> pb.ModelInferRequest:
    request = _iris_proto(typed=False)
    request.inputs[0].contents.fp64_contents.extend([1.0, 2.0, 3.0, 4.0])
    return request


def _typed_fp16() -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name="echo")
    request.inputs.add(name="h", datatype="FP16", shape=[1]).contents.fp32_contents.append(1.0)
    return request


X = {"name": "x", "datatype": "FP32", "shape": [1], "data": [1.0]}
SIZED = {**tensor(), "parameters": {"binary_data_size": 16}}
CASES: list[BadRequest] = [
    rest_only("malformed JSON", "malformed JSON: ", b'{"inputs": [', prefix=True),
    rest_only("empty body", "malformed JSON: ", b"", prefix=True),
    rest_only("body not an object", "body must be a JSON object, got list", b"[1, 2]"),
    rest_only("no inputs field", "'inputs' must be a list of tensors", b'{"id": "1"}'),
    rest_only(
        "data and binary data",
        "input 'input-0': has both 'data' and binary_data_size",
        *_binary_body([SIZED], b"\0" * 16),
    ),
    rest_only(
        "binary data left over",
        "body has 4 bytes of binary data that no tensor claims",
        *_binary_body([tensor()], b"\0" * 4),
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
        _iris_proto(raw_chunks=1),
    ),
    grpc_only(
        "wrong count of raw contents",
        "message has 2 raw contents for 1 inputs",
        _iris_proto(raw_chunks=2, typed=False),
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
    both(
        "absurd dimensions",
        "input 'input-0': 4 values do not fill shape [1099511627776, 1099511627776]",
        [tensor(shape=ABSURD)],
    ),
    raw(
        "absurd raw dimensions",
        "input 'input-0': 16 bytes of raw data do not match shape "
        "[1099511627776, 1099511627776] of FP32 (4835703278458516698824704 bytes)",
        [tensor(shape=ABSURD)],
        [b"\0" * 16],
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
]
REST_CASES = [case for case in CASES if case.rest is not None]
GRPC_CASES = [case for case in CASES if case.grpc is not None]
BOTH_CASES = [case for case in CASES if case.rest is not None and case.grpc is not None]


async def send_rest(client: httpx.AsyncClient, form: RestForm) -> tuple[int, str]:
    """POST the form; (status code, the message of its `{"error": ...}` body)."""
    answer = await client.post(form.path, content=form.body, headers=form.headers)
    body = answer.json()
    assert list(body) == ["error"], body
    return answer.status_code, str(body["error"])


async def send_grpc(channel: grpc.aio.Channel, request: pb.ModelInferRequest) -> tuple[str, str]:
    """Send the request, which must fail; (status code name, details)."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await Stub(channel).ModelInfer(request)
    return caught.value.code().name, caught.value.details() or ""
