"""Seldon's documented pipeline examples, as manifests in a test repository with numpy models
standing in for theirs, over REST and gRPC against a real server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.client import (
    InferenceGRPCClient,
    InferenceRESTClient,
    InferInput,
    InferRequest,
    InferResponse,
)
from app.protocol.errors import OIPError
from app.server import Server
from tests.repo import add_model, add_pipeline, add_tfsimples

ONES = np.ones((1, 16), np.int32)
COUNT = np.arange(16, dtype=np.int32).reshape(1, 16)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "models"
    add_model(repo, "tfsimple3", "tests.toys:Simple")
    add_model(repo, "add10", "tests.toys:Add10")
    add_model(repo, "mul10", "tests.toys:Mul10")
    add_model(repo, "conditional", "tests.toys:Choose")
    add_model(repo, "counter", "tests.toys:Counter")
    add_model(repo, "identity-loop", "tests.toys:Echo")
    add_model(repo, "identity-output", "tests.toys:Echo")
    add_tfsimples(repo)
    add_pipeline(
        repo,
        "join",
        {
            "steps": [
                {"name": "tfsimple1"},
                {"name": "tfsimple2"},
                {
                    "name": "tfsimple3",
                    "inputs": ["tfsimple1.outputs.OUTPUT0", "tfsimple2.outputs.OUTPUT1"],
                    "tensorMap": {
                        "tfsimple1.outputs.OUTPUT0": "INPUT0",
                        "tfsimple2.outputs.OUTPUT1": "INPUT1",
                    },
                },
            ],
            "output": {"steps": ["tfsimple3"]},
        },
    )
    add_pipeline(
        repo,
        "tfsimple-conditional",
        {
            "steps": [
                {"name": "conditional"},
                {
                    "name": "mul10",
                    "inputs": ["conditional.outputs.OUTPUT0"],
                    "tensorMap": {"conditional.outputs.OUTPUT0": "INPUT"},
                },
                {
                    "name": "add10",
                    "inputs": ["conditional.outputs.OUTPUT1"],
                    "tensorMap": {"conditional.outputs.OUTPUT1": "INPUT"},
                },
            ],
            "output": {"steps": ["mul10", "add10"], "stepsJoin": "any"},
        },
    )
    add_pipeline(
        repo,
        "trigger-joins",
        {
            "steps": [
                {
                    "name": "mul10",
                    "inputs": ["trigger-joins.inputs.INPUT"],
                    "triggers": ["trigger-joins.inputs.ok1", "trigger-joins.inputs.ok2"],
                    "triggersJoinType": "any",
                },
                {
                    "name": "add10",
                    "inputs": ["trigger-joins.inputs.INPUT"],
                    "triggers": ["trigger-joins.inputs.ok3"],
                },
            ],
            "output": {"steps": ["mul10", "add10"], "stepsJoin": "any"},
        },
    )
    add_pipeline(
        repo,
        "pipeline-inputs",
        {
            "steps": [
                {
                    "name": "mul10",
                    "inputs": ["pipeline-inputs.inputs.INPUT0"],
                    "tensorMap": {"pipeline-inputs.inputs.INPUT0": "INPUT"},
                },
                {
                    "name": "add10",
                    "inputs": ["pipeline-inputs.inputs.INPUT1"],
                    "tensorMap": {"pipeline-inputs.inputs.INPUT1": "INPUT"},
                },
            ],
            "output": {"steps": ["mul10", "add10"]},
        },
    )
    add_pipeline(
        repo,
        "tfsimples-input",
        {
            "steps": [
                {"name": "tfsimple1"},
                {
                    "name": "tfsimple2",
                    "inputs": ["tfsimple1.inputs.INPUT0", "tfsimple1.outputs.OUTPUT1"],
                    "tensorMap": {"tfsimple1.outputs.OUTPUT1": "INPUT1"},
                },
            ],
            "output": {"steps": ["tfsimple2"]},
        },
    )
    add_pipeline(
        repo,
        "counter-pipeline",
        {
            "allowCycles": True,
            "maxStepRevisits": 100,
            "steps": [
                {
                    "name": "counter",
                    "inputsJoinType": "any",
                    "inputs": ["counter-pipeline.inputs", "identity-loop.outputs"],
                },
                {
                    "name": "identity-output",
                    "joinWindowMs": 1,
                    "inputs": ["counter.outputs"],
                    "triggers": ["counter.outputs.stop"],
                },
                {
                    "name": "identity-loop",
                    "joinWindowMs": 1,
                    "inputs": ["counter.outputs.output"],
                    "triggers": ["counter.outputs.continue"],
                },
            ],
            "output": {"steps": ["identity-output.outputs"]},
        },
    )
    return repo


def _tensor(name: str, array: np.ndarray) -> InferInput:
    datatype = {"int32": "INT32", "float32": "FP32", "object": "BYTES"}[array.dtype.name]
    tensor = InferInput(name, list(array.shape), datatype)
    tensor.set_data_from_numpy(array)
    return tensor


async def _both(server: Server, pipeline: str, **inputs: np.ndarray) -> dict[str, Any]:
    """The pipeline's outputs by name over REST and over gRPC, which must agree."""
    request = InferRequest(f"{pipeline}.pipeline", [_tensor(k, v) for k, v in inputs.items()])
    answers: list[InferResponse] = []
    async with InferenceRESTClient(f"http://127.0.0.1:{server.http_port}") as rest:
        answers.append(await rest.infer(request))
    async with InferenceGRPCClient(f"127.0.0.1:{server.grpc_port}") as grpc_client:
        answers.append(await grpc_client.infer(request))
    outputs = [[(o.name, o.as_numpy().tolist()) for o in answer.outputs] for answer in answers]
    assert outputs[0] == outputs[1]
    return dict(outputs[0])


