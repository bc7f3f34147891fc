"""Shared fixtures: a test model repository, the DataPlane over it, an in-process REST
client, and a real server (REST + gRPC on 127.0.0.1, port 0) in the test's event loop."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest

from app.client.inprocess import InProcessClient
from app.dataplane import DataPlane
from app.registry import ModelRegistry
from app.rest import create_app
from app.server import Server
from app.settings import ServerSettings
from tests.repo import IRIS, add_model, tensor

FP32_ANY = [tensor("input-0", "FP32", [-1, -1])]


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A repository with iris and one toy model of each kind."""
    repo = tmp_path / "models"
    for bundled in ("iris", "argmax", "iris-classes"):  # iris-classes: iris, then argmax
        shutil.copytree(IRIS.parent / bundled, repo / bundled)
    add_model(repo, "echo", "tests.toys:Echo")
    add_model(repo, "sync-echo", "tests.toys:SyncEcho")
    add_model(
        repo,
        "scale",
        "tests.toys:Scale",
        inputs=FP32_ANY,
        outputs=[tensor("output-0", "FP32", [-1, -1])],
        parameters={"factor": 3},
    )
    add_model(repo, "params", "tests.toys:ParameterEcho")
    add_model(repo, "failing", "tests.toys:Failing")
    add_model(repo, "picky", "tests.toys:Picky")
    add_model(repo, "wrong-output", "tests.toys:WrongOutput")
    add_model(repo, "versioned", "tests.toys:Scale", versions=["1", "2", "10"])
    return repo


@pytest.fixture
def broken_repository(tmp_path: Path) -> Path:
    """A repository where `good` loads and `bad` fails to load (weights.bin is missing)."""
    repo = tmp_path / "broken"
    add_model(repo, "good", "tests.toys:Echo")
    add_model(repo, "bad", "tests.toys:BadLoad")
    return repo


@pytest.fixture
async def broken_server(broken_repository: Path) -> AsyncIterator[Server]:
    """A real server over the broken repository: live, not ready."""
    settings = ServerSettings(
        model_repository=broken_repository, host="127.0.0.1", http_port=0, grpc_port=0
    )
    running = Server(settings)
    await running.start()
    yield running
    await running.stop(grace=1)


@pytest.fixture
def settings(repository: Path) -> ServerSettings:
    return ServerSettings(model_repository=repository, host="127.0.0.1", http_port=0, grpc_port=0)


@pytest.fixture
async def dataplane(settings: ServerSettings) -> AsyncIterator[DataPlane]:
    registry = ModelRegistry(settings.model_repository)
    plane = DataPlane(registry, settings)
    registry.client = InProcessClient(plane)  # as the Server wires it
    await registry.load_repository()
    await plane.pipelines.load_repository()
    plane.mark_started()
    yield plane
    await registry.unload_all()


@pytest.fixture
async def rest(dataplane: DataPlane, settings: ServerSettings) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to the REST app in process."""
    transport = httpx.ASGITransport(app=create_app(dataplane, settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://oipserve") as client:
        yield client


@pytest.fixture
async def server(settings: ServerSettings) -> AsyncIterator[Server]:
    """A real server on 127.0.0.1 (ports in .http_port / .grpc_port), stopped afterwards."""
    running = Server(settings)
    await running.start()
    yield running
    await running.stop(grace=1)


@pytest.fixture
async def served(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to the real server's REST port."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client:
        yield client


@pytest.fixture
async def channel(server: Server) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as opened:
        yield opened
