"""Client fixtures: the shared repository plus a slow model, both clients against the real
server, the REST client in process, and test certificates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.client import InferenceGRPCClient, InferenceRESTClient, RESTConfig
from app.dataplane import DataPlane
from app.rest import create_app
from app.server import Server
from app.settings import ServerSettings
from tests.client.servers import Certificates, make_certificates
from tests.repo import add_model

SLOW_SECONDS = 1.0


@pytest.fixture
def repository(repository: Path) -> Path:
    """The shared test repository plus `slow`, which answers after SLOW_SECONDS."""
    add_model(repository, "slow", "tests.toys:Slow", parameters={"seconds": SLOW_SECONDS})
    return repository


@pytest.fixture
async def in_process(
    dataplane: DataPlane, settings: ServerSettings
) -> AsyncIterator[InferenceRESTClient]:
    """The REST client talking to the app in process, through an ASGI transport."""
    transport = httpx.ASGITransport(app=create_app(dataplane, settings))
    config = RESTConfig(transport=transport)
    async with InferenceRESTClient("http://oipserve", config) as client:
        yield client


@pytest.fixture
async def rest_client(server: Server) -> AsyncIterator[InferenceRESTClient]:
    async with InferenceRESTClient(f"http://127.0.0.1:{server.http_port}") as client:
        yield client


@pytest.fixture
async def grpc_client(server: Server) -> AsyncIterator[InferenceGRPCClient]:
    async with InferenceGRPCClient(f"127.0.0.1:{server.grpc_port}") as client:
        yield client


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))
