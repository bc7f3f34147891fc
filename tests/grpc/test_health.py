"""grpc.health.v1.Health over the DataPlane, with grpcio-health-checking's own stub."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from app.server import Server

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def _check(channel: grpc.aio.Channel, service: str) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    response = await stub.Check(health_pb2.HealthCheckRequest(service=service))
    return int(response.status)


@pytest.mark.parametrize("service", ["", "readiness", "liveness", "inference.GRPCInferenceService"])
async def test_serving_when_ready(channel: grpc.aio.Channel, service: str) -> None:
    assert await _check(channel, service) == SERVING


async def test_unknown_service_is_not_found(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _check(channel, "no.such.Service")
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert caught.value.details() == "unknown service 'no.such.Service'"


async def test_watch_reports_the_current_status(channel: grpc.aio.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for service, status in [
        ("", SERVING),
        ("nope", health_pb2.HealthCheckResponse.SERVICE_UNKNOWN),
    ]:
        call = stub.Watch(health_pb2.HealthCheckRequest(service=service))
        first = await call.read()
        call.cancel()
        assert first.status == status


async def test_not_serving_while_not_ready(broken_server: Server) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{broken_server.grpc_port}") as channel:
        assert await _check(channel, "") == NOT_SERVING
        assert await _check(channel, "readiness") == NOT_SERVING
        assert await _check(channel, "inference.GRPCInferenceService") == NOT_SERVING
        assert await _check(channel, "liveness") == SERVING
