"""Sequential pipelines (each step reads only the one before it) run their steps one after
the other: the same answers, errors and inspected tensors as the general loop gives."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.dataplane import DataPlane
from app.pipelines.executor import Run
from app.pipelines.joins import Tensor
from app.pipelines.manifest import pipeline_spec
from app.protocol.errors import InvalidInput, OIPError
from tests.planes import dataplane_over
from tests.repo import add_model, add_pipeline


def _spec(steps: list[dict[str, Any]], output: dict[str, Any]) -> dict[str, Any]:
    return {"steps": steps, "output": output}


RENAMED = _spec(
    [
        {"name": "add10"},
        {
            "name": "mul10",
            "inputs": ["add10.outputs.OUTPUT"],
            "tensorMap": {"add10.outputs.OUTPUT": "INPUT"},
        },
    ],
    {"steps": ["mul10"], "tensorMap": {"mul10.outputs.OUTPUT": "RESULT"}},
)
SEQUENTIAL = {
    "renamed": RENAMED,
    "one-step": _spec([{"name": "add10"}], {"steps": ["add10"]}),
    "any-of-two": _spec(
        [
            {"name": "choose"},
            {
                "name": "echo",
                "inputs": ["choose.outputs.OUTPUT0", "choose.outputs.OUTPUT1"],
                "inputsJoinType": "any",
            },
        ],
        {"steps": ["echo"]},
    ),
    "dead-end": _spec(  # choose answers OUTPUT1 (CHOICE 1): echo never runs
        [{"name": "choose"}, {"name": "echo", "inputs": ["choose.outputs.OUTPUT0"]}],
        {"steps": ["echo"]},
    ),
    "fails": _spec(
        [
            {"name": "add10"},
            {"name": "failing", "inputs": ["add10"]},
            {"name": "echo", "inputs": ["failing"]},
        ],
        {"steps": ["echo"]},
    ),
}
"""Pipelines whose steps run in sequence."""


@pytest.mark.parametrize(
    ("spec", "sequential"),
    [
        (RENAMED, True),
        (SEQUENTIAL["any-of-two"], True),
        (SEQUENTIAL["fails"], True),
        (_spec([{"name": "a"}, {"name": "b", "inputs": ["a", "p"]}], {"steps": ["b"]}), False),
        (_spec([{"name": "a"}, {"name": "b", "inputs": ["a.inputs"]}], {"steps": ["b"]}), False),
        (_spec([{"name": "a"}, {"name": "b"}], {"steps": ["b"]}), False),
        (_spec([{"name": "a"}, {"name": "b", "inputs": ["a"]}], {"steps": ["a", "b"]}), False),
        (
            _spec(
                [
                    {"name": "a"},
                    {"name": "b", "inputs": ["a.outputs.x"], "triggers": ["a.outputs.y"]},
                ],
                {"steps": ["b"]},
            ),
            False,
        ),
    ],
)
def test_which_pipelines_are_sequential(spec: dict[str, Any], sequential: bool) -> None:
    manifest = {
        "apiVersion": "mlops.seldon.io/v1alpha1",
        "kind": "Pipeline",
        "metadata": {"name": "p"},
        "spec": spec,
    }
    assert pipeline_spec(manifest, "p").sequential is sequential


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[DataPlane]:
    add_model(tmp_path, "add10", "tests.toys:Add10")
    add_model(tmp_path, "mul10", "tests.toys:Mul10")
    add_model(tmp_path, "choose", "tests.toys:Choose")
    add_model(tmp_path, "echo", "tests.toys:Echo")
    add_model(tmp_path, "failing", "tests.toys:Failing")
    for name, spec in SEQUENTIAL.items():
        add_pipeline(tmp_path, name, spec)
    async with dataplane_over(tmp_path) as dataplane:
        yield dataplane


def _inputs(name: str) -> list[Tensor]:
    if name in ("any-of-two", "dead-end"):
        arrays = {
            "CHOICE": np.array([1], dtype=np.int32),
            "INPUT0": np.array([1.0], dtype=np.float32),
            "INPUT1": np.array([2.0], dtype=np.float32),
        }
    else:
        arrays = {"INPUT": np.array([1.0, 2.0], dtype=np.float32)}
    return [Tensor(key, "", list(a.shape), a) for key, a in arrays.items()]


Seen = list[tuple[str, str, list[tuple[str, object]]]]


async def _run(plane: DataPlane, name: str, sequential: bool) -> tuple[object, Seen]:
    """The outcome of one request through pipeline `name`, run in sequence or not, and what
    each step was sent and answered."""
    spec = dataclasses.replace(plane.pipelines.spec(name), sequential=sequential)
    seen: Seen = []

    def record(step: str, side: str, tensors: list[Tensor]) -> None:
        seen.append((step, side, [(t.name, t.data.tolist()) for t in tensors]))

    assert plane.registry.client is not None
    try:
        tensors = await Run(spec, plane.registry.client, _inputs(name), record).answer()
    except OIPError as error:
        return (type(error), error.message), seen
    return [(t.name, t.datatype, t.shape, t.data.tolist()) for t in tensors], seen


@pytest.mark.parametrize("name", sorted(SEQUENTIAL))
async def test_in_sequence_as_in_the_general_loop(plane: DataPlane, name: str) -> None:
    assert plane.pipelines.spec(name).sequential
    assert await _run(plane, name, True) == await _run(plane, name, False)


async def test_what_a_sequence_answers(plane: DataPlane) -> None:
    answer, seen = await _run(plane, "renamed", True)
    assert answer == [("RESULT", "FP32", [2], [110.0, 120.0])]
    assert [(step, side) for step, side, _ in seen] == [
        ("add10", "inputs"),
        ("add10", "outputs"),
        ("mul10", "inputs"),
        ("mul10", "outputs"),
    ]
    answer, _ = await _run(plane, "dead-end", True)
    assert answer == (
        InvalidInput,
        "pipeline 'dead-end': join unsatisfied: the output (inner join) misses echo.outputs",
    )
