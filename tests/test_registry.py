"""The model registry: versions, failures and the load/unload life cycle: reloads, failed
reloads, concurrent loads and unloads, draining requests in flight, readiness."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.dataplane import DataPlane
from app.model_settings import ModelSettingsError
from app.protocol.errors import InvalidInput, ModelNotFound, ModelNotReady, PredictorError
from app.protocol.types import InferenceResponse
from app.registry import ModelRegistry
from app.versions import ModelState
from tests.planes import dataplane_over, infer, one_value, output_value, touch_settings
from tests.repo import add_model
from tests.toys import Tracked, recorded


async def _registry(repository: Path) -> ModelRegistry:
    registry = ModelRegistry(repository)
    await registry.load_repository()
    return registry


async def test_versions_are_ordered_numerically(tmp_path: Path) -> None:
    add_model(tmp_path, "m", "tests.toys:Echo", versions=["2", "10", "1"])
    registry = await _registry(tmp_path)
    assert [v.version for v in registry.versions("m")] == ["1", "2", "10"]
    assert registry.resolve("m").version == "10"
    assert registry.resolve("m", "2").version == "2"
    assert registry.all_ready()


async def test_a_folder_of_unicode_digits_is_no_version(tmp_path: Path) -> None:
    add_model(tmp_path, "m", "tests.toys:Echo", versions=["1"])
    (tmp_path / "m" / "\u00b2").mkdir()  # '²'.isdigit(), but int('²') fails
    registry = await _registry(tmp_path)
    assert [v.version for v in registry.versions("m")] == ["1"]
    assert registry.all_ready()


async def test_unknown_model_and_version(tmp_path: Path) -> None:
    add_model(tmp_path, "m", "tests.toys:Echo", versions=["1", "2"])
    registry = await _registry(tmp_path)
    with pytest.raises(ModelNotFound) as caught:
        registry.resolve("m", "7")
    assert caught.value.message == "model 'm' has no version '7' (versions: '1', '2')"
    with pytest.raises(ModelNotFound, match="model 'nope' not found"):
        registry.resolve("nope")


async def test_default_version_is_the_newest_ready_one(tmp_path: Path) -> None:
    folder = add_model(tmp_path, "m", "model:Model", versions=["1", "2"])
    (folder / "model.py").write_text("from tests.toys import Echo as Model\n")
    (folder / "2" / "model.py").write_text("from tests.toys import BadLoad as Model\n")
    registry = await _registry(tmp_path)
    assert registry.resolve("m").version == "1"
    assert registry.resolve("m", "2").state is ModelState.UNAVAILABLE
    assert not registry.all_ready()


@pytest.mark.parametrize(
    ("implementation", "reason"),
    [
        ("tests.toys:BadLoad", "FileNotFoundError: weights.bin is missing"),
        ("nocolon", "ImplementationError: implementation 'nocolon' must be 'module:Class'"),
        ("missing_module:X", "ImplementationError: cannot import 'missing_module:X': "),
        ("tests.toys:NotAPredictor", "ImplementationError: 'tests.toys:NotAPredictor' is not a"),
    ],
)
async def test_a_model_that_fails_to_load_is_unavailable_with_its_reason(
    tmp_path: Path, implementation: str, reason: str
) -> None:
    add_model(tmp_path, "good", "tests.toys:Echo")
    add_model(tmp_path, "bad", implementation)
    registry = await _registry(tmp_path)
    (entry,) = registry.versions("bad")
    assert entry.state is ModelState.UNAVAILABLE
    assert entry.reason.startswith(reason), entry.reason
    with pytest.raises(ModelNotReady) as caught:
        registry.predictor("bad")
    assert caught.value.message.startswith(f"model 'bad' version '1' is unavailable: {reason}")
    assert registry.predictor("good")[0].state is ModelState.READY
    assert not registry.all_ready()


async def test_a_model_without_a_signature_is_released(tmp_path: Path) -> None:
    """Its plan cannot be made (metadata raises after load): unavailable, and unloaded."""
    add_model(tmp_path, "unsigned", "tests.toys:BadMetadata")
    registry = await _registry(tmp_path)
    (entry,) = registry.versions("unsigned")
    assert (entry.state, entry.reason) == (ModelState.UNAVAILABLE, "RuntimeError: no signature")
    assert (entry.predictor, entry.plan) == (None, None)
    assert recorded(tmp_path / "unsigned") == ["load", "unload"]


async def test_unreadable_settings_are_reported_as_the_model(tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "model-settings.json").write_text("{not json")
    registry = await _registry(tmp_path)
    (entry,) = registry.versions("broken")
    assert entry.state is ModelState.UNAVAILABLE
    assert "model-settings.json is not valid JSON" in entry.reason
    with pytest.raises(ModelNotReady, match="is not valid JSON"):
        registry.predictor("broken")


async def test_missing_repository_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ModelSettingsError, match="is not a folder"):
        await ModelRegistry(tmp_path / "nowhere").load_repository()


async def test_load_and_unload_life_cycle(tmp_path: Path) -> None:
    folder = add_model(tmp_path, "t", "tests.toys:Tracked")
    registry = await _registry(tmp_path)
    _, first = registry.predictor("t")
    assert isinstance(first, Tracked)
    assert first.loaded
    await registry.load("t")  # unchanged: nothing to do
    assert registry.predictor("t")[1] is first
    touch_settings(folder, parameters={"changed": True})
    await registry.load("t")
    _, second = registry.predictor("t")
    assert second is not first
    assert first.unloaded
    await registry.unload("t")
    assert isinstance(second, Tracked)
    assert second.unloaded
    with pytest.raises(ModelNotFound, match="model 't' is unloaded"):
        registry.resolve("t")
    await registry.unload("t")  # unloading what is not loaded is no error


async def test_a_failing_unload_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    add_model(tmp_path, "t", "tests.toys:BadUnload")
    add_model(tmp_path, "u", "tests.toys:Tracked")
    registry = await _registry(tmp_path)
    _, other = registry.predictor("u")
    await registry.unload_all()
    assert registry.entries() == []
    assert isinstance(other, Tracked)
    assert other.unloaded
    assert "model t version 1 failed to unload" in caplog.text


async def test_entries_by_name_then_version(tmp_path: Path) -> None:
    add_model(tmp_path, "b", "tests.toys:Echo", versions=["10", "9"])
    add_model(tmp_path, "a", "tests.toys:Echo")
    registry = await _registry(tmp_path)
    assert [(e.name, e.version) for e in registry.entries()] == [
        ("a", "1"),
        ("b", "9"),
        ("b", "10"),
    ]


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[DataPlane]:
    async with dataplane_over(tmp_path, load=False) as dataplane:
        yield dataplane


def _scale(repo: Path, factor: float) -> Path:
    return add_model(repo, "scale", "tests.toys:Scale", parameters={"factor": factor})


async def test_load_reloads_a_changed_folder_and_keeps_an_unchanged_one(
    tmp_path: Path, plane: DataPlane
) -> None:
    folder = _scale(tmp_path, 2)
    await plane.registry.load("scale")
    first = plane.registry.resolve("scale").predictor
    await plane.registry.load("scale")
    assert plane.registry.resolve("scale").predictor is first
    touch_settings(folder, parameters={"factor": 5})
    await plane.registry.load("scale")
    assert plane.registry.resolve("scale").predictor is not first
    assert await output_value(plane, "scale") == 5.0


async def test_failed_reload_keeps_the_old_build_serving_and_says_why(
    tmp_path: Path, plane: DataPlane
) -> None:
    folder = _scale(tmp_path, 2)
    await plane.registry.load("scale")
    touch_settings(folder, implementation="tests.toys:BadLoad")
    with pytest.raises(PredictorError, match=r"version '1': FileNotFoundError: weights.bin"):
        await plane.registry.load("scale")
    (entry,) = plane.registry.index()
    assert entry.state is ModelState.READY
    assert "reload failed, the previous load still serves" in entry.reason
    assert "weights.bin is missing" in entry.reason
    assert await output_value(plane, "scale") == 2.0
    (folder / "model-settings.json").write_text("{broken")
    with pytest.raises(InvalidInput, match=r"model 'scale' cannot be loaded: .* is not valid JSON"):
        await plane.registry.load("scale")
    assert await output_value(plane, "scale") == 2.0


async def test_a_failed_reload_is_tried_again(tmp_path: Path, plane: DataPlane) -> None:
    folder = _scale(tmp_path, 2)
    await plane.registry.load("scale")
    touch_settings(folder, implementation="tests.toys:BadLoad")
    for _ in range(2):  # the same broken folder fails each time, not just the first
        with pytest.raises(PredictorError, match=r"weights\.bin is missing"):
            await plane.registry.load("scale")
    assert "reload failed" in plane.registry.index()[0].reason
    touch_settings(folder, implementation="tests.toys:Scale", parameters={"factor": 4})
    await plane.registry.load("scale")
    assert await output_value(plane, "scale") == 4.0


async def test_a_new_version_folder_is_loaded(tmp_path: Path, plane: DataPlane) -> None:
    folder = add_model(tmp_path, "m", "tests.toys:Echo", versions=["1", "2"])
    await plane.registry.load("m")
    (folder / "3").mkdir()
    await plane.registry.load("m")
    assert [entry.version for entry in plane.registry.versions("m")] == ["1", "2", "3"]


async def _slow_request_running(
    repository: Path, plane: DataPlane, id: str
) -> tuple[Path, asyncio.Task[InferenceResponse]]:
    """A 0.3 s Recorder model loaded, and a request `id` to it under way."""
    folder = add_model(repository, "slow", "tests.toys:Recorder", parameters={"seconds": 0.3})
    await plane.registry.load("slow")
    running = asyncio.create_task(infer(plane, "slow", one_value(id=id)))
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
        await infer(plane, "slow", one_value())
    response = await running
    await unloading
    assert response.id == "r1"
    assert recorded(folder) == ["load", "start r1", "end r1", "unload"]
    with pytest.raises(ModelNotFound, match="model 'slow' is unloaded"):
        await infer(plane, "slow", one_value())


async def test_a_reload_drains_the_old_build_before_unloading_it(
    tmp_path: Path, plane: DataPlane
) -> None:
    folder, running = await _slow_request_running(tmp_path, plane, "old")
    touch_settings(folder, parameters={"seconds": 0.01})
    reloading = asyncio.create_task(plane.registry.load("slow"))
    for _ in range(500):  # until the new build has loaded: it serves at once
        if recorded(folder)[-1] == "load":
            break
        await asyncio.sleep(0.01)
    assert (await infer(plane, "slow", one_value(id="new"))).id == "new"
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
    touch_settings(folder, parameters={"attempt": 2})
    with pytest.raises(PredictorError):
        await plane.registry.load("bad")
    assert not await plane.ready()
    touch_settings(folder, implementation="tests.toys:Echo")
    await plane.registry.load("bad")
    assert await plane.ready()


async def test_load_repository_rejects_unknown_names(tmp_path: Path, plane: DataPlane) -> None:
    add_model(tmp_path, "echo", "tests.toys:Echo")
    with pytest.raises(Exception, match=r"no model 'nope' in .*; models: echo"):
        await plane.registry.load_repository(["nope"])
