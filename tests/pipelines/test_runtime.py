"""Pipelines at run time: errors that name the step, joins that wait too long, cycles that
run too often, the request id and X- headers at every step, and pipelines in the repository
(loaded, checked against their models, ready while their steps are)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import grpc
import httpx
import pytest

from app.context import REST, open_context
from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.service import Stub
from app.server import Server
from tests.repo import add_model, add_pipeline, tensor
from tests.toys import Gated

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
    add_model(repo, "gated", "tests.toys:Gated")
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
    add_pipeline(repo, "slowly", _chain("echo", "slow"))
    add_model(repo, "after-gate", "tests.toys:Echo")
    add_pipeline(repo, "gate-first", _chain("gated", "after-gate"))
    add_pipeline(
        repo,
        "dead-branch",
        {
            "steps": [
                {"name": "echo"},
                {"name": "add10", "inputs": ["echo.outputs.ABSENT"]},  # never sent: never runs
                {"name": "gated"},
            ],
            "output": {"steps": ["add10", "gated"]},
        },
    )
    add_model(repo, "twin", "tests.toys:Echo")
    add_pipeline(repo, "twin", _chain("add10"))  # a model and a pipeline of one name
    for name in ("meet-a", "meet-b", "meet-c"):
        add_model(repo, name, "tests.toys:Rendezvous", parameters={"size": 3})
    add_pipeline(
        repo,
        "together",
        {
            "steps": [{"name": "meet-a"}, {"name": "meet-b"}, {"name": "meet-c"}],
            "output": {"steps": ["meet-a", "meet-b", "meet-c"]},
        },
    )
    add_pipeline(
        repo,
        "watching",
        {
            "steps": [
                {"name": "meet-a"},
                {"name": "meet-b", "inputs": ["meet-a.inputs"]},
                {"name": "meet-c", "inputs": ["meet-b.inputs.INPUT"]},
            ],
            "output": {"steps": ["meet-a", "meet-b", "meet-c"]},
        },
    )
    return repo


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
    served: httpx.AsyncClient, pipeline: str, status: int, message: str
) -> None:
    answer = await served.post(f"/v2/pipelines/{pipeline}/infer", json=BODY)
    assert answer.status_code == status
    assert answer.json()["error"].startswith(message)


async def test_an_unsatisfiable_output_fails_at_once_while_another_step_runs(
    served: httpx.AsyncClient, server: Server
) -> None:
    """Once `add10` can no longer run, the output's inner join can never be satisfied: the
    request fails then, not when `gated` finishes: it cannot before the test opens its gate,
    which it does only once the answer has come."""
    _, gated = server.dataplane.registry.predictor("gated")
    assert isinstance(gated, Gated)
    try:
        answer = await served.post("/v2/pipelines/dead-branch/infer", json=BODY, timeout=20)
    finally:
        gated.gate.set()
    assert answer.status_code == 400
    assert answer.json()["error"] == (
        "pipeline 'dead-branch': join unsatisfied: the output (inner join) misses "
        "add10.outputs, gated.outputs"
    )


async def test_a_step_unloaded_while_a_request_runs_is_503(
    served: httpx.AsyncClient, server: Server
) -> None:
    """The pipeline is ready when the request comes; its second step's model is unloaded
    while the first step runs: the pipeline is then not ready, as a request arriving later
    is told, 503 / UNAVAILABLE, not 404."""
    _, gated = server.dataplane.registry.predictor("gated")
    assert isinstance(gated, Gated)
    try:
        sent = asyncio.create_task(served.post("/v2/pipelines/gate-first/infer", json=BODY))
        assert await asyncio.to_thread(gated.entered.wait, 10)
        assert (await served.post("/v2/repository/models/after-gate/unload")).status_code == 200
    finally:
        gated.gate.set()
    answer = await sent
    assert (answer.status_code, answer.json()) == (
        503,
        {
            "error": "pipeline 'gate-first' step 'after-gate' (model 'after-gate'): "
            "model 'after-gate' is unloaded"
        },
    )
    later = await served.post("/v2/pipelines/gate-first/infer", json=BODY)
    assert later.status_code == 503


async def test_a_pipeline_past_its_timeout_parameter_is_named_as_a_pipeline(
    served: httpx.AsyncClient,
) -> None:
    body = {**BODY, "parameters": {"timeout": 50_000}}  # microseconds, as in Triton
    answer = await served.post("/v2/pipelines/slowly/infer", json=body)
    assert (answer.status_code, answer.json()) == (
        504,
        {"error": "pipeline 'slowly' did not answer within the request's deadline (50 ms)"},
    )


async def test_the_request_id_and_x_headers_reach_every_step(
    served: httpx.AsyncClient, server: Server
) -> None:
    headers = {"x-request-id": "r-7", "x-tenant": "acme"}
    answer = await served.post("/v2/pipelines/headers/infer", json=BODY, headers=headers)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["id"], answer.headers["x-request-id"]) == ("r-7", "r-7")
    assert answer.headers["x-tenant"] == "acme"
    series = server.dataplane.monitor.series
    assert series[("params", "1", "inprocess", "success")].count == 1
    assert series[("params2", "1", "inprocess", "success")].count == 1
    assert series[("headers.pipeline", "", "rest", "success")].count == 1
    # the second step saw what the first did: the header, as a request parameter
    step = await served.post("/v2/models/params2/infer", json=BODY, headers=headers)
    assert step.json()["parameters"] == {"x-tenant": "acme"}


async def test_statistics_and_metrics_count_steps_and_the_pipeline(
    served: httpx.AsyncClient, server: Server
) -> None:
    for _ in range(2):
        assert (await served.post("/v2/pipelines/headers/infer", json=BODY)).status_code == 200
    (pipeline,) = (await served.get("/v2/models/headers.pipeline/stats")).json()["model_stats"]
    assert (pipeline["name"], pipeline["version"]) == ("headers.pipeline", "")
    assert pipeline["inference_stats"]["success"]["count"] == 2
    phases = {k: pipeline["inference_stats"][f"compute_{k}"] for k in ("input", "infer", "output")}
    assert all(phase["count"] == 2 and phase["ns"] >= 0 for phase in phases.values()), phases
    assert phases["infer"]["ns"] > 0  # the steps' run
    (step,) = (await served.get("/v2/models/params/stats")).json()["model_stats"]
    assert step["inference_stats"]["success"]["count"] == 2
    every = (await served.get("/v2/models/stats")).json()["model_stats"]
    assert {"params", "params2", "headers.pipeline", "chained.pipeline"} <= {
        stats["name"] for stats in every
    }
    missing = await served.get("/v2/models/nope.pipeline/stats")
    assert (missing.status_code, missing.json()) == (404, {"error": "pipeline 'nope' not found"})

    assert (await served.post("/v2/repository/models/declared/unload")).status_code == 200
    assert (await served.post("/v2/pipelines/chained/infer", json=BODY)).status_code == 503
    in_flight = [open_context(REST), open_context(REST)]
    in_flight[0].model, in_flight[1].model = "headers.pipeline", "nope.pipeline"
    for context in in_flight:
        server.dataplane.monitor.begin(context)
    try:
        text = (await served.get("/metrics")).text
    finally:
        for context in in_flight:
            server.dataplane.monitor.inflight.discard(context)
    assert (
        'oipserve_requests_total{model="headers.pipeline",outcome="success",protocol="rest",'
        'version=""} 2.0' in text
    )
    assert 'oipserve_requests_total{model="params",outcome="success",protocol="inprocess"' in text
    assert 'model="chained.pipeline",outcome="unavailable"' in text  # before it was found
    assert 'oipserve_inflight_requests{model="headers.pipeline",protocol="rest"} 1.0' in text
    assert 'oipserve_inflight_requests{model="",protocol="rest"} 1.0' in text  # unknown


async def test_a_model_and_a_pipeline_may_share_a_name(served: httpx.AsyncClient) -> None:
    echoed = [{"name": "INPUT", "datatype": "FP32", "shape": [2], "data": [1.0, 2.0]}]
    added = [{"name": "OUTPUT", "datatype": "FP32", "shape": [2], "data": [11.0, 12.0]}]
    pipeline = {"seldon-model": "twin.pipeline"}
    for path, headers, outputs in [
        ("/v2/models/twin/infer", {}, echoed),
        ("/v2/pipelines/twin/infer", {}, added),
        ("/v2/models/twin.pipeline/infer", {}, added),
        ("/v2/models/twin/infer", pipeline, added),
    ]:
        answer = await served.post(path, json=BODY, headers=headers)
        assert answer.json()["outputs"] == outputs, (path, headers)
    names = {entry["name"] for entry in (await served.post("/v2/repository/index")).json()}
    assert {"twin", "twin.pipeline"} <= names


async def test_a_pipeline_has_no_versions(served: httpx.AsyncClient) -> None:
    refused = "pipeline 'chained' has no version '2': pipelines have no versions"
    for method, path in [
        ("POST", "/v2/models/chained.pipeline/versions/2/infer"),
        ("GET", "/v2/models/chained.pipeline/versions/2/ready"),
        ("GET", "/v2/models/chained.pipeline/versions/2"),
    ]:
        answer = await served.request(method, path, json=BODY if method == "POST" else None)
        assert (answer.status_code, answer.json()) == (404, {"error": refused}), path


@pytest.mark.parametrize("pipeline", ["together", "watching"])
async def test_steps_whose_inputs_are_ready_run_at_once(
    served: httpx.AsyncClient, pipeline: str
) -> None:
    """Three steps that each answer only while the other two run: one after the other, the
    first would give up waiting. In `watching`, a step takes the inputs of the one before,
    which are there as soon as that one starts."""
    answer = await served.post(f"/v2/pipelines/{pipeline}/infer", json=BODY)
    assert answer.status_code == 200, answer.text
    names = [output["name"] for output in answer.json()["outputs"]]
    assert names == ["OUTPUT_meet-a", "OUTPUT_meet-b", "OUTPUT_meet-c"]


async def test_grpc_readiness_and_metadata_of_a_pipeline(server: Server) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        stub = Stub(channel)
        ready = await stub.ModelReady(pb.ModelReadyRequest(name="chained.pipeline"))
        assert ready.ready
        header = [("seldon-model", "chained.pipeline")]
        metadata = await stub.ModelMetadata(pb.ModelMetadataRequest(name="x"), metadata=header)
        assert metadata.name == "chained"
        assert [(t.name, t.datatype, list(t.shape)) for t in metadata.outputs] == [
            ("INPUT", "FP32", [-1])
        ]
        await stub.ModelInfer(
            pb.ModelInferRequest(
                model_name="chained.pipeline",
                inputs=[
                    pb.ModelInferRequest.InferInputTensor(name="INPUT", datatype="FP32", shape=[1])
                ],
                raw_input_contents=[b"\0\0\x80?"],
            )
        )
        every = await stub.ModelStatistics(pb.ModelStatisticsRequest())
        (stats,) = [s for s in every.model_stats if s.name == "chained.pipeline"]
        assert stats.inference_stats.success.count == 1
        assert stats.inference_stats.compute_infer.ns > 0
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.ModelReady(pb.ModelReadyRequest(name="nope.pipeline"))
        assert missing.value.code() is grpc.StatusCode.NOT_FOUND
        assert missing.value.details() == "pipeline 'nope' not found"


async def test_pipelines_are_listed_and_ready_while_their_steps_are(
    served: httpx.AsyncClient,
) -> None:
    index = (await served.post("/v2/repository/index")).json()
    pipelines = {m["name"]: m["state"] for m in index if m["name"].endswith(".pipeline")}
    assert pipelines["chained.pipeline"] == "READY"
    assert (await served.get("/v2/pipelines/chained/ready")).json()["ready"] is True
    metadata = (await served.get("/v2/pipelines/chained")).json()
    assert [o["name"] for o in metadata["outputs"]] == ["INPUT"]
    assert (await served.post("/v2/repository/models/declared/unload")).status_code == 200
    ready = await served.get("/v2/pipelines/chained/ready")
    assert (ready.status_code, ready.json()["ready"]) == (400, False)
    refused = await served.post("/v2/pipelines/chained/infer", json=BODY)
    assert refused.status_code == 503
    assert "step 'declared'" in refused.json()["error"]
    assert (await served.post("/v2/repository/models/declared/load")).status_code == 200
    assert (await served.post("/v2/pipelines/chained/infer", json=BODY)).status_code == 200
    assert (await served.get("/v2/pipelines/nope/ready")).status_code == 404


async def test_an_invalid_pipeline_is_reported_and_the_rest_serve(
    repository: Path, server: Server, served: httpx.AsyncClient
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
    loaded = await served.post("/v2/repository/models/broken.pipeline/load")
    assert loaded.status_code == 400
    missing = "pipeline 'broken' step 'missing': there is no model 'missing' in the repository"
    assert loaded.json()["error"] == missing
    loaded = await served.post("/v2/repository/models/undeclared.pipeline/load")
    assert loaded.json()["error"].startswith(
        "pipeline 'undeclared' step 'declared' input 'add10.outputs.OUTPUT' arrives as "
        "'OUTPUT', which model 'declared' does not declare"
    )
    index = (await served.post("/v2/repository/index")).json()
    broken = next(m for m in index if m["name"] == "broken.pipeline")
    assert (broken["state"], broken["reason"]) == ("UNAVAILABLE", missing)
    assert (await served.post("/v2/pipelines/chained/infer", json=BODY)).status_code == 200
    assert await server.dataplane.ready()  # loaded after start-up: the server stays ready


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("kind: Pipeline\n".encode("utf-16"), "pipeline.yaml cannot be read: 'utf-8' codec"),
        (b"[" * 30_000, "pipeline.yaml cannot be read: it nests too deep"),
    ],
)
async def test_a_pipeline_file_that_cannot_be_read_is_400_saying_why(
    repository: Path, served: httpx.AsyncClient, content: bytes, reason: str
) -> None:
    (repository / "unread").mkdir()
    (repository / "unread" / "pipeline.yaml").write_bytes(content)
    loaded = await served.post("/v2/repository/models/unread.pipeline/load")
    assert loaded.status_code == 400
    assert loaded.json()["error"].startswith(reason)


async def test_a_pipeline_reloads_when_its_manifest_changes(
    repository: Path, served: httpx.AsyncClient
) -> None:
    before = await served.post("/v2/pipelines/chained/infer", json=BODY)
    assert before.json()["outputs"] == [
        {"name": "INPUT", "datatype": "FP32", "shape": [2], "data": [1.0, 2.0]}
    ]
    add_pipeline(repository, "chained", _chain("echo", "add10"))
    assert (await served.post("/v2/repository/models/chained.pipeline/load")).status_code == 200
    answer = await served.post("/v2/pipelines/chained/infer", json=BODY)
    assert answer.json()["outputs"][0]["data"] == [11.0, 12.0]
    assert (await served.post("/v2/repository/models/chained.pipeline/unload")).status_code == 200
    assert (await served.post("/v2/pipelines/chained/infer", json=BODY)).status_code == 404
    ready = await served.get("/v2/pipelines/chained/ready")  # known (its folder), not ready
    assert (ready.status_code, ready.json()) == (400, {"name": "chained", "ready": False})
