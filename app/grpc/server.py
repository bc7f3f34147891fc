"""The grpc.aio server (inference service, health, reflection, message limits) as a
listener of the server."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2

from app.dataplane import DataPlane
from app.grpc import parsing
from app.grpc.health import HEALTH_SERVICE, HealthServicer, health_handlers
from app.grpc.service import SERVICE, method_handlers
from app.grpc.servicer import InferenceServicer
from app.settings import ServerSettings


class GrpcListener:
    """The grpc.aio server (inference service, health, reflection) as one of the server's
    listeners."""

    announce = "gRPC listening on {address}"

    def __init__(self, dataplane: DataPlane, settings: ServerSettings) -> None:
        self.dataplane = dataplane
        self.settings = settings
        self.health = HealthServicer(dataplane)
        self.server: grpc.aio.Server | None = None
        self.port = 0
        self._stopping: asyncio.Future[None] | None = None

    def bind(self) -> None:
        """Take the port (OSError saying why it cannot be), before gRPC logs anything."""
        self.server, self.port = build_server(self.dataplane, self.settings, self.health)

    async def start(self) -> int:
        """Serve on the port bound."""
        assert self.server is not None
        await self.server.start()
        return self.port

    def close(self, grace: float) -> None:
        """End the health Watch streams and stop taking calls; the calls in flight get
        `grace` seconds."""
        self.health.close()
        if self.server is not None:
            self._stopping = asyncio.ensure_future(self.server.stop(grace))

    async def wait(self) -> None:
        """Until the calls in flight have finished (or were cancelled)."""
        if self._stopping is not None:
            await self._stopping


def build_server(
    dataplane: DataPlane, settings: ServerSettings, health: HealthServicer
) -> tuple[grpc.aio.Server, int]:
    """A grpc.aio server bound to settings.host:grpc_port (not started), and its port."""
    limit = settings.grpc_max_message_bytes
    server = grpc.aio.server(
        options=[
            ("grpc.so_reuseport", int(settings.reuse_port)),
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", limit),
        ]
    )
    server.add_generic_rpc_handlers(
        (
            method_handlers(InferenceServicer(dataplane)),
            health_handlers(health),
            _reflection_handlers((SERVICE.full_name, HEALTH_SERVICE, reflection.SERVICE_NAME)),
        )
    )
    address = f"{_host(settings.host)}:{settings.grpc_port}"
    _check_free(settings.host, settings.grpc_port, settings.reuse_port)
    try:
        port = server.add_insecure_port(address)
    except RuntimeError:  # grpcio raises this when it cannot bind; older versions return 0
        port = 0
    if port == 0:
        raise OSError(f"cannot listen for gRPC on {address}")
    return server, port


def _check_free(host: str, port: int, reuse_port: bool) -> None:
    """OSError saying why host:port cannot be bound, before gRPC's core logs its own lines
    about it (port 0 is always free)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as error:
            raise OSError(f"cannot listen for gRPC on {host}:{port}: {error.strerror}") from None


def _reflection_handlers(services: tuple[str, ...]) -> grpc.GenericRpcHandler:
    """Server reflection listing `services`, as a generic handler only. grpc_reflection's
    `enable_server_reflection` also adds it as a pre-registered method, and with any
    pre-registered method every other call costs about 5k more instructions on grpc.aio
    (bench.instructions)."""
    servicer = reflection.aio.ReflectionServicer(services)
    info: grpc.RpcMethodHandler[Any, Any] = grpc.stream_stream_rpc_method_handler(
        parsing.bidi_stream(servicer.ServerReflectionInfo, reflection_pb2.ServerReflectionRequest),
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    return grpc.method_handlers_generic_handler(
        reflection.SERVICE_NAME, {"ServerReflectionInfo": info}
    )


def _host(host: str) -> str:
    """An address gRPC accepts: IPv6 literals go in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
