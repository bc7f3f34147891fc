"""The Dockerfile: hadolint-clean, its HEALTHCHECK tells ready from not ready, and its install
steps, run outside a container, give a server that answers iris. (No Docker engine here: CI's
image job builds the image itself.)"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from app.memory import MALLOC_ENV
from app.server import Server
from tests.deploy.dockerfile import DOCKERFILE, commands, instruction, instructions
from tests.payloads import IRIS_CLASSES, iris_request
from tests.process import ROOT, serve, tool


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("hadolint"), "--no-color", str(path)], capture_output=True, text=True, check=False
    )


def test_hadolint_is_clean() -> None:
    result = hadolint(DOCKERFILE)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_hadolint_would_catch_a_problem(tmp_path: Path) -> None:
    """The lint above is not vacuous: an unpinned base image and pip install fail it."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\n")
    result = hadolint(bad)
    assert result.returncode != 0
    assert "DL3007" in result.stdout
    assert "DL3013" in result.stdout


def test_image_shape() -> None:
    """Multi-stage, slim Python 3.11 base, non-root, both ports, serves /models."""
    stages = [i.arguments for i in instructions() if i.keyword == "FROM"]
    assert len(stages) == 2
    assert all(stage.startswith("python:${PYTHON_VERSION}-slim") for stage in stages)
    assert instruction("ARG", stage="").arguments == "PYTHON_VERSION=3.11"
    assert instruction("USER").arguments.split(":")[0] != "0"
    assert instruction("EXPOSE").words() == ["8080", "8081"]
    assert instruction("COPY").words() == ["models", "/models"]
    assert instruction("ENTRYPOINT").exec_form() + instruction("CMD").exec_form() == [
        "oipserve",
        "serve",
        "/models",
    ]


def test_dockerignore_lets_in_every_copied_source() -> None:
    """.dockerignore excludes everything, then lets in what the Dockerfile copies."""
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    allowed = {line.removeprefix("!").rstrip("/") for line in lines if line.startswith("!")}
    assert lines[lines.index("*") + 1 :], "expected '*' then the allowed sources"
    copied = {
        source
        for copy in instructions()
        if copy.keyword == "COPY" and "--from" not in copy.arguments
        for source in copy.words()[:-1]
    }
    assert copied == allowed


async def healthcheck(port: int) -> int:
    """Run the image's HEALTHCHECK command (with this Python) against REST on `port`."""
    command = instruction("HEALTHCHECK").healthcheck_command()
    assert command[0] == "python"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *command[1:],
        env={**os.environ, "OIPSERVE_HTTP_PORT": str(port)},
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await process.wait()


async def test_healthcheck_passes_when_every_model_is_ready(server: Server) -> None:
    assert await healthcheck(server.http_port) == 0


async def test_healthcheck_fails_when_a_model_failed_to_load(broken_server: Server) -> None:
    assert await healthcheck(broken_server.http_port) != 0


def run_step(command: list[str], paths: dict[str, Path], python: Path) -> None:
    """One `pip ...` step of the Dockerfile, with image paths mapped to local ones."""
    assert command[0] == "pip", command
    words: list[str] = []
    for word in command[1:]:
        for image_path, local in paths.items():
            if word == image_path or word.startswith((image_path + "/", image_path + "[")):
                word = str(local) + word.removeprefix(image_path)
        words += sorted(glob.glob(word)) if "*" in word else [word]
    run([str(python), "-m", "pip", *words])


def build_context(tmp_path: Path, stage: str) -> Path:
    """The stage's file system as far as its COPY instructions make it, under a local root
    (relative targets are relative to the stage's WORKDIR)."""
    root = tmp_path / stage
    workdir = root
    for step in (i for i in instructions() if i.stage == stage):
        if step.keyword == "WORKDIR":
            workdir = root / step.arguments.lstrip("/")
        if step.keyword != "COPY":
            continue
        *sources, target = step.words()
        base = root / target.lstrip("/") if target.startswith("/") else workdir / target
        for source in sources:  # into a folder, a file keeps its name (not its path), as in Docker
            destination = base / Path(source).name if target.endswith("/") else base
            if (ROOT / source).is_dir():
                ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
                shutil.copytree(ROOT / source, destination, ignore=ignore)
            else:
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / source, destination)
    return root


def run(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
    """Run a command; a failure shows its output."""
    result = subprocess.run(command, capture_output=True, text=True, check=False, **options)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}{result.stderr}"
    return result


@pytest.mark.slow
def test_image_install_steps_give_a_working_server(tmp_path: Path) -> None:
    """The builder's and the runtime's pip steps, run here: wheels from the copied sources,
    installed offline into a fresh venv, which then serves the copied /models and passes
    the HEALTHCHECK. (The user-adding commands need root and a container; they are left out.)"""
    builder, runtime = build_context(tmp_path, "builder"), build_context(tmp_path, "runtime")
    wheels, venv = tmp_path / "wheels", tmp_path / "venv"
    paths = {"/wheels": wheels, ".": builder / instruction("WORKDIR", "builder").arguments[1:]}
    for command in commands("builder"):
        run_step(command, paths, Path(sys.executable))
    run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    run_step(commands("runtime")[0], paths, python)

    clean = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    where = run([str(python), "-c", "import app; print(app.__file__)"], cwd=tmp_path, env=clean)
    assert Path(where.stdout.strip()).is_relative_to(venv), "app must come from the wheel"
    entrypoint = [str(venv / "bin" / instruction("ENTRYPOINT").exec_form()[0])]
    serve_command, repository = instruction("CMD").exec_form()
    assert serve_command == "serve"
    models = runtime / repository.lstrip("/")
    with serve(models, command=entrypoint, cwd=tmp_path, env=clean) as server:
        answer = httpx.post(f"{server.url}/v2/models/iris/infer", json=iris_request())
        assert answer.status_code == 200, answer.text
        probabilities = np.array(answer.json()["outputs"][0]["data"]).reshape(-1, 3)
        assert probabilities.argmax(axis=1).tolist() == IRIS_CLASSES
        health = subprocess.run(
            [str(python), *instruction("HEALTHCHECK").healthcheck_command()[1:]],
            env={**clean, "OIPSERVE_HTTP_PORT": str(server.http_port)},
            check=False,
        )
        assert health.returncode == 0


def test_image_sets_the_servers_malloc_tuning() -> None:
    """The runtime stage's environment carries app.memory's malloc settings, so the image and
    `tune_malloc()` at start-up can never disagree."""
    environment: dict[str, str] = {}
    for found in instructions():
        if found.keyword == "ENV" and found.stage == "runtime":
            for word in found.words():
                key, _, value = word.partition("=")
                environment[key] = value
    assert {key: environment.get(key) for key in MALLOC_ENV} == MALLOC_ENV
