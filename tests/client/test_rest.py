"""The REST client in process (ASGI transport) and against the real server: inference, the
binary extension, health, metadata, errors, and KServe's unbound call form."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest
from starlette.types import Receive, Scope, Send

from app.client import InferenceRESTClient, InferInput, InferRequest, RequestedOutput, RESTConfig
from app.dataplane import DataPlane
from app.protocol.errors import (
    InvalidInput,
    ModelNotFound,
    OIPError,
    PredictorError,
    ServerNotReady,
    Status,
    Unsupported,
)
from app.registry import ModelRegistry
from app.rest import create_app
from app.server import Server
from app.settings import ServerSettings
from tests.payloads import IRIS_CLASSES, IRIS_ROWS

ASGIApp = Any


def iris(binary: bool, request_id: str | None = "r-1") -> InferRequest:
    tensor = InferInput("input-0", [2, 4], "FP32")
    tensor.set_data_from_numpy(IRIS_ROWS, binary_data=binary)
    return InferRequest("iris", [tensor], request_id=request_id)


def recording(app: ASGIApp, seen: list[tuple[str, str]], metadata: Any = None) -> ASGIApp:
    """`app`, recording (path, content-type) of each request; answering GET /v2 with
    `metadata` when given."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            seen.append((scope["path"], headers.get(b"content-type", b"").decode()))
            if metadata is not None and scope["path"] == "/v2":
                await httpx_json(send, metadata)
                return
        await app(scope, receive, send)

    return wrapped


async def httpx_json(send: Any, body: bytes, status: int = 200) -> None:
    headers = [(b"content-type", b"application/json")] if body else []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def app(dataplane: DataPlane, settings: ServerSettings) -> ASGIApp:
    return create_app(dataplane, settings)


@pytest.mark.parametrize("binary", [False, True])
async def test_infer_classifies_iris(in_process: InferenceRESTClient, binary: bool) -> None:
    response = await in_process.infer(iris(binary))
    assert (response.id, response.model_name, response.model_version) == ("r-1", "iris", "1")
    probabilities = response["output-0"].as_numpy()
    assert probabilities.shape == (2, 3)
    assert probabilities.argmax(axis=1).tolist() == IRIS_CLASSES


async def test_a_name_holding_a_slash_is_refused_not_routed(
    in_process: InferenceRESTClient,
) -> None:
    """`iris/versions/1` would reach iris version 1: servers decode %2F before routing."""
    with pytest.raises(InvalidInput, match="model name 'iris/versions/1' holds '/'"):
        await in_process.infer(InferRequest("iris/versions/1", iris(False).inputs))
    with pytest.raises(InvalidInput, match="version '1/infer' holds '/'"):
        await in_process.is_model_ready("iris", version="1/infer")


async def test_binary_inputs_are_sent_only_to_servers_that_advertise_it(app: ASGIApp) -> None:
    seen: list[tuple[str, str]] = []
    config = RESTConfig(transport=httpx.ASGITransport(app=recording(app, seen)))
    async with InferenceRESTClient("http://oipserve", config) as client:
        await client.infer(iris(binary=True))
        await client.infer(iris(binary=False))
    assert seen == [
        ("/v2", ""),
        ("/v2/models/iris/infer", "application/octet-stream"),
        ("/v2/models/iris/infer", "application/json"),
    ]
    seen.clear()
    plain = b'{"name": "other", "version": "1", "extensions": []}'
    config = RESTConfig(transport=httpx.ASGITransport(app=recording(app, seen, plain)))
    async with InferenceRESTClient("http://oipserve", config) as client:
        response = await client.infer(iris(binary=True))
    assert response["output-0"].as_numpy().argmax(axis=1).tolist() == IRIS_CLASSES
    assert seen == [("/v2", ""), ("/v2/models/iris/infer", "application/json")]


async def test_requested_outputs_come_back_binary_when_asked(
    in_process: InferenceRESTClient,
) -> None:
    for binary in (True, False):
        request = iris(binary=False)
        request.outputs = [RequestedOutput("output-0", binary_data=binary)]
        headers: dict[str, str] = {}
        response = await in_process.infer(request, response_headers=headers)
        assert ("inference-header-content-length" in headers) is binary
        assert response["output-0"].parameters is None
        assert response["output-0"].as_numpy().argmax(axis=1).tolist() == IRIS_CLASSES


async def test_parameters_and_headers_reach_the_server(app: ASGIApp) -> None:
    traces: list[bytes | None] = []

    async def tracing(scope: Scope, receive: Receive, send: Send) -> None:
        traces.append(dict(scope["headers"]).get(b"x-trace"))
        await app(scope, receive, send)

    request = InferRequest(
        "params", [InferInput("x", [1], "INT32", data=[3])], parameters={"mode": "fast", "n": 2}
    )
    config = RESTConfig(transport=httpx.ASGITransport(app=tracing))
    async with InferenceRESTClient("http://oipserve", config) as client:
        response = await client.infer(request, headers={"x-trace": "abc"})
    assert response.parameters == {"mode": "fast", "n": 2, "x-trace": "abc"}  # X- headers too
    assert traces == [b"abc"]


