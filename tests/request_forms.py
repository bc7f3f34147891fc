"""Bad inference requests as REST and gRPC forms: the builders of the table in
`tests.bad_requests`, and senders that return (status, message)."""

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


def proto(
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
    request_id: str = "",
) -> BadRequest:
    """A case with JSON inputs over REST and the same inputs as typed contents over gRPC."""
    body: dict[str, Any] = {"inputs": inputs}
    if outputs:
        body["outputs"] = [{"name": name} for name in outputs]
    if request_id:
        body["id"] = request_id
    rest = RestForm(orjson.dumps(body), _path(model, version))
    grpc = proto(model, inputs, version, outputs)
    grpc.id = request_id
    return BadRequest(id, status, message, rest, grpc, prefix)


def binary_body(inputs: list[dict[str, Any]], tail: bytes) -> tuple[bytes, dict[str, str]]:
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
    body, headers = binary_body(sized, b"".join(chunks))
    grpc = proto(model, bare)
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
