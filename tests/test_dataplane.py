"""The DataPlane: readiness, metadata, and inference with its request checks."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.context import GRPC, REST, open_context
from app.dataplane import DataPlane
from app.protocol.codecs.datatypes import Datatype
from app.protocol.errors import (
    InvalidInput,
    ModelNotFound,
    ModelNotReady,
    OIPError,
    PredictorError,
)
from app.protocol.payload import Payload
from app.protocol.types import InferenceRequest, RequestInput, RequestOutput
from app.registry import ModelRegistry
from app.resolver import target_of
from app.settings import ServerSettings
from tests.payloads import IRIS_ROWS
from tests.planes import dataplane_over, infer
from tests.repo import add_model, tensor


def _input(
    name: str, values: Any, datatype: str = "FP32", shape: list[int] | None = None
) -> RequestInput:
    array = np.asarray(values)
    dt = Datatype(datatype)
    return RequestInput(
        name=name, shape=list(array.shape) if shape is None else shape, datatype=dt, data=array
    )


def _request(
    *inputs: RequestInput, outputs: list[str] | None = None, **extra: Any
) -> InferenceRequest:
    requested = [RequestOutput(name=name) for name in outputs] if outputs else None
    return InferenceRequest(inputs=list(inputs), outputs=requested, **extra)


IRIS = _input("input-0", IRIS_ROWS)


async def _plane(repository: Path, settings: ServerSettings) -> DataPlane:
    registry = ModelRegistry(repository)
    await registry.load_repository()
    return DataPlane(registry, settings)


async def test_readiness_follows_start_and_stop(dataplane: DataPlane) -> None:
    assert await dataplane.live()
    assert await dataplane.ready()
    dataplane.mark_stopping()
    assert not await dataplane.ready()
    assert await dataplane.live()


async def test_not_ready_before_start(repository: Path, settings: ServerSettings) -> None:
    plane = await _plane(repository, settings)
    assert not await plane.ready()
    plane.mark_started()
    assert await plane.ready()


async def test_a_failed_model_makes_the_server_not_ready(
    tmp_path: Path, settings: ServerSettings
) -> None:
    add_model(tmp_path, "good", "tests.toys:Echo")
    add_model(tmp_path, "bad", "tests.toys:BadLoad")
    plane = await _plane(tmp_path, settings)
    plane.mark_started()
    assert not await plane.ready()
    assert await plane.live()
    assert await plane.model_ready(target_of("good"))
    assert not await plane.model_ready(target_of("bad"))
    expected = "model 'bad' version '1' is unavailable: FileNotFoundError: weights.bin is missing"
    with pytest.raises(ModelNotReady) as caught:
        await plane.model_metadata(target_of("bad"))
    assert caught.value.message == expected
    with pytest.raises(ModelNotReady) as caught:
        await infer(plane, "bad", _request(_input("x", [1.0])))
    assert caught.value.message == expected
    response = await infer(plane, "good", _request(_input("x", [1.0])))
    assert response.outputs[0].data.tolist() == [1.0]


async def test_server_metadata(dataplane: DataPlane) -> None:
    metadata = await dataplane.server_metadata()
    assert metadata.name == "oipserve"
    assert metadata.version


async def test_model_metadata(dataplane: DataPlane) -> None:
    metadata = await dataplane.model_metadata(target_of("iris"))
    assert (metadata.name, metadata.versions, metadata.platform) == ("iris", ["1"], "numpy")
    assert [(t.name, t.datatype, t.shape) for t in metadata.inputs] == [
        ("input-0", Datatype.FP32, [-1, 4])
    ]
    assert [(t.name, t.datatype, t.shape) for t in metadata.outputs] == [
        ("output-0", Datatype.FP32, [-1, 3])
    ]


async def test_versions(dataplane: DataPlane) -> None:
    assert (await dataplane.model_metadata(target_of("versioned"))).versions == ["1", "2", "10"]
    assert (await dataplane.model_metadata(target_of("versioned", "2"))).versions == ["2"]
    assert await dataplane.model_ready(target_of("versioned", "10"))
    x = _input("input-0", [[1.0]])
    assert (await infer(dataplane, "versioned", _request(x))).model_version == "10"
    assert (await infer(dataplane, "versioned", _request(x), "2")).model_version == "2"
    with pytest.raises(ModelNotFound, match=r"versions: '1', '2', '10'"):
        await infer(dataplane, "versioned", _request(x), "3")
    with pytest.raises(ModelNotFound, match="model 'nope' not found"):
        await dataplane.model_ready(target_of("nope"))


async def test_infer_iris(dataplane: DataPlane) -> None:
    response = await infer(dataplane, "iris", _request(IRIS, id="abc"))
    assert (response.model_name, response.model_version, response.id) == ("iris", "1", "abc")
    (output,) = response.outputs
    assert (output.name, output.datatype, output.shape) == ("output-0", Datatype.FP32, [2, 3])


async def test_a_request_without_id_gets_a_fresh_one(dataplane: DataPlane) -> None:
    first = await infer(dataplane, "iris", _request(IRIS))
    second = await infer(dataplane, "iris", _request(IRIS))
    assert first.id
    assert second.id
    assert first.id != second.id


async def test_requested_outputs_only_those_in_order(dataplane: DataPlane) -> None:
    inputs = [_input("a", [1]), _input("b", [2]), _input("c", [3])]
    everything = await infer(dataplane, "echo", _request(*inputs))
    assert [o.name for o in everything.outputs] == ["a", "b", "c"]
    chosen = await infer(dataplane, "echo", _request(*inputs, outputs=["c", "a"]))
    assert [o.name for o in chosen.outputs] == ["c", "a"]
    with pytest.raises(InvalidInput) as caught:
        await infer(dataplane, "echo", _request(*inputs, outputs=["d"]))
    assert caught.value.message == (
        "requested output 'd' is not an output of model 'echo'; outputs: 'a', 'b', 'c'"
    )


async def test_unknown_requested_output_of_a_declared_model(dataplane: DataPlane) -> None:
    with pytest.raises(InvalidInput) as caught:
        await infer(dataplane, "iris", _request(IRIS, outputs=["output-0", "proba"]))
    assert caught.value.message == (
        "requested output 'proba' is not an output of model 'iris'; outputs: 'output-0'"
    )


@pytest.mark.parametrize("model", ["echo", "iris"])
async def test_an_output_requested_twice(dataplane: DataPlane, model: str) -> None:
    tensor = IRIS if model == "iris" else _input("output-0", [1])
    with pytest.raises(InvalidInput) as caught:
        await infer(dataplane, model, _request(tensor, outputs=["output-0", "output-0"]))
    assert caught.value.message == "requested output 'output-0' is given more than once"


async def test_parameters_reach_an_infer_style_predictor(dataplane: DataPlane) -> None:
    parameters = {"temperature": 0.5, "mode": "fast", "n": 3, "on": True}
    response = await infer(dataplane, "params", _request(_input("x", [1]), parameters=parameters))
    assert response.parameters == parameters


async def test_model_settings_parameters_reach_the_predictor(dataplane: DataPlane) -> None:
    response = await infer(dataplane, "scale", _request(_input("input-0", [[1.0, 2.0]])))
    assert response.outputs[0].data.tolist() == [[3.0, 6.0]]


BAD_INPUTS: list[tuple[list[RequestInput], str]] = [
    ([], "model 'iris' expects input 'input-0', which the request does not have"),
    (
        [IRIS, _input("extra", [1.0])],
        "input 'extra' is not an input of model 'iris'; inputs: 'input-0'",
    ),
    ([IRIS, IRIS], "input 'input-0' is given more than once"),
    (
        [_input("input-0", IRIS_ROWS.astype(np.float64), "FP64")],
        "input 'input-0': datatype FP64 does not match FP32 of model 'iris'",
    ),
    (
        [_input("input-0", np.zeros((2, 5), np.float32))],
        "input 'input-0': shape [2, 5] does not match [-1, 4] of model 'iris'",
    ),
    (
        [_input("input-0", np.zeros(4, np.float32))],
        "input 'input-0': shape [4] does not match [-1, 4] of model 'iris'",
    ),
    (
        [_input("input-0", np.zeros((1, 1, 4), np.float32))],
        "input 'input-0': shape [1, 1, 4] does not match [-1, 4] of model 'iris'",
    ),
]


@pytest.mark.parametrize(("inputs", "expected"), BAD_INPUTS)
async def test_declared_input_checks(
    dataplane: DataPlane, inputs: list[RequestInput], expected: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await infer(dataplane, "iris", _request(*inputs))
    assert caught.value.message == expected


@pytest.mark.parametrize("rows", [0, 1, 7])
async def test_wildcard_dimensions_take_any_size(dataplane: DataPlane, rows: int) -> None:
    response = await infer(
        dataplane, "iris", _request(_input("input-0", np.ones((rows, 4), np.float32)))
    )
    assert response.outputs[0].shape == [rows, 3]


async def test_undeclared_models_take_any_inputs(tmp_path: Path, settings: ServerSettings) -> None:
    add_model(tmp_path, "any", "tests.toys:Echo", inputs=[tensor("x", "INT8", [2])])
    plane = await _plane(tmp_path, settings)
    with pytest.raises(InvalidInput, match="shape \\[3\\] does not match \\[2\\]"):
        await infer(plane, "any", _request(_input("x", [1, 2, 3], "INT8")))


PREDICTOR_FAILURES: list[tuple[str, type[OIPError], str]] = [
    ("failing", PredictorError, "model 'failing' failed: RuntimeError: boom"),
    ("picky", InvalidInput, "picky: no thanks"),
    ("wrong-output", PredictorError, "predict must return a dict of arrays, got list"),
]
"""Models whose predictor fails, the error the DataPlane raises, and its message."""


@pytest.mark.parametrize(("model", "error", "expected"), PREDICTOR_FAILURES)
async def test_predictor_failures(
    dataplane: DataPlane, model: str, error: type[OIPError], expected: str
) -> None:
    with pytest.raises(error, match=expected):
        await infer(dataplane, model, _request(_input("x", [1.0])))
    assert await dataplane.ready()


# One path: the plan per loaded version, the context, the arrays as decoded.


async def test_the_plan_is_made_at_load_and_dropped_at_unload(tmp_path: Path) -> None:
    add_model(tmp_path, "which", "tests.toys:WhichThread")
    async with dataplane_over(tmp_path) as plane:
        entry = plane.registry.resolve("which")
        plan = entry.plan
        assert plan is not None  # made when the version loaded, before any request
        threads = []
        for index in range(2):
            context = open_context(GRPC, [("x-request-id", f"r-{index}")])
            response = await infer(plane, "which", _request(_input("x", [1.0])), None, context)
            outputs = {output.name: output.data for output in response.outputs}
            assert outputs["id"][0] == f"r-{index}"  # the context is current in the thread
            threads.append(int(outputs["thread"][0]))
            assert entry.plan is plan  # one plan per loaded version
        assert threading.get_ident() not in threads  # a plain predict runs in a worker thread
        await plane.registry.unload("which")
        assert (entry.plan, entry.predictor) == (None, None)  # the plan goes with its predictor


async def test_the_context_holds_the_answer_of_its_request(tmp_path: Path) -> None:
    add_model(tmp_path, "batched", "tests.toys:Echo", max_batch_size=8)
    async with dataplane_over(tmp_path) as plane:
        context = open_context(GRPC)
        rows = np.ones((5, 2), np.float32)
        response = await infer(plane, "batched", _request(_input("x", rows)), None, context)
        assert context.id is not None
        assert context.id.count("-") == 1  # a new id, unique to this process run
        assert response.id == context.id
        assert (context.model, context.version, context.batch) == ("batched", "1", 5)
        assert context.infer_ended >= context.infer_started > context.started
        assert plane.monitor.series[("batched", "1", "grpc", "success")].count == 1


@pytest.mark.parametrize("model", ["echo", "sync-echo", "params"])
async def test_predictors_get_the_arrays_as_decoded(dataplane: DataPlane, model: str) -> None:
    """predict gets the payload's arrays, infer a request holding them: no copies."""
    rows = np.arange(6, dtype=np.float32).reshape(3, 2)
    payload = Payload({"x": rows})
    context = open_context(REST)
    response = await dataplane.infer(target_of(model), payload, context)
    assert response.outputs[0].data is rows


@pytest.mark.parametrize(("model", "error", "expected"), PREDICTOR_FAILURES)
async def test_failures_echo_the_request_id_of_any_front(
    dataplane: DataPlane, model: str, error: type[OIPError], expected: str
) -> None:
    context = open_context(REST, [("x-request-id", "e-1"), ("x-tenant", "t")])
    with pytest.raises(error, match=expected):
        await infer(dataplane, model, _request(_input("x", [1.0])), None, context)
    assert context.echo() == [("x-request-id", "e-1"), ("x-tenant", "t")]
    assert dataplane.monitor.series[(model, "1", "rest", error.status.name.lower())].count == 1
