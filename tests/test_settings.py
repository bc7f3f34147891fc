"""Server settings (flags and OIPSERVE_* variables) and model folders."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.model_settings import (
    ModelSettingsError,
    folder_fingerprint,
    model_folders,
    read_model_folder,
    version_folders,
)
from app.settings import ServerSettings
from tests.repo import add_model


def test_server_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MODEL_REPOSITORY", "HOST", "HTTP_PORT", "GRPC_PORT", "LOG_LEVEL"):
        monkeypatch.delenv(f"OIPSERVE_{name}", raising=False)
    settings = ServerSettings()
    assert settings.model_repository == Path("models")
    assert (settings.host, settings.http_port, settings.grpc_port) == ("0.0.0.0", 8080, 8081)
    assert settings.log_level == "info"


def test_server_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OIPSERVE_MODEL_REPOSITORY", "/srv/models")
    monkeypatch.setenv("OIPSERVE_HOST", "127.0.0.1")
    monkeypatch.setenv("OIPSERVE_HTTP_PORT", "9000")
    monkeypatch.setenv("OIPSERVE_GRPC_PORT", "9001")
    settings = ServerSettings()
    assert settings.model_repository == Path("/srv/models")
    assert (settings.host, settings.http_port, settings.grpc_port) == ("127.0.0.1", 9000, 9001)
    assert ServerSettings(http_port=1234).http_port == 1234


@pytest.mark.parametrize("port", [-1, 65536, "http"])
def test_ports_are_checked(port: object) -> None:
    with pytest.raises(ValidationError, match="http_port"):
        ServerSettings(http_port=port)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"http_port": 9000, "grpc_port": 9000}, "grpc_port and http_port are both 9000"),
        ({"metrics_port": 9001, "grpc_port": 9001}, "grpc_port and metrics_port are both 9001"),
        ({"grpc_max_message_mb": 3000}, "less than or equal to 2047"),
        ({"server_name": ""}, "at least 1 character"),
    ],
)
def test_settings_a_server_could_not_run_with_are_refused(
    values: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        ServerSettings(**values)  # type: ignore[arg-type]
    assert ServerSettings(http_port=0, grpc_port=0).grpc_port == 0  # 0 picks a free port each


def test_model_without_versions_is_version_1(tmp_path: Path) -> None:
    folder = add_model(tmp_path, "m", "model:M", inputs=[], parameters={"k": 1})
    (settings,) = read_model_folder(folder)
    assert (settings.name, settings.version, settings.implementation) == ("m", "1", "model:M")
    assert settings.path == folder
    assert settings.model_folder == folder
    assert settings.parameters == {"k": 1}


def test_versions_in_numeric_order(tmp_path: Path) -> None:
    folder = add_model(tmp_path, "m", "model:M", versions=["10", "2", "1"])
    (folder / "notes").mkdir()
    (folder / "3").write_text("a file, not a version")
    assert [p.name for p in version_folders(folder)] == ["1", "2", "10"]
    settings = read_model_folder(folder)
    assert [s.version for s in settings] == ["1", "2", "10"]
    assert [s.path for s in settings] == [folder / "1", folder / "2", folder / "10"]
    assert {s.model_folder for s in settings} == {folder}


def test_name_defaults_to_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "named-by-folder"
    folder.mkdir()
    (folder / "model-settings.json").write_text('{"implementation": "model:M"}')
    assert read_model_folder(folder)[0].name == "named-by-folder"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "model-settings.json does not exist"),
        ("{", "model-settings.json is not valid JSON"),
        ("[1]", "model-settings.json must hold a JSON object"),
        ("{}", "implementation"),
        ('{"implementation": "m:M", "colour": "red"}', "colour"),
        (
            '{"implementation": "m:M", "name": "n"}',
            "name 'n' differs from the model folder's name 'm'",
        ),
        ('{"implementation": "m:M", "inputs": [{"name": "x"}]}', "datatype"),
        ('{"implementation": "m:M", "max_batch_time": 1e300}', "less than or equal to 60"),
        (
            '{"implementation": "m:M", "inputs": [{"name": "x", "datatype": "FP32", "shape": '
            "[-5]}]}",
            "input 'x': shape [-5] has a size under -1 (-1 stands for any)",
        ),
        (
            '{"implementation": "m:M", "outputs": [{"name": "y", "datatype": "FP32", "shape": '
            '[1]}, {"name": "y", "datatype": "INT8", "shape": [1]}]}',
            "outputs declare 'y' twice",
        ),
        (
            '{"implementation": "m:M", "inputs": [{"name": "x", "datatype": "F", "shape": [1]}]}',
            "F",
        ),
    ],
)
def test_bad_settings_files_name_the_file(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    if content is not None:
        (folder / "model-settings.json").write_text(content)
    with pytest.raises(ModelSettingsError) as caught:
        read_model_folder(folder)
    assert str(folder / "model-settings.json") in str(caught.value)
    assert expected in str(caught.value)


def test_model_folders_hold_settings(tmp_path: Path) -> None:
    add_model(tmp_path, "b", "model:M")
    add_model(tmp_path, "a", "model:M")
    (tmp_path / "not-a-model").mkdir()
    (tmp_path / "stray.json").write_text("{}")
    assert [p.name for p in model_folders(tmp_path)] == ["a", "b"]


def test_missing_repository(tmp_path: Path) -> None:
    with pytest.raises(ModelSettingsError, match=r"model repository .*nowhere is not a folder"):
        model_folders(tmp_path / "nowhere")
    (tmp_path / "file").write_text("")
    with pytest.raises(ModelSettingsError, match="is not a folder"):
        model_folders(tmp_path / "file")


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
    for cache in (folder / "__pycache__", folder / "1" / "__pycache__"):
        time.sleep(0.01)
        cache.mkdir()
        (cache / "x.pyc").write_bytes(b"ignored")
    assert folder_fingerprint(folder) == before
    time.sleep(0.01)
    (folder / "1" / "weights.bin").write_bytes(b"new")
    assert folder_fingerprint(folder) != before


def test_fingerprint_changes_with_folders(tmp_path: Path) -> None:
    folder = add_model(tmp_path, "m", "tests.toys:Echo", versions=["1"])
    before = folder_fingerprint(folder)
    (folder / "2").mkdir()
    added = folder_fingerprint(folder)
    assert added != before
    time.sleep(0.01)
    (folder / "2" / "empty").mkdir()
    assert folder_fingerprint(folder) != added
