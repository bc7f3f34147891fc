"""The model registry: versions, failures and the load/unload life cycle."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.protocol.errors import ModelNotFound, ModelNotReady
from app.registry import ModelRegistry, ModelState
from app.settings import ModelSettingsError
from tests.repo import add_model
from tests.toys import Tracked


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
    add_model(tmp_path, "t", "tests.toys:Tracked")
    registry = await _registry(tmp_path)
    _, first = registry.predictor("t")
    assert isinstance(first, Tracked)
    assert first.loaded
    await registry.load("t")
    _, second = registry.predictor("t")
    assert second is not first
    await registry.unload("t")
    assert isinstance(second, Tracked)
    assert second.unloaded
    with pytest.raises(ModelNotFound):
        registry.resolve("t")
    with pytest.raises(ModelNotFound, match="model 't' is not loaded"):
        await registry.unload("t")


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
