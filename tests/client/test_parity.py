"""The same requests through the REST and the gRPC client give equal results and equal
exceptions (class, status and message; class and status where the message names the
transport): against a healthy server, nothing listening, a deadline, a server not ready."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import numpy as np
import pytest

from app.client import (
    DeadlineExceeded,
    InferenceGRPCClient,
    InferenceRESTClient,
    InferInput,
    InferRequest,
    RequestedOutput as Wanted,
    RESTConfig,
    ServerUnreachable,
)
from app.dataplane import DataPlane
from app.grpc.servicer import InferenceServicer
from app.protocol.errors import ModelNotFound, OIPError, Status
from app.registry import ModelRegistry
from app.rest import create_app
from app.server import Server
from app.settings import ServerSettings
from tests.client.servers import HOST, free_port, grpc_server, uvicorn_server
from tests.payloads import IRIS_ROWS

Client = InferenceRESTClient | InferenceGRPCClient


def tensor(name: str, datatype: str, array: np.ndarray, binary: bool = True) -> InferInput:
    made = InferInput(name, list(array.shape), datatype)
    made.set_data_from_numpy(array, binary_data=binary)
    return made


REQUESTS: dict[str, InferRequest] = {
    "iris": InferRequest("iris", [tensor("input-0", "FP32", IRIS_ROWS)], request_id="p1"),
    "iris-v1-output": InferRequest(
        "iris",
        [tensor("input-0", "FP32", IRIS_ROWS)],
        outputs=[Wanted("output-0")],
        model_version="1",
        request_id="p2",
    ),
    "echo-mixed": InferRequest(
        "echo",
        [
            tensor("a", "FP16", np.array([[0.5, 1.5]], dtype=np.float16)),
            tensor("b", "INT64", np.array([-1, 2**40])),
            tensor("c", "BOOL", np.array([True])),
            tensor("d", "BYTES", np.array([b"x", b"yz"], dtype=object)),
        ],
        request_id="p3",
    ),
    "scale": InferRequest(
        "scale", [tensor("input-0", "FP32", np.ones((2, 2), np.float32))], request_id="p5"
    ),
    "versioned-10": InferRequest(
        "versioned",
        [tensor("input-0", "FP32", np.ones((1, 1), np.float32))],
        model_version="10",
        request_id="p4",
    ),
    # JSON input: with binary inputs the REST client also asks for binary outputs
    # (parameters.binary_data_output), which this predictor would echo back
    "params": InferRequest(
        "params",
        [tensor("x", "INT32", np.array([1], np.int32), binary=False)],
        parameters={"k": "v", "n": 3},
        request_id="p6",
    ),
    "unknown-model": InferRequest("nope", [tensor("x", "INT32", np.array([1], np.int32))]),
    "unknown-version": InferRequest(
        "iris", [tensor("input-0", "FP32", IRIS_ROWS)], model_version="9"
    ),
    "wrong-shape": InferRequest("iris", [tensor("input-0", "FP32", np.ones(3, np.float32))]),
    "wrong-datatype": InferRequest("iris", [tensor("input-0", "FP64", np.ones((1, 4)))]),
    "unknown-output": InferRequest(
        "iris", [tensor("input-0", "FP32", IRIS_ROWS)], outputs=[Wanted("nope")]
    ),
    "picky": InferRequest("picky", [tensor("x", "INT32", np.array([1], np.int32))]),
    "failing": InferRequest("failing", [tensor("x", "INT32", np.array([1], np.int32))]),
}


async def outcome(call: Callable[[], Awaitable[Any]]) -> Any:
    """The call's result, or (exception class, status, message) when it raised."""
    try:
        result = await call()
    except OIPError as error:
        return type(error), error.status, error.message
    return result


@pytest.mark.parametrize("name", list(REQUESTS))
async def test_infer_parity(
    rest_client: InferenceRESTClient, grpc_client: InferenceGRPCClient, name: str
) -> None:
    request = REQUESTS[name]
    over_rest = await outcome(lambda: rest_client.infer(request))
    over_grpc = await outcome(lambda: grpc_client.infer(request))
    assert over_rest == over_grpc
    if name.startswith(("unknown", "wrong", "picky", "failing")):
        assert isinstance(over_rest, tuple)
        assert issubclass(over_rest[0], OIPError)


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("is_server_live", ()),
        ("is_server_ready", ()),
        ("server_metadata", ()),
        ("is_model_ready", ("iris",)),
        ("model_metadata", ("versioned",)),
        ("model_metadata", ("nope",)),
    ],
)
async def test_health_and_metadata_parity(
    rest_client: InferenceRESTClient,
    grpc_client: InferenceGRPCClient,
    call: str,
    args: tuple[str, ...],
) -> None:
    over_rest = await outcome(lambda: getattr(rest_client, call)(*args))
    over_grpc = await outcome(lambda: getattr(grpc_client, call)(*args))
    assert over_rest == over_grpc