async def test_health_and_metadata(in_process: InferenceRESTClient) -> None:
    assert await in_process.is_server_live()
    assert await in_process.is_server_ready()
    assert await in_process.is_model_ready("iris")
    assert await in_process.is_model_ready("versioned", "2")
    metadata = await in_process.server_metadata()
    assert (metadata.name, "binary_tensor_data" in metadata.extensions) == ("oipserve", True)
    model = await in_process.model_metadata("versioned")
    assert (model.name, model.versions) == ("versioned", ["1", "2", "10"])
    assert (await in_process.model_metadata("iris", "1")).inputs[0].shape == [-1, 4]
    assert not await in_process.is_model_ready("versioned", "3")  # a 404, as KServe's client
    assert not await in_process.is_model_ready("nope")
    with pytest.raises(ModelNotFound, match="'versioned' has no version '3'"):
        await in_process.model_metadata("versioned", "3")


async def test_a_server_that_is_not_ready_says_false(settings: ServerSettings) -> None:
    starting = DataPlane(ModelRegistry(settings.model_repository), settings)
    transport = httpx.ASGITransport(app=create_app(starting, settings))
    async with InferenceRESTClient("http://oipserve", RESTConfig(transport)) as client:
        assert await client.is_server_live()
        assert not await client.is_server_ready()


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, b"", True),
        (200, b'{"ready": true}', True),
        (200, b'{"ready": false}', False),
        (503, b"", False),
        (503, b'{"ready": false}', False),
    ],
)
async def test_health_accepts_empty_and_json_bodies(
    status: int, body: bytes, expected: bool
) -> None:
    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        await httpx_json(send, body, status)

    transport = httpx.ASGITransport(app=answer)
    async with InferenceRESTClient("http://other", RESTConfig(transport)) as client:
        assert await client.is_server_ready() is expected
        assert await client.is_model_ready("m") is expected


@pytest.mark.parametrize(
    ("model", "error", "status", "message"),
    [
        ("nope", ModelNotFound, Status.NOT_FOUND, "model 'nope' not found"),
        ("picky", InvalidInput, Status.INVALID_ARGUMENT, "picky: no thanks"),
        ("failing", PredictorError, Status.INTERNAL, "RuntimeError: boom"),
    ],
)
async def test_errors_carry_the_servers_status_and_message(
    in_process: InferenceRESTClient, model: str, error: type, status: Status, message: str
) -> None:
    request = InferRequest(model, [InferInput("x", [1], "FP32", data=[1.0])])
    with pytest.raises(error, match=message) as caught:
        await in_process.infer(request)
    assert isinstance(caught.value, OIPError)
    assert caught.value.status is status
    assert message in caught.value.message


async def test_server_level_503_is_server_not_ready() -> None:
    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        await httpx_json(send, b'{"error": "shutting down"}', 503)

    transport = httpx.ASGITransport(app=answer)
    async with InferenceRESTClient("http://other", RESTConfig(transport, retries=0)) as client:
        with pytest.raises(ServerNotReady, match="shutting down"):
            await client.server_metadata()


async def test_kserve_unbound_call_form(server: Server) -> None:
    base = f"http://127.0.0.1:{server.http_port}"
    async with InferenceRESTClient(RESTConfig(protocol="v2", retries=5, timeout=30)) as client:
        assert client.host is None
        assert await client.is_server_live(base)
        assert await client.is_server_ready(base)
        assert await client.is_model_ready(base, "iris")
        data = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32",
                            "data": [5.1, 3.5, 1.4, 0.2]}]}  # fmt: skip
        headers: dict[str, str] = {}
        result = await client.infer(base, data, "iris", {"x-id": "1"}, headers)
        assert result.outputs[0].as_numpy().argmax(axis=1).tolist() == [0]
        assert headers["content-type"] == "application/json"
        result = await client.infer(base, iris(binary=True))
        assert result.outputs[0].as_numpy().argmax(axis=1).tolist() == IRIS_CLASSES
        assert (await client.model_metadata(base, "iris")).name == "iris"
        with pytest.raises(ValueError, match="no server URL"):
            await client.infer(iris(binary=False))
        with pytest.raises(ValueError, match="needs model_name"):
            await client.infer(base, data)


def test_urls_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        InferenceRESTClient("grpc://localhost:8081")
    assert InferenceRESTClient("https://example.com/serving/").host == (
        "https://example.com/serving"
    )


async def test_explain_is_v1_only(in_process: InferenceRESTClient) -> None:
    with pytest.raises(Unsupported, match="v1"):
        await in_process.explain(iris(binary=False))


async def test_real_server_answers_json_and_binary(rest_client: InferenceRESTClient) -> None:
    for binary in (False, True):
        response = await rest_client.infer(iris(binary))
        np.testing.assert_array_equal(
            response["output-0"].as_numpy().argmax(axis=1), np.array(IRIS_CLASSES)
        )
