"""Builds the grpc.aio server: inference service, health, reflection, message limits."""

from __future__ import annotations

import grpc
from grpc_reflection.v1alpha import reflection

from app.dataplane import DataPlane
from app.grpc.health import HEALTH_SERVICE, HealthServicer, health_handlers
from app.grpc.service import SERVICE, method_handlers
from app.grpc.servicer import InferenceServicer
from app.settings import ServerSettings


class GrpcServer:
    """The grpc.aio server, its bound port, and its health service."""

    def __init__(self, server: grpc.aio.Server, health: HealthServicer, port: int) -> None:
        self.server = server
        self.health = health
        self.port = port

    async def start(self) -> None:
        await self.server.start()

    async def stop(self, grace: float) -> None:
        """End the health Watch streams, then give the RPCs in flight `grace` seconds."""
        self.health.close()
        await self.server.stop(grace)


def build_server(dataplane: DataPlane, settings: ServerSettings) -> GrpcServer:
    """A grpc.aio server bound to settings.host:grpc_port (not started)."""
    limit = settings.grpc_max_message_bytes
    server = grpc.aio.server(
        options=[
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", limit),
        ]
    )
    health = HealthServicer(dataplane)
    server.add_generic_rpc_handlers(
        (method_handlers(InferenceServicer(dataplane)), health_handlers(health))
    )
    reflection.enable_server_reflection(
        (SERVICE.full_name, HEALTH_SERVICE, reflection.SERVICE_NAME), server
    )
    address = f"{_host(settings.host)}:{settings.grpc_port}"
    try:
        port = server.add_insecure_port(address)
    except RuntimeError:  # grpcio raises this when it cannot bind; older versions return 0
        port = 0
    if port == 0:
        raise OSError(f"cannot listen for gRPC on {address}")
    return GrpcServer(server, health, port)


def _host(host: str) -> str:
    """An address gRPC accepts: IPv6 literals go in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
