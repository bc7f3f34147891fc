"""Pipelines at run time: errors that name the step, joins that wait too long, cycles that
run too often, the request id and X- headers at every step, and pipelines in the repository
(loaded, checked against their models, ready while their steps are)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.server import Server
from app.settings import ServerSettings
from tests.repo import add_model, add_pipeline, tensor

BODY = {"inputs": [{"name": "INPUT", "shape": [2], "datatype": "FP32", "data": [1.0, 2.0]}]}


def _chain(*steps: str) -> dict[str, object]:
    """A pipeline spec calling `steps` one after the other."""
    items: list[dict[str, object]] = [{"name": steps[0]}]
    items += [{"name": step, "inputs": [before]} for before, step in itertools.pairwise(steps)]
    return {"steps": items, "output": {"steps": [steps[-1]]}}


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "models"
    add_model(repo, "add10", "tests.toys:Add10")
    add_model(repo, "echo", "tests.toys:Echo")
    add_model(repo, "params", "tests.toys:ParameterEcho")
    add_model(repo, "failing", "tests.toys:Failing")
    add_model(repo, "picky", "tests.toys:Picky")
    add_model(repo, "slow", "tests.toys:Slow", parameters={"seconds": 2})
    add_model(repo, "counter", "tests.toys:Counter")
    add_model(
        repo,
        "declared",
        "tests.toys:Echo",
        inputs=[tensor("INPUT", "FP32", [-1])],
        outputs=[tensor("INPUT", "FP32", [-1])],
    )
    add_pipeline(repo, "fails", _chain("add10", "failing"))
    add_pipeline(repo, "refuses", _chain("echo", "picky"))
    add_pipeline(repo, "headers", _chain("params", "params2"))
    add_model(repo, "params2", "tests.toys:ParameterEcho")
    add_pipeline(
        repo,
        "late",
        {
            "steps": [
                {"name": "echo"},
                {"name": "slow"},
                {
                    "name": "add10",
                    "inputs": ["echo.outputs.INPUT", "slow.outputs.INPUT"],
                    "joinWindowMs": 50,
                },
            ],
            "output": {"steps": ["add10"]},
        },
    )
    add_pipeline(
        repo,
        "loops",
        {
            "allowCycles": True,
            "maxStepRevisits": 2,
            "steps": [
                {"name": "counter", "inputsJoinType": "any", "inputs": ["loops.inputs", "echo"]},
                {"name": "echo", "inputs": ["counter.outputs.output"]},
            ],
            "output": {"steps": ["counter.outputs.stop"]},
        },
    )
    add_pipeline(repo, "chained", _chain("echo", "declared"))
    return repo


@pytest.fixture
async def server(repository: Path) -> AsyncIterator[Server]:
    settings = ServerSettings(
        model_repository=repository, host="127.0.0.1", http_port=0, grpc_port=0
    )
    running = Server(settings)
    await running.start()
    yield running
    await running.stop(grace=1)


@pytest.fixture
async def rest(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client:
        yield client


@pytest.mark.parametrize(
    ("pipeline", "status", "message"),
    [
        (
            "fails",
            500,
            "pipeline 'fails' step 'failing' (model 'failing'): model 'failing' failed: "
            "RuntimeError: boom",
        ),
        ("refuses", 400, "pipeline 'refuses' step 'picky' (model 'picky'): picky: no thanks"),
        (
            "late",
            504,
            "pipeline 'late': step 'add10' waited past its joinWindowMs for slow.outputs.INPUT",
        ),
        ("loops", 500, "pipeline 'loops' step 'counter' would run 4 times for one request"),
    ],
)
async def test_errors_name_the_step(
    rest: httpx.AsyncClient, pipeline: str, status: int, message: str
) -> None:
    answer = await rest.post(f"/v2/pipelines/{pipeline}/infer", json=BODY)
    assert answer.status_code == status
    assert answer.json()["error"].startswith(message)


async def test_the_request_id_and_x_headers_reach_every_step(
    rest: httpx.AsyncClient, server: Server
) -> None:
    headers = {"x-request-id": "r-7", "x-tenant": "acme"}
    answer = await rest.post("/v2/pipelines/headers/infer", json=BODY, headers=headers)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["id"], answer.headers["x-request-id"]) == ("r-7", "r-7")
    assert answer.headers["x-tenant"] == "acme"
    series = server.dataplane.monitor.series
    assert series[("params", "1", "inprocess", "success")].count == 1
    assert series[("params2", "1", "inprocess", "success")].count == 1
    assert series[("headers.pipeline", "", "rest", "success")].count == 1
    # the second step saw what the first did: the header, as a request parameter
    step = await rest.post("/v2/models/params2/infer", json=BODY, headers=headers)
    assert step.json()["parameters"] == {"x-tenant": "acme"}


async def test_pipelines_are_listed_and_ready_while_their_steps_are(
    rest: httpx.AsyncClient,
) -> None:
    index = (await rest.post("/v2/repository/index")).json()
    pipelines = {m["name"]: m["state"] for m in index if m["name"].endswith(".pipeline")}
    assert pipelines["chained.pipeline"] == "READY"
    assert (await rest.get("/v2/pipelines/chained/ready")).json()["ready"] is True
    metadata = (await rest.get("/v2/pipelines/chained")).json()
    assert [o["name"] for o in metadata["outputs"]] == ["INPUT"]
    assert (await rest.post("/v2/repository/models/declared/unload")).status_code == 200
    ready = await rest.get("/v2/pipelines/chained/ready")
    assert (ready.status_code, ready.json()["ready"]) == (400, False)
    refused = await rest.post("/v2/pipelines/chained/infer", json=BODY)
    assert refused.status_code == 503
    assert "step 'declared'" in refused.json()["error"]
    assert (await rest.post("/v2/repository/models/declared/load")).status_code == 200
    assert (await rest.post("/v2/pipelines/chained/infer", json=BODY)).status_code == 200
    assert (await rest.get("/v2/pipelines/nope/ready")).status_code == 404


async def test_an_invalid_pipeline_is_reported_and_the_rest_serve(
    repository: Path, server: Server, rest: httpx.AsyncClient
) -> None:
    add_pipeline(repository, "broken", _chain("add10", "missing"))
    add_pipeline(
        repository,
        "undeclared",
        {
            "steps": [{"name": "add10"}, {"name": "declared", "inputs": ["add10.outputs.OUTPUT"]}],
            "output": {"steps": ["declared"]},
        },
    )
    loaded = await rest.post("/v2/repository/models/broken.pipeline/load")
    assert loaded.status_code == 400
    assert loaded.json()["error"] == (
        "pipeline 'broken' step 'missing': there is no model 'missing' in the repository"
    )
    loaded = await rest.post("/v2/repository/models/undeclared.pipeline/load")
    assert loaded.json()["error"].startswith(
        "pipeline 'undeclared' step 'declared' input 'add10.outputs.OUTPUT' arrives as "
        "'OUTPUT', which model 'declared' does not declare"
    )
    index = (await rest.post("/v2/repository/index")).json()
    broken = next(m for m in index if m["name"] == "broken.pipeline")
    assert (broken["state"], broken["reason"]) == (
        "UNAVAILABLE",
        loaded.json()["error"][:0] or broken["reason"],
    )
    assert "there is no model 'missing'" in broken["reason"]
    assert (await rest.post("/v2/pipelines/chained/infer", json=BODY)).status_code == 200
    assert await server.dataplane.ready()  # loaded after start-up: the server stays ready


async def test_a_pipeline_reloads_when_its_manifest_changes(
    repository: Path, rest: httpx.AsyncClient
) -> None:
    before = await rest.post("/v2/pipelines/chained/infer", json=BODY)
    assert before.json()["outputs"] == [
        {"name": "INPUT", "datatype": "FP32", "shape": [2], "data": [1.0, 2.0]}
    ]
    add_pipeline(repository, "chained", _chain("echo", "add10"))
    assert (await rest.post("/v2/repository/models/chained.pipeline/load")).status_code == 200
    answer = await rest.post("/v2/pipelines/chained/infer", json=BODY)
    assert answer.json()["outputs"][0]["data"] == [11.0, 12.0]
    assert (await rest.post("/v2/repository/models/chained.pipeline/unload")).status_code == 200
    assert (await rest.post("/v2/pipelines/chained/infer", json=BODY)).status_code == 404
