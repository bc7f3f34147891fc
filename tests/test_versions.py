"""Versions: integer and named version folders, per-version settings, version policies,
and which version answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.dataplane import DataPlane
from app.model_settings import ModelSettingsError, read_model_folder
from app.protocol.errors import ModelNotFound
from tests.planes import dataplane_over, infer, one_value, output_value
from tests.repo import add_model


def _versions(folder: Path) -> list[str]:
    return [settings.version for settings in read_model_folder(folder)]


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[DataPlane]:
    async with dataplane_over(tmp_path, load=False) as dataplane:
        yield dataplane


def _scale(repo: Path, factor: float, **settings: Any) -> Path:
    return add_model(repo, "scale", "tests.toys:Scale", parameters={"factor": factor}, **settings)


def test_integer_versions_sort_numerically_after_named_ones(tmp_path: Path) -> None:
    folder = add_model(tmp_path, "m", "tests.toys:Echo", versions=["10", "2", "1"])
    (folder / "beta").mkdir()
    (folder / "beta" / "model-settings.json").write_text("{}")
    (folder / "notes").mkdir()  # neither an integer nor holding settings: not a version
    assert _versions(folder) == ["beta", "1", "2", "10"]


def test_a_version_folder_overrides_the_model_settings(tmp_path: Path) -> None:
    folder = add_model(tmp_path, "m", "tests.toys:Scale", versions=["1"], parameters={"f": 1})
    (folder / "canary").mkdir()
    override = {"parameters": {"f": 5}, "name": "other", "version": "9"}
    (folder / "canary" / "model-settings.json").write_bytes(orjson.dumps(override))
    canary, first = read_model_folder(folder)  # named versions sort first
    assert (canary.name, canary.version, canary.parameters) == ("m", "canary", {"f": 5})
    assert canary.path == folder / "canary"
    assert first.parameters == {"f": 1}


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ({"latest": {"num_versions": 2}}, ["3", "10"]),
        ({"all": {}}, ["1", "3", "10"]),
        ({"specific": {"versions": [1, "10"]}}, ["1", "10"]),
    ],
)
def test_version_policy_selects_versions(
    tmp_path: Path, policy: dict[str, object], expected: list[str]
) -> None:
    folder = add_model(
        tmp_path, "m", "tests.toys:Echo", versions=["1", "3", "10"], version_policy=policy
    )
    assert _versions(folder) == expected


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"specific": {"versions": [7]}}, "names version '7', which has no folder"),
        ({"latest": {"num_versions": 0}}, "num_versions"),
        ({"latest": {"num_versions": 1}, "all": {}}, "exactly one of"),
        ({}, "exactly one of"),
        ({"newest": {}}, "newest"),
    ],
)
def test_bad_version_policy_is_reported(
    tmp_path: Path, policy: dict[str, object], message: str
) -> None:
    folder = add_model(tmp_path, "m", "tests.toys:Echo", versions=["1"], version_policy=policy)
    with pytest.raises(ModelSettingsError, match=message):
        read_model_folder(folder)


async def test_named_and_integer_versions_default_to_the_newest(
    tmp_path: Path, plane: DataPlane
) -> None:
    folder = _scale(tmp_path, 2, versions=["1", "2"])
    (folder / "beta").mkdir()
    (folder / "beta" / "model-settings.json").write_text('{"parameters": {"factor": 7}}')
    await plane.registry.load_repository()
    assert [e.version for e in plane.registry.versions("scale")] == ["beta", "1", "2"]
    assert plane.registry.resolve("scale").version == "2"
    assert await output_value(plane, "scale", "beta") == 7.0
    with pytest.raises(ModelNotFound, match=r"has no version '3' \(versions: 'beta', '1', '2'\)"):
        await output_value(plane, "scale", "3")


async def test_default_version_setting_picks_the_default(tmp_path: Path, plane: DataPlane) -> None:
    _scale(tmp_path, 2, versions=["1", "2"], default_version="1")
    await plane.registry.load_repository()
    response = await infer(plane, "scale", one_value())
    assert response.model_version == "1"


async def test_version_policy_loads_only_the_chosen_versions(
    tmp_path: Path, plane: DataPlane
) -> None:
    _scale(tmp_path, 2, versions=["1", "2", "3"], version_policy={"latest": {"num_versions": 1}})
    await plane.registry.load_repository()
    assert [e.version for e in plane.registry.versions("scale")] == ["3"]
    with pytest.raises(ModelNotFound, match=r"versions: '3'"):
        await output_value(plane, "scale", "1")