async def test_an_unknown_model_is_not_ready_over_rest_and_not_found_over_grpc(
    rest_client: InferenceRESTClient, grpc_client: InferenceGRPCClient
) -> None:
    """The one difference, as in KServe's clients: the REST client reads any refusal of a
    v2 readiness request as False; the gRPC client raises what the server answered."""
    assert await rest_client.is_model_ready("nope") is False
    with pytest.raises(ModelNotFound, match="model 'nope' not found"):
        await grpc_client.is_model_ready("nope")


async def both(
    rest: InferenceRESTClient, grpc_client: InferenceGRPCClient, call: str, args: tuple[Any, ...]
) -> tuple[Any, Any]:
    """The outcomes of the same call through each client."""
    over_rest = await outcome(lambda: getattr(rest, call)(*args))
    return over_rest, await outcome(lambda: getattr(grpc_client, call)(*args))


def kind(result: Any) -> Any:
    """An outcome without the message, which names the transport for these cases."""
    return result[:2] if isinstance(result, tuple) else result


async def test_nothing_listening_parity() -> None:
    port = free_port()
    rest = InferenceRESTClient(f"http://{HOST}:{port}", RESTConfig(retries=0))
    grpc_client = InferenceGRPCClient(f"{HOST}:{port}", retries=0)
    async with rest, grpc_client:
        for call, args in (("is_server_live", ()), ("infer", (REQUESTS["iris"],))):
            over_rest, over_grpc = await both(rest, grpc_client, call, args)
            assert kind(over_rest) == kind(over_grpc) == (ServerUnreachable, Status.UNAVAILABLE)


async def test_deadline_parity(server: Server) -> None:
    slow = InferRequest("slow", [tensor("x", "INT32", np.array([7], np.int32))])
    rest = InferenceRESTClient(f"http://{HOST}:{server.http_port}", RESTConfig(timeout=0.2))
    grpc_client = InferenceGRPCClient(f"{HOST}:{server.grpc_port}", timeout=0.2)
    async with rest, grpc_client:
        over_rest = await outcome(lambda: rest.infer(slow))
        over_grpc = await outcome(lambda: grpc_client.infer(slow))
    assert kind(over_rest) == kind(over_grpc) == (DeadlineExceeded, Status.DEADLINE_EXCEEDED)


HEALTH = [("is_server_live", ()), ("is_server_ready", ()), ("is_model_ready", ("iris",))]


async def health_outcomes(rest_port: int, grpc_port: int) -> list[tuple[Any, Any]]:
    rest = InferenceRESTClient(f"http://{HOST}:{rest_port}", RESTConfig(retries=0))
    grpc_client = InferenceGRPCClient(f"{HOST}:{grpc_port}", retries=0)
    async with rest, grpc_client:
        return [await both(rest, grpc_client, call, args) for call, args in HEALTH]


async def test_not_ready_server_parity(settings: ServerSettings) -> None:
    """oipserve before its models load: live, not ready, the model not ready."""
    starting = DataPlane(ModelRegistry(settings.model_repository), settings)
    rest_app = create_app(starting, settings)
    async with (
        uvicorn_server(rest_app) as rest_port,
        grpc_server(InferenceServicer(starting)) as grpc_port,
    ):
        found = await health_outcomes(rest_port, grpc_port)
    assert found == [(True, True), (False, False), (False, False)]


class Unavailable:
    """A server (a proxy in front of a pod going away, say) answering every call with
    UNAVAILABLE over gRPC and 503 over REST."""

    async def abort(self, request: Any, context: Any) -> Any:
        await context.abort(grpc.StatusCode.UNAVAILABLE, "going away")

    ServerLive = ServerReady = ModelReady = abort

    @staticmethod
    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b'{"error": "going away"}'})


async def test_unavailable_answers_to_health_calls_are_false_on_both() -> None:
    server = Unavailable()
    async with uvicorn_server(server.asgi) as rest_port, grpc_server(server) as grpc_port:
        found = await health_outcomes(rest_port, grpc_port)
    assert found == [(False, False)] * 3
