"""The DataPlane: readiness, metadata, and inference with its request checks."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.calls import GRPC, SUCCESS, Call, current_call
from app.dataplane import DataPlane
from app.plans import Plan
from app.protocol.codecs.datatypes import Datatype
from app.protocol.errors import InvalidInput, ModelNotFound, ModelNotReady, PredictorError
from app.protocol.types import InferenceRequest, RequestInput, RequestOutput
from app.registry import ModelRegistry
from app.settings import ServerSettings
from tests.payloads import IRIS_ROWS
from tests.planes import dataplane_over
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
    assert await plane.model_ready("good")
    assert not await plane.model_ready("bad")
    expected = "model 'bad' version '1' is unavailable: FileNotFoundError: weights.bin is missing"
    with pytest.raises(ModelNotReady) as caught:
        await plane.model_metadata("bad")
    assert caught.value.message == expected
    with pytest.raises(ModelNotReady) as caught:
        await plane.infer("bad", _request(_input("x", [1.0])))
    assert caught.value.message == expected
    response = await plane.infer("good", _request(_input("x", [1.0])))
    assert response.outputs[0].data.tolist() == [1.0]


async def test_server_metadata(dataplane: DataPlane) -> None:
    metadata = await dataplane.server_metadata()
    assert metadata.name == "oipserve"
    assert metadata.version


async def test_model_metadata(dataplane: DataPlane) -> None:
    metadata = await dataplane.model_metadata("iris")
    assert (metadata.name, metadata.versions, metadata.platform) == ("iris", ["1"], "numpy")
    assert [(t.name, t.datatype, t.shape) for t in metadata.inputs] == [
        ("input-0", Datatype.FP32, [-1, 4])
    ]
    assert [(t.name, t.datatype, t.shape) for t in metadata.outputs] == [
        ("output-0", Datatype.FP32, [-1, 3])
    ]


async def test_versions(dataplane: DataPlane) -> None:
    assert (await dataplane.model_metadata("versioned")).versions == ["1", "2", "10"]
    assert (await dataplane.model_metadata("versioned", "2")).versions == ["2"]
    assert await dataplane.model_ready("versioned", "10")
    x = _input("input-0", [[1.0]])
    assert (await dataplane.infer("versioned", _request(x))).model_version == "10"
    assert (await dataplane.infer("versioned", _request(x), "2")).model_version == "2"
    with pytest.raises(ModelNotFound, match=r"versions: '1', '2', '10'"):
        await dataplane.infer("versioned", _request(x), "3")
    with pytest.raises(ModelNotFound, match="model 'nope' not found"):
        await dataplane.model_ready("nope")


async def test_infer_iris(dataplane: DataPlane) -> None:
    response = await dataplane.infer("iris", _request(IRIS, id="abc"))
    assert (response.model_name, response.model_version, response.id) == ("iris", "1", "abc")
    (output,) = response.outputs
    assert (output.name, output.datatype, output.shape) == ("output-0", Datatype.FP32, [2, 3])


async def test_a_request_without_id_gets_a_fresh_one(dataplane: DataPlane) -> None:
    first = await dataplane.infer("iris", _request(IRIS))
    second = await dataplane.infer("iris", _request(IRIS))
    assert first.id
    assert second.id
    assert first.id != second.id


async def test_requested_outputs_only_those_in_order(dataplane: DataPlane) -> None:
    inputs = [_input("a", [1]), _input("b", [2]), _input("c", [3])]
    everything = await dataplane.infer("echo", _request(*inputs))
    assert [o.name for o in everything.outputs] == ["a", "b", "c"]
    chosen = await dataplane.infer("echo", _request(*inputs, outputs=["c", "a"]))
    assert [o.name for o in chosen.outputs] == ["c", "a"]
    with pytest.raises(InvalidInput) as caught:
        await dataplane.infer("echo", _request(*inputs, outputs=["d"]))
    assert caught.value.message == (
        "requested output 'd' is not an output of model 'echo'; outputs: 'a', 'b', 'c'"
    )


async def test_unknown_requested_output_of_a_declared_model(dataplane: DataPlane) -> None:
    with pytest.raises(InvalidInput) as caught:
        await dataplane.infer("iris", _request(IRIS, outputs=["output-0", "proba"]))
    assert caught.value.message == (
        "requested output 'proba' is not an output of model 'iris'; outputs: 'output-0'"
    )


@pytest.mark.parametrize("model", ["echo", "iris"])
async def test_an_output_requested_twice(dataplane: DataPlane, model: str) -> None:
    tensor = IRIS if model == "iris" else _input("output-0", [1])
    with pytest.raises(InvalidInput) as caught:
        await dataplane.infer(model, _request(tensor, outputs=["output-0", "output-0"]))
    assert caught.value.message == "requested output 'output-0' is given more than once"


async def test_parameters_reach_an_infer_style_predictor(dataplane: DataPlane) -> None:
    parameters = {"temperature": 0.5, "mode": "fast", "n": 3, "on": True}
    response = await dataplane.infer("params", _request(_input("x", [1]), parameters=parameters))
    assert response.parameters == parameters


async def test_model_settings_parameters_reach_the_predictor(dataplane: DataPlane) -> None:
    response = await dataplane.infer("scale", _request(_input("input-0", [[1.0, 2.0]])))
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
        await dataplane.infer("iris", _request(*inputs))
    assert caught.value.message == expected


@pytest.mark.parametrize("rows", [0, 1, 7])
async def test_wildcard_dimensions_take_any_size(dataplane: DataPlane, rows: int) -> None:
    response = await dataplane.infer(
        "iris", _request(_input("input-0", np.ones((rows, 4), np.float32)))
    )
    assert response.outputs[0].shape == [rows, 3]


async def test_undeclared_models_take_any_inputs(tmp_path: Path, settings: ServerSettings) -> None:
    add_model(tmp_path, "any", "tests.toys:Echo", inputs=[tensor("x", "INT8", [2])])
    plane = await _plane(tmp_path, settings)
    with pytest.raises(InvalidInput, match="shape \\[3\\] does not match \\[2\\]"):
        await plane.infer("any", _request(_input("x", [1, 2, 3], "INT8")))


PREDICTOR_FAILURES: list[tuple[str, type[Exception], str]] = [
    ("failing", PredictorError, "model 'failing' failed: RuntimeError: boom"),
    ("picky", InvalidInput, "picky: no thanks"),
    ("wrong-output", PredictorError, "predict must return a dict of arrays, got list"),
]
"""Models whose predictor fails, the error the DataPlane raises, and its message."""


@pytest.mark.parametrize(("model", "error", "expected"), PREDICTOR_FAILURES)
async def test_predictor_failures(
    dataplane: DataPlane, model: str, error: type[Exception], expected: str
) -> None:
    with pytest.raises(error, match=expected):
        await dataplane.infer(model, _request(_input("x", [1.0])))
    assert await dataplane.ready()


# The predict lane: `predict`, called by a transport with input arrays.


@contextlib.contextmanager
def _transport_call(plane: DataPlane, model: str) -> Iterator[Call]:
    """A call opened as a transport opens it, current while the block runs."""
    call = plane.monitor.begin(GRPC, model)
    token = current_call.set(call)
    try:
        yield call
    finally:
        current_call.reset(token)


async def test_predict_answers_as_infer_does(dataplane: DataPlane) -> None:
    with _transport_call(dataplane, "iris") as call:
        prediction = await dataplane.predict("iris", {"input-0": IRIS_ROWS}, None, "r-9")
    dataplane.monitor.finish(call, SUCCESS)
    assert prediction is not None
    expected = await dataplane.infer("iris", _request(IRIS))
    assert [(name, datatype) for name, datatype, _ in prediction.outputs] == [
        ("output-0", Datatype.FP32)
    ]
    assert np.array_equal(prediction.outputs[0][2], expected.outputs[0].data)
    assert (prediction.model_version, prediction.id, call.id) == ("1", "r-9", "r-9")
    assert call.entry is not None
    assert call.entry.version == "1"
    assert call.infer_ended >= call.infer_started > call.started
    stats = call.entry.stats
    assert (stats.success, stats.fail) == (2, 0)  # this call and the in-process infer
    assert dataplane.monitor.series[("iris", "1", "grpc", "success")].count == 1


async def test_predict_settles_a_new_id_and_the_batch(tmp_path: Path) -> None:
    add_model(tmp_path, "batched", "tests.toys:Echo", max_batch_size=8)
    async with dataplane_over(tmp_path) as plane:
        with _transport_call(plane, "batched") as call:
            rows = np.ones((5, 2), np.float32)
            prediction = await plane.predict("batched", {"x": rows})
        assert prediction is not None
        assert prediction.id == call.id
        assert call.id is not None
        assert call.id.count("-") == 1
        assert call.batch == 5


async def test_predict_runs_a_plain_predict_in_a_worker_thread(tmp_path: Path) -> None:
    add_model(tmp_path, "which", "tests.toys:WhichThread")
    async with dataplane_over(tmp_path) as plane:
        entry = plane.registry.resolve("which")
        assert entry.plan is None  # made at the first request
        threads: list[int] = []
        plans: list[Plan | None] = []
        for _ in range(2):
            with _transport_call(plane, "which") as call:
                prediction = await plane.predict("which", {"x": np.ones(1, np.float32)})
            assert prediction is not None
            outputs = {name: array for name, _, array in prediction.outputs}
            assert outputs["id"][0] == call.id  # the call is current in the worker thread
            threads.append(int(outputs["thread"][0]))
            plans.append(entry.plan)
        assert plans[0] is plans[1] is not None  # one plan per loaded version
        assert threading.get_ident() not in threads
        await plane.registry.unload("which")
        assert (entry.plan, entry.predictor) == (None, None)  # the plan goes with its predictor


async def test_predict_leaves_other_calls_to_infer(dataplane: DataPlane) -> None:
    rows = {"input-0": IRIS_ROWS}
    assert await dataplane.predict("iris", rows) is None  # no transport call: in process
    with _transport_call(dataplane, "params") as call:
        assert await dataplane.predict("params", {"x": IRIS_ROWS}, None, "p-1") is None
    assert (call.entry, call.id) == (None, "p-1")  # infer-style model: infer takes over


UNFIT_INPUTS: list[dict[str, np.ndarray]] = [
    {},
    {"input-0": IRIS_ROWS, "extra": IRIS_ROWS},
    {"other": IRIS_ROWS},
    {"input-0": IRIS_ROWS.astype(np.float64)},
    {"input-0": np.zeros((2, 5), np.float32)},
    {"input-0": np.zeros(4, np.float32)},
    {"input-0": np.zeros((1, 1, 4), np.float32)},
]


@pytest.mark.parametrize("inputs", UNFIT_INPUTS)
async def test_inputs_that_do_not_fit_go_to_infer(
    dataplane: DataPlane, inputs: dict[str, np.ndarray]
) -> None:
    with _transport_call(dataplane, "iris") as call:
        assert await dataplane.predict("iris", inputs) is None
    assert call.entry is None  # infer can still take the call, and say what is wrong


@pytest.mark.parametrize(
    ("model", "error", "expected"),
    [*PREDICTOR_FAILURES, ("nope", ModelNotFound, "model 'nope' not found")],
)
async def test_predict_errors_are_infers(
    dataplane: DataPlane, model: str, error: type[Exception], expected: str
) -> None:
    with _transport_call(dataplane, model) as call, pytest.raises(error, match=expected):
        await dataplane.predict(model, {"x": np.ones(1, np.float32)}, None, "e-1")
    assert call.id == "e-1"
    with pytest.raises(error, match=expected):
        await dataplane.infer(model, _request(_input("x", [1.0])))
