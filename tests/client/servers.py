"""Real servers for the client tests, in the test's event loop: an ASGI app under uvicorn
(optionally TLS / mutual TLS), a grpc.aio server over a servicer (optionally TLS), a test
CA with trustme, and a free port."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import trustme
import uvicorn

from app.grpc.service import method_handlers

HOST = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Certificates:
    """PEM files of a test CA, a server certificate for 127.0.0.1 and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    client_both: Path
    """The client certificate and key in one file."""


def make_certificates(folder: Path) -> Certificates:
    ca = trustme.CA()
    server = ca.issue_cert(HOST, "localhost")
    client = ca.issue_cert("client@oipserve.test")
    paths = Certificates(*(folder / f"{name}.pem" for name in Certificates.__annotations__))
    ca.cert_pem.write_to_path(str(paths.ca))
    server.cert_chain_pems[0].write_to_path(str(paths.server_cert))
    server.private_key_pem.write_to_path(str(paths.server_key))
    client.cert_chain_pems[0].write_to_path(str(paths.client_cert))
    client.private_key_pem.write_to_path(str(paths.client_key))
    client.private_key_and_cert_chain_pem.write_to_path(str(paths.client_both))
    return paths


class _Quiet(uvicorn.Server):
    """uvicorn without signal handlers: the test owns the process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


@contextlib.asynccontextmanager
async def uvicorn_server(
    app: Any, port: int = 0, tls: Certificates | None = None, mutual: bool = False
) -> AsyncIterator[int]:
    """Serve an ASGI app on 127.0.0.1 (https with `tls`; client certificates required with
    `mutual`) and yield its port."""
    options: dict[str, Any] = {}
    if tls is not None:
        options = {"ssl_certfile": str(tls.server_cert), "ssl_keyfile": str(tls.server_key)}
        if mutual:
            options |= {"ssl_ca_certs": str(tls.ca), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    config = uvicorn.Config(
        app, host=HOST, port=port, lifespan="off", log_config=None, access_log=False, **options
    )
    server = _Quiet(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            raise OSError(f"uvicorn did not start on port {port}")
        await asyncio.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def grpc_server(
    servicer: object,
    tls: Certificates | None = None,
    mutual: bool = False,
    interceptors: Iterable[grpc.aio.ServerInterceptor] = (),
    port: int = 0,
) -> AsyncIterator[int]:
    """Serve `servicer`'s RPCs on 127.0.0.1 (TLS with `tls`) and yield the port."""
    server = grpc.aio.server(interceptors=list(interceptors))
    server.add_generic_rpc_handlers((method_handlers(servicer),))
    if tls is None:
        port = server.add_insecure_port(f"{HOST}:{port}")
    else:
        credentials = grpc.ssl_server_credentials(
            [(tls.server_key.read_bytes(), tls.server_cert.read_bytes())],
            root_certificates=tls.ca.read_bytes() if mutual else None,
            require_client_auth=mutual,
        )
        port = server.add_secure_port(f"{HOST}:{port}", credentials)
    await server.start()
    try:
        yield port
    finally:
        await server.stop(None)
