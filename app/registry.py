"""The model registry: name -> versions -> predictor, loaded from the model repository.

Loads and unloads of one model take its lock, so they never interleave. A (re)load builds
the new versions beside the serving ones and swaps each in once it is ready; a version whose
new build fails keeps its old build serving. Retired and unloaded versions stop taking
requests, wait (up to `grace` seconds) for the requests they are answering, then unload.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from pathlib import Path

from app.client.interface import InferenceClient
from app.model_settings import (
    MODEL_SETTINGS_FILE,
    Fingerprint,
    ModelSettings,
    ModelSettingsError,
    declares_explainer,
    folder_fingerprint,
    model_folders,
    read_model_folder,
    version_key,
)
from app.predictors.base import Predictor
from app.protocol.errors import (
    InvalidInput,
    ModelNotFound,
    ModelNotReady,
    NotFound,
    PredictorError,
)
from app.resolver import Kind, Target, target_of
from app.versions import ModelState, ModelVersion

log = logging.getLogger("oipserve.registry")


class ModelRegistry:
    """Holds every model version the server was asked to serve, loaded or not."""

    def __init__(self, repository: Path, grace: float = 10.0) -> None:
        self.repository = repository
        self.grace = grace
        self.client: InferenceClient | None = None
        """What predictors call other models with (`Predictor.client`), set by the server."""
        self._models: dict[str, dict[str, ModelVersion]] = {}
        self._fingerprints: dict[str, Fingerprint] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._unloaded: set[str] = set()

    def folders(self) -> dict[str, Path]:
        """The model folders of the repository, by model name."""
        return {folder.name: folder for folder in model_folders(self.repository)}

    async def load_repository(
        self, names: list[str] | None = None, unloaded: Collection[str] = ()
    ) -> None:
        """Load the named models (every model folder when None), explainers after the
        others; failures are recorded. Those `unloaded` are reported so (by the repository
        API, in another worker of --workers)."""
        found = self.folders()
        self._unloaded.update(name for name in unloaded if name in found)
        chosen = sorted(found) if names is None else names
        unknown = [name for name in chosen if name not in found]
        if unknown:
            raise ModelSettingsError(
                f"no model {unknown[0]!r} in {self.repository}; models: {', '.join(sorted(found))}"
            )
        explainers = [name for name in chosen if declares_explainer(found[name])]
        for group in ([name for name in chosen if name not in explainers], explainers):
            await asyncio.gather(*(self._load(name, found[name], startup=True) for name in group))

    async def load(self, name: str) -> None:
        """(Re)load model `name` from its folder if the folder changed or a version is not
        ready; PredictorError names the versions that failed (an old build keeps serving)."""
        folder = self.folders().get(name)
        if folder is None:
            raise ModelNotFound(
                f"model {name!r} has no folder with a {MODEL_SETTINGS_FILE} in {self.repository}"
            )
        failures = await self._load(name, folder)
        if failures:
            raise PredictorError(f"model {name!r} failed to load: {'; '.join(failures)}")

    async def _load(self, name: str, folder: Path, startup: bool = False) -> list[str]:
        async with self._locks.setdefault(name, asyncio.Lock()):
            self._unloaded.discard(name)
            current = self._models.get(name, {})
            try:  # the folder may change while it is read: what fails to read is reported
                fingerprint = folder_fingerprint(folder)
                if current and fingerprint == self._fingerprints.get(name) and self._serving(name):
                    return []
                fresh = [
                    ModelVersion(s.name, s.version, settings=s, explains=_explains(s))
                    for s in read_model_folder(folder)
                ]
            except (ModelSettingsError, OSError) as error:
                why = self._settings_failed(name, current, str(error), startup)
                if isinstance(error, ModelSettingsError) and not startup:  # the user's to fix
                    raise InvalidInput(f"model {name!r} cannot be loaded: {why}") from None
                return [why]
            for entry in fresh:
                old = current.get(entry.version)
                replaced = old or current.get("")  # "" stands for a folder that failed to read
                entry.required = startup or (replaced is not None and replaced.required)
                if old is not None:
                    entry.stats = old.stats
            self._models[name] = _by_version({**{e.version: e for e in fresh}, **current})
            await asyncio.gather(*(entry.load(self.client) for entry in fresh))
            failures = await self._swap(name, current, fresh)
            if not failures:  # a failed load is tried again by the next load
                self._fingerprints[name] = fingerprint
            return failures

    def _serving(self, name: str) -> bool:
        return all(e.state is ModelState.READY for e in self._models[name].values())

    def _settings_failed(
        self, name: str, current: dict[str, ModelVersion], why: str, startup: bool
    ) -> str:
        log.error("model %s: %s", name, why)
        if any(entry.state is ModelState.READY for entry in current.values()):
            for entry in current.values():
                entry.reason = f"reload failed, the previous load still serves: {why}"
        else:
            failed = ModelVersion(name, "", ModelState.UNAVAILABLE, why)
            failed.required = startup or any(entry.required for entry in current.values())
            self._models[name] = {"": failed}
        return why

    async def _swap(
        self, name: str, current: dict[str, ModelVersion], fresh: list[ModelVersion]
    ) -> list[str]:
        """Serve each fresh version that loaded (or failed with no old build to keep)."""
        serving: dict[str, ModelVersion] = {}
        failures = []
        for entry in fresh:
            old = current.get(entry.version)
            if entry.state is not ModelState.READY:
                failures.append(f"version {entry.version!r}: {entry.reason}")
                if old is not None and old.state is ModelState.READY:
                    old.reason = f"reload failed, the previous load still serves: {entry.reason}"
                    entry = old
            serving[entry.version] = entry
        self._models[name] = _by_version(serving)
        retired = [old for old in current.values() if serving.get(old.version) is not old]
        await asyncio.gather(*(self._retire(old) for old in retired))
        return failures

    async def _retire(self, entry: ModelVersion) -> None:
        """Stop routing to `entry`, let its requests finish, unload its predictor."""
        entry.state, entry.reason = ModelState.UNLOADING, "unloading"
        if not await entry.drain(self.grace):
            log.warning(
                "model %s version %s: unloading with %d requests still running after %.1fs",
                entry.name,
                entry.version,
                entry.inflight,
                self.grace,
            )
        await entry.unload()

    async def unload(self, name: str) -> None:
        """Unload every version of model `name`; requests in flight finish first."""
        async with self._locks.setdefault(name, asyncio.Lock()):
            versions = self._models.get(name)
            if versions is None:
                if name in self.folders():
                    return
                raise ModelNotFound(f"model {name!r} not found")
            await asyncio.gather(*(self._retire(entry) for entry in versions.values()))
            del self._models[name]
            self._fingerprints.pop(name, None)
            self._unloaded.add(name)
            log.info("model %s unloaded", name)

    async def unload_all(self) -> None:
        await asyncio.gather(*(self.unload(name) for name in list(self._models)))

    def entries(self) -> list[ModelVersion]:
        """Every model version, by name then version."""
        return [entry for name in sorted(self._models) for entry in self.versions(name)]

    def index(self) -> list[ModelVersion]:
        """Every model version, plus a placeholder for each model folder not loaded."""
        found = self.entries()
        for name in self.folders().keys() - self._models.keys():
            reason = "unloaded" if name in self._unloaded else "not loaded"
            found.append(ModelVersion(name, "", ModelState.UNAVAILABLE, reason))
        return sorted(found, key=lambda entry: (entry.name, version_key(entry.version)))

    def known(self, name: str) -> bool:
        return name in self._models

    def versions(self, name: str) -> list[ModelVersion]:
        """The versions of model `name`, oldest first; ModelNotFound if there is none."""
        return list(self._found(name).values())

    def _found(self, name: str) -> dict[str, ModelVersion]:
        found = self._models.get(name)
        if not found:
            why = "is unloaded" if name in self._unloaded else "not found"
            raise ModelNotFound(f"model {name!r} {why}")
        return found

    def resolve(self, name: str, version: str | None = None) -> ModelVersion:
        """The named version, or the default one: the settings' default_version if it is
        ready, else the newest ready version (the newest at all if none is ready)."""
        found = self._found(name)
        if version:
            named = found.get(version)
            if named is None:
                known = ", ".join(map(repr, found))
                raise ModelNotFound(
                    f"model {name!r} has no version {version!r} (versions: {known})"
                )
            return named
        if len(found) == 1:  # the usual model, with one version: that version
            (entry,) = found.values()
            return entry
        newest_ready: ModelVersion | None = None
        for entry in found.values():
            if entry.state is ModelState.READY:
                if entry.settings is not None and entry.settings.default_version == entry.version:
                    return entry
                newest_ready = entry
        return newest_ready or entry  # the newest at all: the loop ends on it

    def predictor(self, name: str, version: str | None = None) -> tuple[ModelVersion, Predictor]:
        """The resolved version and its predictor; ModelNotReady unless it is ready."""
        entry = self.serving(Target(Kind.MODEL, name, version))
        assert entry.predictor is not None
        return entry, entry.predictor

    def serving(self, target: Target) -> ModelVersion:
        """The ready model (or explainer) version `target` names, to call through its plan;
        ModelNotReady if it is not ready, NotFound if it is unknown (pipelines are not
        models)."""
        if target.kind is Kind.PIPELINE:
            raise NotFound(f"{target} not found: pipelines are not models")
        try:
            entry = self.resolve(target.name, target.version)
        except ModelNotFound as error:
            if target.kind is Kind.MODEL:
                raise
            raise NotFound(f"{target} not found") from error
        if target.kind is Kind.EXPLAINER and entry.explains is None:
            raise NotFound(f"{target} not found: model {target.name!r} is not an explainer")
        if entry.plan is None or entry.state is not ModelState.READY:
            why = f": {entry.reason}" if entry.reason else ""
            raise ModelNotReady(
                f"model {target.name!r} version {entry.version!r} is "
                f"{entry.state.value.lower()}{why}"
            )
        return entry

    def all_ready(self) -> bool:
        """Whether every version loaded at start-up is ready (or on its way out): loads
        through the repository API after start-up never make the server unready."""
        return all(
            entry.state in (ModelState.READY, ModelState.UNLOADING)
            for entry in self.entries()
            if entry.required
        )


def _explains(settings: ModelSettings) -> Target | None:
    return target_of(settings.explainer.target) if settings.explainer is not None else None


def _by_version(entries: dict[str, ModelVersion]) -> dict[str, ModelVersion]:
    """The entries (by version) in version order, oldest first: the order `resolve` and
    `versions` read them in."""
    return {key: entries[key] for key in sorted(entries, key=version_key)}
