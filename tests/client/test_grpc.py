"""The gRPC client against real grpc.aio servers: raw inputs out, raw or typed outputs in,
the retry policy (default, replaced, off), timeouts, metadata, TLS and mutual TLS."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import grpc
import pytest

from app.client import InferenceGRPCClient, InferInput, InferRequest, ServerUnreachable
from app.client.grpc import retry_service_config
from app.context import GRPC, open_context
from app.dataplane import DataPlane
from app.grpc.convert import ProtoRequest, answer_to_proto
from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.servicer import Context, InferenceServicer
from app.protocol.errors import DeadlineExceeded, ModelNotFound, ModelNotReady
from app.resolver import target_of
from app.server import Server
from tests.client.conftest import SLOW_SECONDS
from tests.client.servers import HOST, Certificates, free_port, grpc_server
from tests.payloads import IRIS_CLASSES, IRIS_ROWS


def iris() -> InferRequest:
    tensor = InferInput("input-0", [2, 4], "FP32")
    tensor.set_data_from_numpy(IRIS_ROWS)
    return InferRequest("iris", [tensor], request_id="g-1")


def classes(response: Any) -> list[int]:
    return list(response["output-0"].as_numpy().argmax(axis=1).tolist())


class Recording(InferenceServicer):
    """The real servicer, recording each ModelInfer request; it answers UNAVAILABLE to the
    first `unavailable` calls, and with typed contents when `typed`."""

    def __init__(self, dataplane: DataPlane, unavailable: int = 0, typed: bool = False) -> None:
        super().__init__(dataplane)
        self.requests: list[pb.ModelInferRequest] = []
        self.unavailable = unavailable
        self.typed = typed

    async def ModelInfer(  # noqa: N802  # the RPC's name
        self, data: bytes, context: Context
    ) -> bytes:
        request = pb.ModelInferRequest.FromString(data)
        self.requests.append(request)
        if len(self.requests) <= self.unavailable:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
        if not self.typed:
            return await super().ModelInfer(data, context)
        target = target_of(request.model_name)
        answer = await self.dataplane.infer(target, ProtoRequest(request), open_context(GRPC))
        return answer_to_proto(answer, raw=False).SerializeToString()


async def test_infer_sends_raw_inputs_and_reads_raw_outputs(dataplane: DataPlane) -> None:
    servicer = Recording(dataplane)
    async with grpc_server(servicer) as port, InferenceGRPCClient(f"{HOST}:{port}") as client:
        response = await client.infer(iris())
    assert (response.id, response.model_version, classes(response)) == ("g-1", "1", IRIS_CLASSES)
    (sent,) = servicer.requests
    assert sent.raw_input_contents == [IRIS_ROWS.tobytes()]
    assert not sent.inputs[0].HasField("contents")


async def test_infer_reads_typed_outputs(dataplane: DataPlane) -> None:
    servicer = Recording(dataplane, typed=True)
    async with grpc_server(servicer) as port, InferenceGRPCClient(f"{HOST}:{port}") as client:
        response = await client.infer(iris())
    assert classes(response) == IRIS_CLASSES
    assert response["output-0"].as_numpy().dtype.name == "float32"


async def test_default_retry_policy_retries_unavailable(dataplane: DataPlane) -> None:
    servicer = Recording(dataplane, unavailable=2)
    async with grpc_server(servicer) as port, InferenceGRPCClient(f"{HOST}:{port}") as client:
        assert classes(await client.infer(iris())) == IRIS_CLASSES
    assert len(servicer.requests) == 3


@pytest.mark.parametrize(
    ("retries", "unavailable", "attempts", "served"),
    [(0, 1, 1, False), (1, 1, 2, True), (2, 3, 3, False), (2, 2, 3, True), (9, 9, 5, False)],
)
async def test_retries_count_the_retries_after_the_first_attempt(
    dataplane: DataPlane, retries: int, unavailable: int, attempts: int, served: bool
) -> None:
    """As over REST, `retries` retries follow the first attempt; gRPC caps attempts at 5."""
    servicer = Recording(dataplane, unavailable=unavailable)
    async with (
        grpc_server(servicer) as port,
        InferenceGRPCClient(f"{HOST}:{port}", retries=retries) as c,
    ):
        if served:
            assert classes(await c.infer(iris())) == IRIS_CLASSES
        else:
            with pytest.raises(ModelNotReady, match="warming up"):
                await c.infer(iris())
    assert len(servicer.requests) == attempts


async def test_retries_can_be_switched_off(dataplane: DataPlane) -> None:
    servicer = Recording(dataplane, unavailable=1)
    off = [("grpc.enable_retries", 0)]
    async with (
        grpc_server(servicer) as port,
        InferenceGRPCClient(f"{HOST}:{port}", channel_args=off) as c,
    ):
        with pytest.raises(ModelNotReady, match="warming up"):
            await c.infer(iris())
    assert len(servicer.requests) == 1


async def test_channel_args_replace_the_retry_policy(dataplane: DataPlane) -> None:
    servicer = Recording(dataplane, unavailable=4)
    policy = json.loads(retry_service_config(4))
    policy["methodConfig"][0]["retryPolicy"]["initialBackoff"] = "0.01s"
    options = [("grpc.service_config", json.dumps(policy))]
    async with (
        grpc_server(servicer) as port,
        InferenceGRPCClient(f"{HOST}:{port}", channel_args=options) as c,
    ):
        assert classes(await c.infer(iris())) == IRIS_CLASSES
    assert len(servicer.requests) == 5


async def test_retries_reach_a_server_that_comes_up_after_the_first_attempt(
    dataplane: DataPlane,
) -> None:
    port = free_port()
    async with InferenceGRPCClient(f"{HOST}:{port}", retries=5) as client:
        call = asyncio.create_task(client.infer(iris()))
        state = client.channel.get_state(try_to_connect=True)
        while state is not grpc.ChannelConnectivity.TRANSIENT_FAILURE:
            await client.channel.wait_for_state_change(state)
            state = client.channel.get_state()
        servicer = Recording(dataplane)
        async with grpc_server(servicer, port=port):
            assert classes(await call) == IRIS_CLASSES


async def test_an_unreachable_server_is_a_connection_error() -> None:
    async with InferenceGRPCClient(f"{HOST}:{free_port()}", retries=0) as client:
        with pytest.raises(ServerUnreachable) as caught:
            await client.is_server_live()
    assert isinstance(caught.value, ConnectionError)


def slow() -> InferRequest:
    return InferRequest("slow", [InferInput("x", [1], "INT32", data=[7])])


async def test_timeouts(server: Server) -> None:
    url = f"{HOST}:{server.grpc_port}"
    async with InferenceGRPCClient(url, timeout=0.2) as client:
        with pytest.raises(DeadlineExceeded) as caught:
            await client.infer(slow())
        assert isinstance(caught.value, asyncio.TimeoutError)
        assert (await client.infer(slow(), timeout=None))["x"].as_numpy() == [7]
        assert (await client.infer(slow(), timeout=SLOW_SECONDS * 5))["x"].as_numpy() == [7]
    async with InferenceGRPCClient(url) as client:
        with pytest.raises(TimeoutError):
            await client.infer(slow(), timeout=0.2)
    async with InferenceGRPCClient(url, timeout=None) as client:
        assert (await client.infer(slow()))["x"].as_numpy() == [7]


class Deadlines:
    """ServerLive recording the time the server has left for each call (None: no deadline)."""

    def __init__(self) -> None:
        self.left: list[float | None] = []

    async def ServerLive(self, request: Any, context: Any) -> pb.ServerLiveResponse:  # noqa: N802
        self.left.append(context.time_remaining())
        return pb.ServerLiveResponse(live=True)


async def test_timeout_none_sends_no_deadline() -> None:
    """None is no deadline at all, not the 60 s default (which the slow model would not show)."""
    servicer = Deadlines()
    async with grpc_server(servicer) as port:
        url = f"{HOST}:{port}"
        async with InferenceGRPCClient(url) as client:
            assert await client.is_server_live()
        async with InferenceGRPCClient(url, timeout=None) as client:
            assert await client.is_server_live()
        async with InferenceGRPCClient(url, timeout=0.5) as client:
            assert await client.is_server_live(timeout=None)
            assert await client.is_server_live()
    default, none, per_call_none, short = servicer.left
    assert 50 < (default or 0) <= 61
    assert (none, per_call_none) == (None, None)
    assert 0 < (short or 0) <= 1


class MetadataRecorder(grpc.aio.ServerInterceptor):
    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []

    async def intercept_service(self, continuation: Any, details: Any) -> Any:
        self.seen.append(dict(details.invocation_metadata))
        return await continuation(details)


async def test_headers_and_client_metadata_are_sent(dataplane: DataPlane) -> None:
    recorder = MetadataRecorder()
    served = grpc_server(InferenceServicer(dataplane), interceptors=[recorder])
    async with served as port, InferenceGRPCClient(f"{HOST}:{port}") as client:
        client.metadata = [("authorization", "Bearer t")]
        await client.is_server_ready(headers=[("x-trace", "abc")])
        await client.is_model_ready("iris")
    assert recorder.seen[0]["x-trace"] == "abc"
    assert recorder.seen[0]["authorization"] == recorder.seen[1]["authorization"] == "Bearer t"
    assert "x-trace" not in recorder.seen[1]


async def test_health_and_metadata(grpc_client: InferenceGRPCClient) -> None:
    assert await grpc_client.is_server_live()
    assert await grpc_client.is_server_ready()
    assert await grpc_client.is_model_ready("versioned", version="2")
    assert (await grpc_client.server_metadata()).extensions[0] == "binary_tensor_data"
    assert (await grpc_client.model_metadata("versioned")).versions == ["1", "2", "10"]
    with pytest.raises(ModelNotFound, match="model 'nope' not found"):
        await grpc_client.is_model_ready("nope")


async def test_tls(dataplane: DataPlane, certificates: Certificates) -> None:
    ca = str(certificates.ca)
    async with grpc_server(InferenceServicer(dataplane), tls=certificates) as port:
        for client in (
            InferenceGRPCClient(f"{HOST}:{port}", use_ssl=True, root_certificates=ca),
            InferenceGRPCClient(f"grpcs://{HOST}:{port}", root_certificates=ca),
            InferenceGRPCClient(
                f"{HOST}:{port}", creds=grpc.ssl_channel_credentials(certificates.ca.read_bytes())
            ),
        ):
            async with client:
                assert classes(await client.infer(iris())) == IRIS_CLASSES
        async with InferenceGRPCClient(f"grpcs://{HOST}:{port}", retries=0) as untrusting:
            with pytest.raises(ServerUnreachable):
                await untrusting.is_server_ready()


async def test_mutual_tls(dataplane: DataPlane, certificates: Certificates) -> None:
    ca, url = str(certificates.ca), f"grpcs://{HOST}:{{}}"
    async with grpc_server(InferenceServicer(dataplane), tls=certificates, mutual=True) as port:
        async with InferenceGRPCClient(
            url.format(port),
            root_certificates=ca,
            private_key=str(certificates.client_key),
            certificate_chain=str(certificates.client_cert),
        ) as client:
            assert classes(await client.infer(iris())) == IRIS_CLASSES
        async with InferenceGRPCClient(url.format(port), root_certificates=ca, retries=0) as anon:
            with pytest.raises(ServerUnreachable):
                await anon.is_server_ready()


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("localhost:8081", "localhost:8081"),
        ("grpc://localhost:8081", "localhost:8081"),
        ("localhost", "localhost:80"),
        ("grpcs://localhost", "localhost:443"),
        ("[::1]:9000", "[::1]:9000"),
    ],
)
async def test_urls(url: str, host: str) -> None:
    async with InferenceGRPCClient(url) as client:
        assert client.host == host
        assert isinstance(client.channel, grpc.aio.Channel)


def test_other_schemes_are_refused() -> None:
    with pytest.raises(ValueError, match="host:port"):
        InferenceGRPCClient("http://localhost:8080")


async def test_verbose_logs_calls(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="oipserve.client")
    for verbose in (False, True):
        caplog.clear()
        async with InferenceGRPCClient(f"{HOST}:{server.grpc_port}", verbose=verbose) as client:
            await client.infer(iris())
        lines = [r.getMessage() for r in caplog.records if r.name == "oipserve.client"]
        target = f"{HOST}:{server.grpc_port} ModelInfer"
        expected = [f"{target} metadata=[]", f"{target} -> OK"]
        assert lines == (expected if verbose else [])
