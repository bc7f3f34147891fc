"""The grpc.aio server builder: services, reflection (as grpcurl uses it) and ports."""

from __future__ import annotations

import socket

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from app.dataplane import DataPlane
from app.grpc.server import GrpcListener, _host
from app.settings import ServerSettings


async def _reflect(
    channel: grpc.aio.Channel, request: reflection_pb2.ServerReflectionRequest
) -> reflection_pb2.ServerReflectionResponse:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = stub.ServerReflectionInfo()
    await call.write(request)
    await call.done_writing()
    response: reflection_pb2.ServerReflectionResponse = await call.read()
    return response


async def test_reflection_lists_the_services(channel: grpc.aio.Channel) -> None:
    response = await _reflect(channel, reflection_pb2.ServerReflectionRequest(list_services=""))
    names = {service.name for service in response.list_services_response.service}
    assert names == {
        "inference.GRPCInferenceService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }


async def test_reflection_describes_the_inference_service(channel: grpc.aio.Channel) -> None:
    request = reflection_pb2.ServerReflectionRequest(
        file_containing_symbol="inference.GRPCInferenceService"
    )
    response = await _reflect(channel, request)
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(raw)
        for raw in response.file_descriptor_response.file_descriptor_proto
    ]
    (proto,) = [f for f in files if f.package == "inference"]
    (service,) = proto.service
    methods = {method.name: method.input_type for method in service.method}
    assert methods["ModelInfer"] == ".inference.ModelInferRequest"
    assert "ServerLive" in methods


async def test_a_busy_port_is_an_os_error(dataplane: DataPlane) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = ServerSettings(host="127.0.0.1", grpc_port=port)
        with pytest.raises(OSError, match=f"cannot listen for gRPC on 127.0.0.1:{port}"):
            GrpcListener(dataplane, settings).bind()


@pytest.mark.parametrize(
    ("host", "expected"),
    [("0.0.0.0", "0.0.0.0"), ("::", "[::]"), ("::1", "[::1]"), ("[::1]", "[::1]"), ("h", "h")],
)
def test_ipv6_hosts_are_bracketed(host: str, expected: str) -> None:
    assert _host(host) == expected
