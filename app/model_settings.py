"""Per-model settings: `model-settings.json` in each model folder (optionally one more in each
version folder), the version policy, and the repository's model folders as read from disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.protocol.types import MetadataTensor, Parameters

MODEL_SETTINGS_FILE = "model-settings.json"


class LatestVersions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    num_versions: int = Field(ge=1)


class SpecificVersions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    versions: list[int | str] = Field(min_length=1)


class VersionPolicy(BaseModel):
    """Which versions of a model to serve (Triton's shape): exactly one of
    `{"latest": {"num_versions": N}}`, `{"all": {}}`, `{"specific": {"versions": [...]}}`."""

    model_config = ConfigDict(extra="forbid")

    latest: LatestVersions | None = None
    all: dict[str, Any] | None = None
    specific: SpecificVersions | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> VersionPolicy:
        chosen = [self.latest, self.all, self.specific]
        if sum(choice is not None for choice in chosen) != 1:
            raise ValueError("give exactly one of 'latest', 'all' or 'specific'")
        return self

    def select(self, versions: list[str]) -> list[str]:
        """The versions to serve among `versions` (oldest first)."""
        if self.latest is not None:
            return versions[-self.latest.num_versions :]
        if self.specific is not None:
            wanted = [str(version) for version in self.specific.versions]
            missing = [version for version in wanted if version not in versions]
            if missing:
                raise ValueError(
                    f"version_policy names version {missing[0]!r}, which has no folder; "
                    f"versions: {', '.join(map(repr, versions))}"
                )
            return [version for version in versions if version in wanted]
        return versions


EXPLAINER_IMPLEMENTATION = "app.explainers.servable:Explainer"
"""The predictor of a model folder whose settings declare an `explainer`."""


class ExplainerSettings(BaseModel):
    """What an explainer explains and how, as Seldon declares it: `type` and exactly one of
    `modelRef` and `pipelineRef`; the method's parameters are the model's `parameters`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: str = Field(
        min_length=1,
        description="'occlusion' (numpy), 'kernel_shap' (the shap library) or a user's "
        "method as `module:Class`",
    )
    model_ref: str | None = Field(None, alias="modelRef", min_length=1)
    pipeline_ref: str | None = Field(None, alias="pipelineRef", min_length=1)

    @model_validator(mode="after")
    def _one_target(self) -> ExplainerSettings:
        if (self.model_ref is None) == (self.pipeline_ref is None):
            raise ValueError("an explainer needs exactly one of 'modelRef' and 'pipelineRef'")
        return self

    @property
    def target(self) -> str:
        """The name requests give the target by: `model`, or `pipeline.pipeline`."""
        return self.model_ref or f"{self.pipeline_ref}.pipeline"


class ModelSettings(BaseModel):
    """One model version as declared by its `model-settings.json`."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    name: str
    implementation: str = Field(
        "",
        description="The predictor class as an import path, `module:Class`; the module is "
        "looked up in the version folder, then the model folder, then on sys.path. An "
        "explainer needs none.",
        examples=["model:IrisPredictor"],
    )
    explainer: ExplainerSettings | None = Field(
        None, description="Makes the model an explainer of another model or a pipeline."
    )
    platform: str = ""
    version: str = Field("1", description="The version of a model folder without versions.")
    version_policy: VersionPolicy | None = Field(
        None, description="Which versions to serve; all of them when not given."
    )
    default_version: str | None = Field(
        None, description="The version requests without one go to (default: the newest ready)."
    )
    max_batch_size: int = Field(
        0,
        ge=0,
        description="> 1: requests join batches of up to this many rows (adaptive batching); "
        "> 0: dimension 0 is the batch (the model configuration leaves it out).",
    )
    max_batch_time: float = Field(
        0.0,
        ge=0,
        le=60,  # a batch's first request waits this long: beyond a minute, it hangs
        description="Seconds a batch waits for more requests after its first (adaptive "
        "batching; 0: it takes what queued while the loop was busy).",
    )
    inputs: list[MetadataTensor] = Field(default_factory=list)
    outputs: list[MetadataTensor] = Field(default_factory=list)
    parameters: Parameters = Field(default_factory=dict)
    model_folder: Path = Field(Path("."), description="Set by the loader.")
    path: Path = Field(Path("."), description="The version's folder; set by the loader.")

    @model_validator(mode="after")
    def _implementation(self) -> ModelSettings:
        if self.explainer is not None and self.explainer.model_ref == self.name:
            raise ValueError("an explainer cannot explain itself (modelRef is its own name)")
        if self.explainer is not None and not self.implementation:
            self.implementation = EXPLAINER_IMPLEMENTATION
        elif not self.implementation:
            raise ValueError("'implementation' is required (the predictor as 'module:Class')")
        for side, tensors in (("inputs", self.inputs), ("outputs", self.outputs)):
            names = [tensor.name for tensor in tensors]
            repeated = next((name for name in names if names.count(name) > 1), None)
            if repeated is not None:
                raise ValueError(f"{side} declare {repeated!r} twice")
            for tensor in tensors:
                if any(size < -1 for size in tensor.shape):
                    raise ValueError(
                        f"{side[:-1]} {tensor.name!r}: shape {tensor.shape} has a size under -1 "
                        "(-1 stands for any)"
                    )
        return self


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


def version_key(version: str) -> tuple[int, int | str]:
    """Sort key of versions, oldest first: named versions, then integers in numeric order."""
    return (1, int(version)) if _numbered(version) else (0, version)


def _numbered(name: str) -> bool:
    """Whether a version (folder) name is an integer: ASCII digits (`²` is a digit too)."""
    return name.isascii() and name.isdigit()


def version_folders(folder: Path) -> list[Path]:
    """The version subfolders of a model folder, oldest first: integer names, and named
    versions (any subfolder holding its own model-settings.json)."""
    found = [
        child
        for child in folder.iterdir()
        if child.is_dir() and (_numbered(child.name) or (child / MODEL_SETTINGS_FILE).is_file())
    ]
    return sorted(found, key=lambda child: version_key(child.name))


def _version_settings(content: dict[str, Any], folder: Path, version: Path) -> ModelSettings:
    """A version's settings: the model's, overridden by the version folder's own file."""
    override = _read_settings_file(version) if (version / MODEL_SETTINGS_FILE).is_file() else {}
    merged = {**content, **override, "name": content["name"], "version": version.name}
    return ModelSettings(**merged, model_folder=folder, path=version)


def read_model_folder(folder: Path) -> list[ModelSettings]:
    """The settings of every version its version policy selects, oldest first."""
    content = _read_settings_file(folder)
    content.setdefault("name", folder.name)
    if content["name"] != folder.name:
        raise ModelSettingsError(
            f"{folder / MODEL_SETTINGS_FILE}: name {content['name']!r} differs from the "
            f"model folder's name {folder.name!r}"
        )
    versions = version_folders(folder)
    try:
        if not versions:
            found = [ModelSettings(**content, model_folder=folder, path=folder)]
        else:
            found = [_version_settings(content, folder, version) for version in versions]
        if content.get("version_policy") is not None:
            policy = VersionPolicy.model_validate(content["version_policy"])
            chosen = policy.select([settings.version for settings in found])
            found = [settings for settings in found if settings.version in chosen]
    except (ValidationError, TypeError, ValueError) as error:
        raise ModelSettingsError(f"{folder / MODEL_SETTINGS_FILE}: {error}") from None
    return found


def declares_explainer(folder: Path) -> bool:
    """Whether the model folder's settings declare an explainer (False if unreadable)."""
    try:
        return "explainer" in _read_settings_file(folder)
    except ModelSettingsError:
        return False


def model_folders(repository: Path) -> list[Path]:
    """The model folders of a repository: subfolders holding a model-settings.json."""
    if not repository.is_dir():
        raise ModelSettingsError(f"model repository {repository} is not a folder")
    return sorted(
        child
        for child in repository.iterdir()
        if child.is_dir() and (child / MODEL_SETTINGS_FILE).is_file()
    )


Fingerprint = tuple[tuple[str, int, int], ...]


def folder_fingerprint(folder: Path) -> Fingerprint:
    """(relative path, size, mtime) of every file and folder under `folder` (folders with a
    trailing "/", size and mtime 0): changes when any file does, or a folder comes or goes.
    Folder mtimes are left out: Python's `__pycache__` appearing in a version folder would
    change them, and every change they stand for shows in the entries below them."""
    found = []
    for path in sorted(folder.rglob("*")):
        if "__pycache__" in path.parts:
            continue
        name = str(path.relative_to(folder))
        if path.is_file():
            stat = path.stat()
            found.append((name, stat.st_size, stat.st_mtime_ns))
        elif path.is_dir():
            found.append((name + "/", 0, 0))
    return tuple(found)
