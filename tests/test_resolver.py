"""The name resolver: what a path (or message) and the `seldon-model` header name, as a
table; and the same table over REST and gRPC against a real server."""

from __future__ import annotations

import grpc
import httpx
import orjson
import pytest

from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.service import Stub
from app.protocol.errors import InvalidInput
from app.resolver import Kind, Target, target_of
from app.server import Server
from tests.payloads import IRIS_ROWS, iris_request

BAD_HEADER = "Bad or missing header seldon-model"
NAMES: list[tuple[str, str | None, Target | str]] = [
    ("iris", None, Target(Kind.MODEL, "iris")),
    ("iris.model", None, Target(Kind.MODEL, "iris")),
    ("p.pipeline", None, Target(Kind.PIPELINE, "p")),
    ("e.explainer", None, Target(Kind.EXPLAINER, "e")),
    ("resnet.v1", None, Target(Kind.MODEL, "resnet.v1")),  # a model's name may hold dots
    (".pipeline", None, Target(Kind.MODEL, ".pipeline")),
    ("", None, "model name required"),
    ("other", "iris", Target(Kind.MODEL, "iris")),  # the header beats the path
    ("", "iris.model", Target(Kind.MODEL, "iris")),
    ("iris", "p.pipeline", Target(Kind.PIPELINE, "p")),
    ("iris", "e.explainer", Target(Kind.EXPLAINER, "e")),
    ("iris", "", BAD_HEADER),
    ("iris", ".model", BAD_HEADER),
    ("iris", "iris.v1", BAD_HEADER),
    ("iris", "a.b.pipeline", BAD_HEADER),
]


@pytest.mark.parametrize(("name", "header", "expected"), NAMES)
def test_what_a_request_names(name: str, header: str | None, expected: Target | str) -> None:
    if isinstance(expected, Target):
        assert target_of(name, None, header) == expected
        assert target_of(name, "2", header) == expected._replace(version="2")
        return
    with pytest.raises(InvalidInput) as caught:
        target_of(name, None, header)
    assert caught.value.message.startswith(expected)


def test_a_target_names_itself_in_messages() -> None:
    assert str(Target(Kind.PIPELINE, "p")) == "pipeline 'p'"


IRIS = "iris answers"
ROUTED: list[tuple[str, str | None, str, str]] = [
    ("iris", None, "OK", IRIS),
    ("iris.model", None, "OK", IRIS),
    ("nope", "iris", "OK", IRIS),
    ("iris", "iris.model", "OK", IRIS),
    ("iris", "nope", "NOT_FOUND", "model 'nope' not found"),
    ("p.pipeline", None, "NOT_FOUND", "pipeline 'p' not found"),
    ("iris", "p.pipeline", "NOT_FOUND", "pipeline 'p' not found"),
    ("iris", "e.explainer", "NOT_FOUND", "explainer 'e' not found"),
    ("iris", "", "INVALID_ARGUMENT", f"{BAD_HEADER}: '' is not"),
    ("iris", "iris.v1", "INVALID_ARGUMENT", f"{BAD_HEADER}: 'iris.v1' is not"),
    ("iris", "a.b.model", "INVALID_ARGUMENT", f"{BAD_HEADER}: 'a.b.model' is not"),
]
HTTP = {"OK": 200, "NOT_FOUND": 404, "INVALID_ARGUMENT": 400}


def _grpc_request(name: str) -> pb.ModelInferRequest:
    message = pb.ModelInferRequest(model_name=name)
    message.inputs.add(name="input-0", datatype="FP32", shape=list(IRIS_ROWS.shape))
    message.raw_input_contents.append(IRIS_ROWS.tobytes())
    return message


@pytest.mark.parametrize(("name", "header", "code", "expected"), ROUTED)
async def test_routing_over_rest_and_grpc(
    server: Server, name: str, header: str | None, code: str, expected: str
) -> None:
    headers = {} if header is None else {"seldon-model": header}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client:
        answer = await client.post(f"/v2/models/{name}/infer", json=iris_request(), headers=headers)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        call = Stub(channel).ModelInfer(_grpc_request(name), metadata=list(headers.items()))
        try:
            reply = await call
            outcome, message = "OK", IRIS if reply.model_name == "iris" else reply.model_name
        except grpc.aio.AioRpcError as error:
            outcome, message = error.code().name, error.details() or ""
    assert answer.status_code == HTTP[code]
    body = orjson.loads(answer.content)
    rest_message = IRIS if body.get("model_name") == "iris" else body.get("error", "")
    assert (outcome, message[: len(expected)]) == (code, expected)
    assert rest_message[: len(expected)] == expected


async def test_an_empty_grpc_model_name_is_invalid(server: Server) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        stub = Stub(channel)
        for call, request in [
            (stub.ModelInfer, _grpc_request("")),
            (stub.ModelReady, pb.ModelReadyRequest(name="")),
            (stub.ModelMetadata, pb.ModelMetadataRequest(name="")),
        ]:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call(request)
            assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
            assert caught.value.details() == "model name required"
        routed = await stub.ModelInfer(_grpc_request(""), metadata=[("seldon-model", "iris")])
        assert routed.model_name == "iris"


async def test_metadata_and_readiness_follow_the_header_too(server: Server) -> None:
    header = {"seldon-model": "iris"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client:
        metadata = await client.get("/v2/models/nope", headers=header)
        ready = await client.get("/v2/models/nope/ready", headers=header)
        pipeline = await client.get("/v2/models/p.pipeline/ready")
    assert (metadata.status_code, metadata.json()["name"]) == (200, "iris")
    assert (ready.status_code, ready.json()) == (200, {"name": "iris", "ready": True})
    assert pipeline.status_code == 404
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        stub = Stub(channel)
        ready_reply = await stub.ModelReady(
            pb.ModelReadyRequest(name="nope"), metadata=[("seldon-model", "iris")]
        )
        metadata_reply = await stub.ModelMetadata(
            pb.ModelMetadataRequest(name="x"), metadata=[("seldon-model", "iris.model")]
        )
    assert ready_reply.ready
    assert metadata_reply.name == "iris"


async def test_of_two_seldon_model_headers_every_route_reads_the_first(server: Server) -> None:
    headers = [("seldon-model", "iris"), ("seldon-model", "nope")]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client:
        ready = await client.get("/v2/models/x/ready", headers=headers)
        answer = await client.post("/v2/models/x/infer", json=iris_request(), headers=headers)
    assert (ready.status_code, answer.status_code) == (200, 200)
    assert answer.json()["model_name"] == "iris"
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        stub = Stub(channel)
        ready_reply = await stub.ModelReady(pb.ModelReadyRequest(name="x"), metadata=headers)
        routed = await stub.ModelInfer(_grpc_request("x"), metadata=headers)
    assert ready_reply.ready
    assert routed.model_name == "iris"
