"""Server settings (flags and OIPSERVE_* environment variables) and per-model settings
(`model-settings.json` in each model folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.protocol.types import MetadataTensor, Parameters

MODEL_SETTINGS_FILE = "model-settings.json"
_MB = 1024 * 1024


class ServerSettings(BaseSettings):
    """How the server runs; every field is also an `OIPSERVE_<FIELD>` environment variable."""

    model_config = SettingsConfigDict(env_prefix="OIPSERVE_", extra="ignore")

    model_repository: Path = Path("models")
    host: str = "0.0.0.0"
    http_port: int = Field(8080, ge=0, le=65535)
    grpc_port: int = Field(8081, ge=0, le=65535)
    log_level: str = "info"
    server_name: str = "oipserve"
    http_max_body_mb: float = Field(64, gt=0, description="REST request bodies beyond are 413s")
    grpc_max_message_mb: float = Field(
        64, gt=0, description="gRPC messages beyond are RESOURCE_EXHAUSTED, both ways"
    )
    tune_malloc: bool = Field(
        True, description="keep large tensor buffers in glibc's heap (see app.memory)"
    )

    @property
    def http_max_body_bytes(self) -> int:
        return int(self.http_max_body_mb * _MB)

    @property
    def grpc_max_message_bytes(self) -> int:
        return int(self.grpc_max_message_mb * _MB)


class ModelSettings(BaseModel):
    """One model version as declared by its `model-settings.json`."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    name: str
    implementation: str = Field(
        description="The predictor class as an import path, `module:Class`; the module is "
        "looked up in the version folder, then the model folder, then on sys.path.",
        examples=["model:IrisPredictor"],
    )
    platform: str = ""
    version: str = Field("1", description="The version of a model folder without versions.")
    inputs: list[MetadataTensor] = Field(default_factory=list)
    outputs: list[MetadataTensor] = Field(default_factory=list)
    parameters: Parameters = Field(default_factory=dict)
    model_folder: Path = Field(Path("."), description="Set by the loader.")
    path: Path = Field(Path("."), description="The version's folder; set by the loader.")


class ModelSettingsError(Exception):
    """A model folder whose settings cannot be read; the message says why."""


def _read_settings_file(folder: Path) -> dict[str, Any]:
    path = folder / MODEL_SETTINGS_FILE
    try:
        content = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise ModelSettingsError(f"{path} does not exist") from None
    except orjson.JSONDecodeError as error:
        raise ModelSettingsError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(content, dict):
        raise ModelSettingsError(f"{path} must hold a JSON object")
    return content


def version_folders(folder: Path) -> list[Path]:
    """The version subfolders of a model folder (integer names), oldest first."""
    found = [child for child in folder.iterdir() if child.is_dir() and child.name.isdigit()]
    return sorted(found, key=lambda child: int(child.name))


def read_model_folder(folder: Path) -> list[ModelSettings]:
    """The settings of every version in a model folder, oldest first."""
    content = _read_settings_file(folder)
    content.setdefault("name", folder.name)
    versions = version_folders(folder)
    try:
        if not versions:
            return [ModelSettings(**content, model_folder=folder, path=folder)]
        return [
            ModelSettings(**{**content, "version": version.name}, model_folder=folder, path=version)
            for version in versions
        ]
    except (ValidationError, TypeError) as error:
        raise ModelSettingsError(f"{folder / MODEL_SETTINGS_FILE}: {error}") from None


def model_folders(repository: Path) -> list[Path]:
    """The model folders of a repository: subfolders holding a model-settings.json."""
    if not repository.is_dir():
        raise ModelSettingsError(f"model repository {repository} is not a folder")
    return sorted(
        child
        for child in repository.iterdir()
        if child.is_dir() and (child / MODEL_SETTINGS_FILE).is_file()
    )