async def _failure(server: Server, pipeline: str, **inputs: np.ndarray) -> tuple[str, str]:
    """The error status and message of the pipeline's answer, the same over both fronts."""
    request = InferRequest(f"{pipeline}.pipeline", [_tensor(k, v) for k, v in inputs.items()])
    found = []
    async with (
        InferenceRESTClient(f"http://127.0.0.1:{server.http_port}") as rest,
        InferenceGRPCClient(f"127.0.0.1:{server.grpc_port}") as grpc_client,
    ):
        for client in (rest, grpc_client):
            with pytest.raises(OIPError) as caught:
                await client.infer(request)
            found.append((caught.value.status.name, caught.value.message))
    assert found[0] == found[1]
    return found[0]


async def test_chaining_with_a_tensor_map(server: Server) -> None:
    outputs = await _both(server, "tfsimples", INPUT0=COUNT, INPUT1=ONES)
    # step 1: (count + 1, count - 1); step 2: their sum and difference
    assert outputs["OUTPUT0"] == (2 * COUNT).tolist()
    assert outputs["OUTPUT1"] == (2 * ONES).tolist()


async def test_a_join_of_two_steps(server: Server) -> None:
    outputs = await _both(server, "join", INPUT0=COUNT, INPUT1=ONES)
    assert outputs["OUTPUT0"] == (COUNT + 1 + COUNT - 1).tolist()
    assert outputs["OUTPUT1"] == (COUNT + 1 - (COUNT - 1)).tolist()


@pytest.mark.parametrize(("choice", "expected"), [(0, [10.0, 20.0]), (1, [13.0, 14.0])])
async def test_a_condition_runs_one_branch(
    server: Server, choice: int, expected: list[float]
) -> None:
    values = {
        "CHOICE": np.array([choice], np.int32),
        "INPUT0": np.array([1.0, 2.0], np.float32),
        "INPUT1": np.array([3.0, 4.0], np.float32),
    }
    outputs = await _both(server, "tfsimple-conditional", **values)
    assert outputs == {"OUTPUT": expected}
    series = server.dataplane.monitor.series
    ran = {key[0] for key in series if key[2] == "inprocess"}
    assert ran == {"conditional", "mul10" if choice == 0 else "add10"}


async def test_triggers_gate_steps(server: Server) -> None:
    flag = np.array([1], np.int32)
    values = np.array([1.0, 2.0], np.float32)
    assert await _both(server, "trigger-joins", INPUT=values, ok2=flag) == {"OUTPUT": [10.0, 20.0]}
    assert await _both(server, "trigger-joins", INPUT=values, ok3=flag) == {"OUTPUT": [11.0, 12.0]}
    status, message = await _failure(server, "trigger-joins", INPUT=values)
    assert status == "INVALID_ARGUMENT"
    assert message == (
        "pipeline 'trigger-joins': join unsatisfied: the output (any join) misses "
        "mul10.outputs, add10.outputs"
    )


async def test_the_pipelines_own_inputs_and_equal_output_names(server: Server) -> None:
    request = InferRequest(
        "pipeline-inputs.pipeline",
        [
            _tensor("INPUT0", np.array([1.0, 2.0], np.float32)),
            _tensor("INPUT1", np.array([1.0, 2.0], np.float32)),
        ],
    )
    async with InferenceGRPCClient(f"127.0.0.1:{server.grpc_port}") as client:
        answer = await client.infer(request)
    assert [(o.name, o.as_numpy().tolist()) for o in answer.outputs] == [
        ("OUTPUT", [10.0, 20.0]),
        ("OUTPUT", [11.0, 12.0]),
    ]


async def test_a_step_reads_what_another_step_was_sent(server: Server) -> None:
    outputs = await _both(server, "tfsimples-input", INPUT0=COUNT, INPUT1=ONES)
    # step 2 gets step 1's INPUT0 (COUNT) and its OUTPUT1 (COUNT - 1) as INPUT1
    assert outputs["OUTPUT0"] == (2 * COUNT - 1).tolist()
    assert outputs["OUTPUT1"] == ONES.tolist()


async def test_a_cycle_counts_to_ten(server: Server) -> None:
    outputs = await _both(server, "counter-pipeline", INPUT=np.array([3], np.int32))
    assert outputs["output"] == [10]
    assert "stop" in outputs
    runs = server.dataplane.monitor.series[("counter", "1", "inprocess", "success")].count
    assert runs == 2 * 7  # 4, 5, ..., 10 over each front
