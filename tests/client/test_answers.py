"""Answers that are not valid OIP, and calls a client cannot make, raise our own exceptions:
InvalidResponse for a bad answer (naming what was wrong), InvalidInput for metadata grpc
refuses, ClientClosed after close(); never an httpx, grpc or pydantic exception. A server
without `GET /v2` still gets binary inputs, as JSON."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.client import (
    ClientClosed,
    InferenceGRPCClient,
    InferenceRESTClient,
    InferInput,
    InferRequest,
    InvalidInput,
    InvalidResponse,
    RESTConfig,
)
from app.grpc.generated import open_inference_pb2 as pb
from app.server import Server
from tests.client.servers import HOST, grpc_server, uvicorn_server

Headers = list[tuple[str, str]]


def answering(status: int, body: bytes, headers: Headers) -> Any:
    """An ASGI app giving every request the same answer."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raw = [(key.encode(), value.encode()) for key, value in headers]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    return app


def request(binary: bool = False) -> InferRequest:
    tensor = InferInput("x", [1], "FP32")
    tensor.set_data_from_numpy(np.array([1], np.float32), binary_data=binary)
    return InferRequest("m", [tensor])


BF16_METADATA = {
    "name": "m",
    "platform": "triton",
    "inputs": [{"name": "x", "datatype": "BF16", "shape": [1]}],
    "outputs": [],
}
REST_ANSWERS = [
    ("server_metadata", b"{}", [], "server metadata that is not OIP: name: Field required"),
    ("server_metadata", b"", [], "server metadata that is not OIP: body: Input should be"),
    ("model_metadata", orjson.dumps(BF16_METADATA), [], r"inputs\.0\.datatype: Input should be"),
    ("infer", b"not gzip", [("content-encoding", "gzip")], "body cannot be decoded"),
    ("infer", b"<html>ok</html>", [], "response that is not OIP: malformed JSON"),
    ("infer", b'{"outputs": "x"}', [], "a response that is not OIP"),
]


@pytest.mark.parametrize(("call", "body", "headers", "problem"), REST_ANSWERS)
async def test_rest_answers_that_are_not_oip(
    call: str, body: bytes, headers: Headers, problem: str
) -> None:
    transport = httpx.ASGITransport(app=answering(200, body, headers))
    async with InferenceRESTClient("http://x", RESTConfig(transport, retries=0)) as client:
        args = {"infer": (request(),), "model_metadata": ("m",), "server_metadata": ()}[call]
        with pytest.raises(InvalidResponse, match=problem) as caught:
            await getattr(client, call)(*args)
    assert not isinstance(caught.value, ConnectionError)  # the server was reached


class Triton:
    """A gRPC server whose metadata names BF16, a datatype this client has no numpy type
    for; its ServerLive records the metadata it got."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    async def ModelMetadata(self, request: Any, context: Any) -> pb.ModelMetadataResponse:  # noqa: N802
        answer = pb.ModelMetadataResponse(name="m", platform="triton")
        answer.inputs.add(name="x", datatype="BF16", shape=[1])
        return answer

    async def ServerLive(self, request: Any, context: Any) -> pb.ServerLiveResponse:  # noqa: N802
        self.seen.append(dict(context.invocation_metadata()))
        return pb.ServerLiveResponse(live=True)


async def test_grpc_metadata_with_an_unknown_datatype_is_an_invalid_response() -> None:
    async with grpc_server(Triton()) as port, InferenceGRPCClient(f"{HOST}:{port}") as client:
        with pytest.raises(InvalidResponse, match="tensor 'x': unknown datatype 'BF16'"):
            await client.model_metadata("m")


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ([("X-Upper", "v")], "key 'X-Upper' is not valid"),
        ({"X-Upper": "v"}, "key 'X-Upper' is not valid"),
        ([("x-a", "caf\u00e9\n")], "printable ASCII"),
        ([("x-bin", "text")], "a -bin key takes bytes"),
    ],
)
async def test_grpc_metadata_grpc_refuses_is_invalid_input(headers: Any, problem: str) -> None:
    servicer = Triton()
    async with grpc_server(servicer) as port, InferenceGRPCClient(f"{HOST}:{port}") as client:
        with pytest.raises(InvalidInput, match=problem):
            await client.is_server_live(headers=headers)
        assert await client.is_server_live(headers={"x-ok": "v", "x-raw-bin": b"\x00"})
    assert servicer.seen[0]["x-ok"] == "v"


async def test_calls_after_close_say_the_client_is_closed(server: Server) -> None:
    rest = InferenceRESTClient(f"http://{HOST}:{server.http_port}")
    grpc_client = InferenceGRPCClient(f"{HOST}:{server.grpc_port}")
    for client in (rest, grpc_client):
        assert await client.is_server_live()
        await client.close()
        with pytest.raises(ClientClosed, match="is closed: make a new client") as caught:
            await client.is_server_live()
        assert isinstance(caught.value, RuntimeError)
    with pytest.raises(ClientClosed, match="InferenceRESTClient is closed"):
        await rest.infer(request())
    with pytest.raises(ClientClosed, match="InferenceGRPCClient is closed"):
        await grpc_client.infer(request())


async def test_binary_inputs_go_as_json_to_a_server_without_server_metadata() -> None:
    """A server with only the infer route (no `GET /v2`, so binary data is not advertised)."""
    seen: list[str] = []

    async def infer(http: Request) -> JSONResponse:
        seen.append(http.headers["content-type"])
        sent = orjson.loads(await http.body())
        output = {**sent["inputs"][0], "name": "y"}
        return JSONResponse({"model_name": "m", "outputs": [output]})

    app = Starlette(routes=[Route("/v2/models/m/infer", infer, methods=["POST"])])
    async with uvicorn_server(app) as port:
        client = InferenceRESTClient(f"http://{HOST}:{port}", RESTConfig(retries=0))
        async with client:
            assert (await client.infer(request(binary=True)))["y"].as_numpy().tolist() == [1.0]
            assert (await client.infer(request(binary=False)))["y"].as_numpy().tolist() == [1.0]
    assert seen == ["application/json", "application/json"]
