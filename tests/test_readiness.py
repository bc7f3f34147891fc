"""--ready-when: server readiness waits for every model loaded at start (all), for any one,
or for the models and pipelines named; a name the repository lacks fails the start."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from app.model_settings import ModelSettingsError
from app.protocol.types import RepositoryModelRequest
from app.server import Server
from app.settings import ServerSettings
from tests.repo import IRIS, add_model


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """`good` loads, `bad` does not; iris-classes is a pipeline of iris and argmax."""
    repo = tmp_path / "models"
    add_model(repo, "good", "tests.toys:Echo")
    add_model(repo, "bad", "tests.toys:BadLoad")
    for bundled in ("iris", "argmax", "iris-classes"):
        shutil.copytree(IRIS.parent / bundled, repo / bundled)
    return repo


@pytest.mark.parametrize(
    ("ready_when", "ready"),
    [
        ("all", False),
        ("any", True),
        ("good", True),
        ("bad", False),
        ("good, bad", False),
        ("iris-classes.pipeline,good", True),
    ],
)
async def test_readiness_follows_the_policy(repository: Path, ready_when: str, ready: bool) -> None:
    settings = ServerSettings(
        model_repository=repository,
        host="127.0.0.1",
        http_port=0,
        grpc_port=0,
        ready_when=ready_when,
    )
    server = Server(settings)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client:
            answer = await client.get("/v2/health/ready")
        assert (answer.status_code, answer.json()) == (200 if ready else 503, {"ready": ready})
        assert await server.dataplane.ready() is ready
    finally:
        await server.stop(grace=1)


async def test_any_is_not_ready_while_nothing_serves(repository: Path) -> None:
    """No model loaded: the pipeline loads, but cannot serve without its steps."""
    settings = ServerSettings(
        model_repository=repository,
        host="127.0.0.1",
        http_port=0,
        grpc_port=0,
        ready_when="any",
        load_models="none",
    )
    server = Server(settings)
    await server.start()
    try:
        assert await server.dataplane.ready() is False
        await server.dataplane.repository_load("good", RepositoryModelRequest())
        assert await server.dataplane.ready() is True
    finally:
        await server.stop(grace=1)


async def test_a_name_the_repository_lacks_fails_the_start(repository: Path) -> None:
    settings = ServerSettings(model_repository=repository, ready_when="good,nope")
    with pytest.raises(ModelSettingsError, match="--ready-when names 'nope', which is neither"):
        await Server(settings).start()
