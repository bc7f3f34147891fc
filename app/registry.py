"""The model registry: name -> versions -> predictor, loaded from the model repository."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from app.predictors.base import Predictor, call
from app.predictors.loader import build_predictor
from app.protocol.errors import ModelNotFound, ModelNotReady
from app.settings import ModelSettings, ModelSettingsError, model_folders, read_model_folder

log = logging.getLogger("oipserve.registry")


class ModelState(StrEnum):
    LOADING = "LOADING"
    READY = "READY"
    UNAVAILABLE = "UNAVAILABLE"


@dataclass
class ModelVersion:
    """One version of a model and where it stands."""

    name: str
    version: str
    state: ModelState = ModelState.LOADING
    reason: str = ""
    predictor: Predictor | None = None
    settings: ModelSettings | None = field(default=None, repr=False)


def _version_key(version: str) -> tuple[int, int | str]:
    return (0, int(version)) if version.isdigit() else (1, version)


class ModelRegistry:
    """Holds every model version the repository declares, loaded or not."""

    def __init__(self, repository: Path) -> None:
        self.repository = repository
        self._models: dict[str, dict[str, ModelVersion]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def load_repository(self) -> None:
        """Load every model folder of the repository; failures are recorded, not raised."""
        folders = model_folders(self.repository)
        await asyncio.gather(*(self.load(folder.name) for folder in folders))

    async def load(self, name: str) -> None:
        """(Re)load every version of model `name` from its folder."""
        async with self._locks.setdefault(name, asyncio.Lock()):
            folder = self.repository / name
            try:
                all_settings = read_model_folder(folder)
            except (ModelSettingsError, OSError) as error:
                self._models[name] = {
                    "": ModelVersion(name, "", ModelState.UNAVAILABLE, str(error))
                }
                log.error("model %s: %s", name, error)
                return
            versions = [ModelVersion(s.name, s.version, settings=s) for s in all_settings]
            self._models[name] = {v.version: v for v in versions}
            await asyncio.gather(*(self._load_version(v) for v in versions))

    async def _load_version(self, entry: ModelVersion) -> None:
        assert entry.settings is not None
        started = time.perf_counter()
        try:
            predictor = build_predictor(entry.settings)
            await call(predictor.load)
        except Exception as error:
            entry.state, entry.reason = ModelState.UNAVAILABLE, f"{type(error).__name__}: {error}"
            log.error(
                "model %s version %s failed to load: %s", entry.name, entry.version, entry.reason
            )
            return
        entry.predictor, entry.state = predictor, ModelState.READY
        log.info(
            "model %s version %s ready in %.2fs",
            entry.name,
            entry.version,
            time.perf_counter() - started,
        )

    async def unload(self, name: str) -> None:
        """Unload every version of model `name` and forget it."""
        async with self._locks.setdefault(name, asyncio.Lock()):
            versions = self._models.pop(name, None)
            if versions is None:
                raise ModelNotFound(f"model {name!r} is not loaded")
            for entry in versions.values():
                if entry.predictor is not None:
                    await _unload(entry)

    async def unload_all(self) -> None:
        for name in list(self._models):
            await self.unload(name)

    def entries(self) -> list[ModelVersion]:
        """Every model version, by name then version."""
        return [
            entry
            for name in sorted(self._models)
            for _, entry in sorted(self._models[name].items(), key=lambda kv: _version_key(kv[0]))
        ]

    def versions(self, name: str) -> list[ModelVersion]:
        """The versions of model `name`, oldest first; ModelNotFound if there is none."""
        found = self._models.get(name)
        if not found:
            raise ModelNotFound(f"model {name!r} not found")
        return [found[key] for key in sorted(found, key=_version_key)]

    def resolve(self, name: str, version: str | None = None) -> ModelVersion:
        """The named version, or the newest ready one (newest at all if none is ready)."""
        versions = self.versions(name)
        if version:
            for entry in versions:
                if entry.version == version:
                    return entry
            known = ", ".join(repr(v.version) for v in versions)
            raise ModelNotFound(f"model {name!r} has no version {version!r} (versions: {known})")
        ready = [entry for entry in versions if entry.state is ModelState.READY]
        return (ready or versions)[-1]

    def predictor(self, name: str, version: str | None = None) -> tuple[ModelVersion, Predictor]:
        """The resolved version and its predictor; ModelNotReady unless it is ready."""
        entry = self.resolve(name, version)
        if entry.state is not ModelState.READY or entry.predictor is None:
            why = f": {entry.reason}" if entry.reason else ""
            raise ModelNotReady(
                f"model {name!r} version {entry.version!r} is {entry.state.value.lower()}{why}"
            )
        return entry, entry.predictor

    def all_ready(self) -> bool:
        return all(entry.state is ModelState.READY for entry in self.entries())


async def _unload(entry: ModelVersion) -> None:
    assert entry.predictor is not None
    predictor, entry.predictor, entry.state = entry.predictor, None, ModelState.UNAVAILABLE
    entry.reason = "unloaded"
    try:
        await call(predictor.unload)
    except Exception:
        log.exception("model %s version %s failed to unload", entry.name, entry.version)
