"""Builds the grpc.aio server: inference service, health, reflection, message limits."""

from __future__ import annotations

import grpc
from grpc_reflection.v1alpha import reflection

from app.dataplane import DataPlane
from app.grpc.health import HEALTH_SERVICE, HealthServicer, health_handlers
from app.grpc.service import SERVICE, method_handlers
from app.grpc.servicer import InferenceServicer
from app.settings import ServerSettings


def build_server(dataplane: DataPlane, settings: ServerSettings) -> tuple[grpc.aio.Server, int]:
    """A grpc.aio server bound to settings.host:grpc_port (not started), and its bound port."""
    limit = settings.grpc_max_message_bytes
    server = grpc.aio.server(
        options=[
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", limit),
        ]
    )
    server.add_generic_rpc_handlers(
        (method_handlers(InferenceServicer(dataplane)), health_handlers(HealthServicer(dataplane)))
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
    return server, port


def _host(host: str) -> str:
    """An address gRPC accepts: IPv6 literals go in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
