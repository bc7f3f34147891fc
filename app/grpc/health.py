"""The standard grpc.health.v1.Health service, answering from the DataPlane.

Service names: "" / "readiness" / "inference.GRPCInferenceService" report readiness (SERVING
once every model is ready, NOT_SERVING while starting or shutting down); "liveness" reports
liveness, for a Kubernetes gRPC liveness probe that must not fail while models load.
At shutdown `close()` ends every Watch stream with NOT_SERVING, so that the server's stop
does not wait for them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypeAlias

import grpc
from grpc_health.v1 import health_pb2

from app.dataplane import DataPlane
from app.grpc import parsing
from app.grpc.service import SERVICE

HEALTH_SERVICE = "grpc.health.v1.Health"
_READINESS = {"", "readiness", SERVICE.full_name}
_LIVENESS = "liveness"
Status: TypeAlias = health_pb2.HealthCheckResponse.ServingStatus
Context = grpc.aio.ServicerContext[Any, Any]


class HealthServicer:
    def __init__(self, dataplane: DataPlane, watch_interval: float = 1.0) -> None:
        self.dataplane = dataplane
        self.watch_interval = watch_interval
        self._closed = asyncio.Event()

    def close(self) -> None:
        """The server is closing: every Watch stream sends NOT_SERVING and ends."""
        self._closed.set()

    async def _closed_within(self, seconds: float) -> None:
        """Wait `seconds`, or less if the server closes meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closed.wait(), seconds)

    async def _status(self, service: str) -> Status | None:
        if service == _LIVENESS:
            healthy = await self.dataplane.live()
        elif service in _READINESS:
            healthy = await self.dataplane.ready()
        else:
            return None
        return (
            health_pb2.HealthCheckResponse.SERVING
            if healthy
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )

    async def Check(
        self, request: health_pb2.HealthCheckRequest, context: Context
    ) -> health_pb2.HealthCheckResponse:
        status = await self._status(request.service)
        if status is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service!r}")
        return health_pb2.HealthCheckResponse(status=status)

    async def Watch(
        self, request: health_pb2.HealthCheckRequest, context: Context
    ) -> AsyncIterator[health_pb2.HealthCheckResponse]:
        last: Status | None = None
        unknown, not_serving = (
            health_pb2.HealthCheckResponse.SERVICE_UNKNOWN,
            health_pb2.HealthCheckResponse.NOT_SERVING,
        )
        while not self._closed.is_set():
            status = await self._status(request.service)
            if status is None:
                status = unknown
            if status != last:
                yield health_pb2.HealthCheckResponse(status=status)
                last = status
            await self._closed_within(self.watch_interval)
        if last not in (unknown, not_serving):
            yield health_pb2.HealthCheckResponse(status=not_serving)


def health_handlers(servicer: HealthServicer) -> grpc.GenericRpcHandler:
    request, response = health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse
    return grpc.method_handlers_generic_handler(
        HEALTH_SERVICE,
        {
            "Check": grpc.unary_unary_rpc_method_handler(
                parsing.unary(servicer.Check, request),
                response_serializer=response.SerializeToString,
            ),
            "Watch": grpc.unary_stream_rpc_method_handler(
                parsing.server_stream(servicer.Watch, request),
                response_serializer=response.SerializeToString,
            ),
        },
    )
