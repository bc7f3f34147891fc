"""Model settings: version folders (integer and named), per-version overrides, version
policies; server settings: which models load at start."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from app.settings import (
    ModelSettingsError,
    ServerSettings,
    folder_fingerprint,
    read_model_folder,
)
from tests.repo import add_model


def _versions(folder: Path) -> list[str]:
    return [settings.version for settings in read_model_folder(folder)]


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


@pytest.mark.parametrize(
    ("value", "expected"),
    [("all", None), ("none", []), ("iris", ["iris"]), (" a, b ,", ["a", "b"])],
)
def test_load_models_names_what_loads_at_start(value: str, expected: list[str] | None) -> None:
    assert ServerSettings(load_models=value).startup_models() == expected


def test_fingerprint_changes_with_any_file(tmp_path: Path) -> None:
    folder = add_model(tmp_path, "m", "tests.toys:Echo", versions=["1"])
    before = folder_fingerprint(folder)
    assert folder_fingerprint(folder) == before
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "x.pyc").write_bytes(b"ignored")
    assert folder_fingerprint(folder) == before
    time.sleep(0.01)
    (folder / "1" / "weights.bin").write_bytes(b"new")
    assert folder_fingerprint(folder) != before
