"""The client examples of the README and docs/ run against a real server."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest

from app.server import Server
from tests.readme import python_example
from tests.repo import IRIS


async def run_example(marker: str, server: Server) -> list[str]:
    """The example's printed lines, run against `server`."""
    source = python_example(marker).replace("localhost:8080", f"127.0.0.1:{server.http_port}")
    source = source.replace("localhost:8081", f"127.0.0.1:{server.grpc_port}")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        source,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode().splitlines()


async def test_readme_client_example(server: Server) -> None:
    rest, rest_error, grpc, grpc_error = await run_example("clients example", server)
    assert rest.endswith(" 42 [0 2]")
    assert rest.startswith("http://")
    assert grpc.endswith(" 42 [0 2]")
    assert grpc.startswith("grpc://")
    assert rest_error == grpc_error == "NOT_FOUND model 'nope' not found"


@pytest.fixture
def repository(repository: Path) -> Path:
    """The bundled iris explainer too, for the explainers example."""
    shutil.copytree(IRIS.parent / "iris-explainer", repository / "iris-explainer")
    return repository


async def test_readme_explainers_example(server: Server) -> None:
    (line,) = await run_example("explainers example", server)
    assert line == "petal_width"  # what makes the second flower a virginica most


async def test_readme_pipeline_example(server: Server) -> None:
    rest, grpc = await run_example("pipelines example", server)
    assert rest == f"http://127.0.0.1:{server.http_port} [0 2] [ True  True]"
    assert grpc == f"grpc://127.0.0.1:{server.grpc_port} [0 2] [ True  True]"
