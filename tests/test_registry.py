"""The registry: versions, reloads, failed reloads, concurrent loads and unloads, draining
requests in flight before a predictor unloads, readiness."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from app.dataplane import DataPlane
from app.protocol.errors import ModelNotFound, ModelNotReady, PredictorError
from app.protocol.types import InferenceRequest, InferenceResponse, RequestInput
from app.registry import ModelState
from tests.planes import dataplane_over
from tests.repo import add_model, tensor
from tests.toys import recorded

FP32 = [tensor("input-0", "FP32", [-1])]


def _request(value: float = 1.0, id: str | None = None) -> InferenceRequest:
    data = np.array([value], dtype=np.float32)
    return InferenceRequest(
        id=id, inputs=[RequestInput(name="input-0", shape=[1], datatype="FP32", data=data)]
    )


async def _output(plane: DataPlane, name: str, version: str | None = None) -> float:
    response = await plane.infer(name, _request(), version)
    return float(response.outputs[0].data[0])


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[DataPlane]:
    async with dataplane_over(tmp_path, load=False) as dataplane:
        yield dataplane


def _scale(repo: Path, factor: float, **settings: Any) -> Path:
    return add_model(repo, "scale", "tests.toys:Scale", parameters={"factor": factor}, **settings)


def _touch_settings(folder: Path, **changes: object) -> None:
    """Rewrite the model settings with `changes` (and a later mtime)."""
    path = folder / "model-settings.json"
    content = {**orjson.loads(path.read_bytes()), **changes}
    time.sleep(0.01)
    path.write_bytes(orjson.dumps(content))


async def test_named_and_integer_versions_default_to_the_newest(
    tmp_path: Path, plane: DataPlane
) -> None:
    folder = _scale(tmp_path, 2, versions=["1", "2"])
    (folder / "beta").mkdir()
    (folder / "beta" / "model-settings.json").write_text('{"parameters": {"factor": 7}}')
    await plane.registry.load_repository()
    assert [e.version for e in plane.registry.versions("scale")] == ["beta", "1", "2"]
    assert plane.registry.resolve("scale").version == "2"
    assert await _output(plane, "scale", "beta") == 7.0
    with pytest.raises(ModelNotFound, match=r"has no version '3' \(versions: 'beta', '1', '2'\)"):
        await _output(plane, "scale", "3")


async def test_default_version_setting_picks_the_default(tmp_path: Path, plane: DataPlane) -> None:
    _scale(tmp_path, 2, versions=["1", "2"], default_version="1")
    await plane.registry.load_repository()
    response = await plane.infer("scale", _request())
    assert response.model_version == "1"


async def test_version_policy_loads_only_the_chosen_versions(
    tmp_path: Path, plane: DataPlane
) -> None:
    _scale(tmp_path, 2, versions=["1", "2", "3"], version_policy={"latest": {"num_versions": 1}})
    await plane.registry.load_repository()
    assert [e.version for e in plane.registry.versions("scale")] == ["3"]
    with pytest.raises(ModelNotFound, match=r"versions: '3'"):
        await _output(plane, "scale", "1")


async def test_load_reloads_a_changed_folder_and_keeps_an_unchanged_one(
    tmp_path: Path, plane: DataPlane
) -> None:
    folder = _scale(tmp_path, 2)
    await plane.registry.load("scale")
    first = plane.registry.resolve("scale").predictor
    await plane.registry.load("scale")
    assert plane.registry.resolve("scale").predictor is first
    _touch_settings(folder, parameters={"factor": 5})
    await plane.registry.load("scale")
    assert plane.registry.resolve("scale").predictor is not first
    assert await _output(plane, "scale") == 5.0


async def test_failed_reload_keeps_the_old_build_serving_and_says_why(
    tmp_path: Path, plane: DataPlane
) -> None:
    folder = _scale(tmp_path, 2)
    await plane.registry.load("scale")
    _touch_settings(folder, implementation="tests.toys:BadLoad")
    with pytest.raises(PredictorError, match=r"version '1': FileNotFoundError: weights.bin"):
        await plane.registry.load("scale")
    (entry,) = plane.registry.index()
    assert entry.state is ModelState.READY
    assert "reload failed, the previous load still serves" in entry.reason
    assert "weights.bin is missing" in entry.reason
    assert await _output(plane, "scale") == 2.0
    (folder / "model-settings.json").write_text("{broken")
    with pytest.raises(PredictorError, match="is not valid JSON"):
        await plane.registry.load("scale")
    assert await _output(plane, "scale") == 2.0


async def _slow_request_running(
    repository: Path, plane: DataPlane, id: str
) -> tuple[Path, asyncio.Task[InferenceResponse]]:
    """A 0.3 s Recorder model loaded, and a request `id` to it under way."""
    folder = add_model(repository, "slow", "tests.toys:Recorder", parameters={"seconds": 0.3})
    await plane.registry.load("slow")
    running = asyncio.create_task(plane.infer("slow", _request(id=id)))
    await asyncio.sleep(0.1)
    return folder, running


async def test_requests_in_flight_during_an_unload_finish_first(
    tmp_path: Path, plane: DataPlane
) -> None:
    folder, running = await _slow_request_running(tmp_path, plane, "r1")
    assert plane.registry.resolve("slow").inflight == 1
    unloading = asyncio.create_task(plane.registry.unload("slow"))
    await asyncio.sleep(0.05)
    with pytest.raises(ModelNotReady, match="'slow' version '1' is unloading"):
        await plane.infer("slow", _request())
    response = await running
    await unloading
    assert response.id == "r1"
    assert recorded(folder) == ["load", "start r1", "end r1", "unload"]
    with pytest.raises(ModelNotFound, match="model 'slow' is unloaded"):
        await plane.infer("slow", _request())


async def test_a_reload_drains_the_old_build_before_unloading_it(
    tmp_path: Path, plane: DataPlane
) -> None:
    folder, running = await _slow_request_running(tmp_path, plane, "old")
    _touch_settings(folder, parameters={"seconds": 0.01})
    reloading = asyncio.create_task(plane.registry.load("slow"))
    for _ in range(500):  # until the new build has loaded: it serves at once
        if recorded(folder)[-1] == "load":
            break
        await asyncio.sleep(0.01)
    assert (await plane.infer("slow", _request(id="new"))).id == "new"
    await reloading  # returns once the old build has drained and unloaded
    assert (await running).id == "old"
    assert recorded(folder) == [
        *["load", "start old", "load", "start new", "end new", "end old", "unload"]
    ]


async def test_concurrent_loads_and_unloads_of_one_model_are_serialised(
    tmp_path: Path, plane: DataPlane
) -> None:
    folder = add_model(tmp_path, "rec", "tests.toys:Recorder")
    actions = [plane.registry.load, plane.registry.unload] * 4 + [plane.registry.load]
    await asyncio.gather(*(action("rec") for action in actions))
    assert recorded(folder) == ["load", "unload"] * 4 + ["load"]
    assert [e.state for e in plane.registry.versions("rec")] == [ModelState.READY]


async def test_load_and_unload_name_unknown_models(tmp_path: Path, plane: DataPlane) -> None:
    add_model(tmp_path, "echo", "tests.toys:Echo")
    with pytest.raises(ModelNotFound, match="model 'nope' has no folder"):
        await plane.registry.load("nope")
    with pytest.raises(ModelNotFound, match="model 'nope' not found"):
        await plane.registry.unload("nope")
    with pytest.raises(ModelNotFound, match="no folder"):
        await plane.registry.load("..")
    await plane.registry.unload("echo")  # on disk, never loaded: nothing to do
    assert [(e.name, e.state, e.reason) for e in plane.registry.index()] == [
        ("echo", ModelState.UNAVAILABLE, "not loaded")
    ]


async def test_readiness_waits_for_start_up_models_only(tmp_path: Path, plane: DataPlane) -> None:
    add_model(tmp_path, "echo", "tests.toys:Echo")
    add_model(tmp_path, "bad", "tests.toys:BadLoad")
    await plane.registry.load_repository(["echo", "bad"])
    assert not await plane.ready()
    await plane.registry.unload("bad")
    assert await plane.ready()
    with pytest.raises(PredictorError, match=r"weights\.bin is missing"):
        await plane.registry.load("bad")
    assert await plane.ready()  # a failed load through the API leaves readiness alone
    states = {(e.name, e.state.value, e.reason[:18]) for e in plane.registry.index()}
    assert states == {("echo", "READY", ""), ("bad", "UNAVAILABLE", "FileNotFoundError:")}


async def test_a_start_up_model_that_fails_again_keeps_the_server_unready(
    tmp_path: Path, plane: DataPlane
) -> None:
    folder = add_model(tmp_path, "bad", "tests.toys:BadLoad")
    await plane.registry.load_repository()
    _touch_settings(folder, parameters={"attempt": 2})
    with pytest.raises(PredictorError):
        await plane.registry.load("bad")
    assert not await plane.ready()
    _touch_settings(folder, implementation="tests.toys:Echo")
    await plane.registry.load("bad")
    assert await plane.ready()


async def test_load_repository_rejects_unknown_names(tmp_path: Path, plane: DataPlane) -> None:
    add_model(tmp_path, "echo", "tests.toys:Echo")
    with pytest.raises(Exception, match=r"no model 'nope' in .*; models: echo"):
        await plane.registry.load_repository(["nope"])
