"""The pipelines of the model repository: a folder holding `pipeline.yaml` (a Seldon `Pipeline`
manifest) is a pipeline. Pipelines load after the models they call, are checked against them
(each step a model of the repository, each tensor one its model declares), and serve while
every step does. Loads and unloads take the pipeline's lock, as models' do."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection
from pathlib import Path

import yaml

from app.client.interface import InferenceClient
from app.model_settings import folder_fingerprint
from app.pipelines.inspection import Inspection
from app.pipelines.manifest import pipeline_spec
from app.pipelines.plan import PipelinePlan
from app.pipelines.spec import INPUTS, OUTPUTS, PipelineError, PipelineSpec
from app.protocol.errors import ModelNotReady, NotFound, OIPError
from app.protocol.types import InspectedRequest, MetadataTensor, ModelMetadataResponse
from app.registry import ModelRegistry
from app.versions import ModelState, ModelVersion

log = logging.getLogger("oipserve.pipelines")
PIPELINE_FILE = "pipeline.yaml"


class Pipelines:
    """Every pipeline of the repository, loaded or not, over the models of `models`."""

    def __init__(self, models: ModelRegistry, inspection: Inspection | None = None) -> None:
        self.models = models
        self.inspection = inspection or Inspection()
        self._entries: dict[str, ModelVersion] = {}
        self._specs: dict[str, PipelineSpec] = {}
        self._steps: dict[str, list[ModelVersion]] = {}
        """By pipeline, its steps' model versions found ready by the last request: while each
        is READY, every step is (a ready version is retired before it leaves the registry)."""
        self._fingerprints: dict[str, object] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def folders(self) -> dict[str, Path]:
        """The pipeline folders of the repository, by pipeline name."""
        repository = self.models.repository
        if not repository.is_dir():
            return {}
        return {
            child.name: child
            for child in sorted(repository.iterdir())
            if (child / PIPELINE_FILE).is_file()
        }

    async def load_repository(self, unloaded: Collection[str] = ()) -> None:
        """Load every pipeline folder at start-up, but those `unloaded` (as `p.pipeline`) by
        the repository API; failures are recorded with their reason (and keep the server
        unready, as a model's do)."""
        for name in self.folders():
            if f"{name}.pipeline" in unloaded:
                continue
            with contextlib.suppress(OIPError):
                await self.load(name, startup=True)

    async def load(self, name: str, startup: bool = False) -> None:
        """(Re)load pipeline `name` from its folder; PipelineError (400) if it is invalid."""
        folder = self.folders().get(name)
        if folder is None:
            raise NotFound(f"pipeline {name!r} has no folder with a {PIPELINE_FILE}")
        async with self._locks.setdefault(name, asyncio.Lock()):
            fingerprint = folder_fingerprint(folder)
            entry = self._entries.get(name)
            ready = entry is not None and entry.state is ModelState.READY
            if ready and self._fingerprints.get(name) == fingerprint:
                return
            fresh = ModelVersion(name, "", required=startup or bool(entry and entry.required))
            self._entries[name] = fresh
            try:
                spec = self._read(folder)
            except OIPError as error:
                fresh.state, fresh.reason = ModelState.UNAVAILABLE, error.message
                log.error("pipeline %s: %s", name, error.message)
                raise
            self._specs[name] = spec
            self._steps.pop(name, None)
            try:
                fresh.plan = PipelinePlan(spec, self._client(), self.inspection)
            except OIPError as error:
                fresh.state, fresh.reason = ModelState.UNAVAILABLE, error.message
                raise
            fresh.state = ModelState.READY
            self._fingerprints[name] = fingerprint
            log.info("pipeline %s ready", name)

    def _client(self) -> InferenceClient:
        if self.models.client is None:
            raise PipelineError("pipelines call their steps through the in-process client")
        return self.models.client

    def _read(self, folder: Path) -> PipelineSpec:
        try:
            manifest = yaml.safe_load((folder / PIPELINE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError, yaml.YAMLError) as error:  # ValueError: not UTF-8
            raise PipelineError(f"{PIPELINE_FILE} cannot be read: {error}") from None
        except RecursionError:
            raise PipelineError(f"{PIPELINE_FILE} cannot be read: it nests too deep") from None
        spec = pipeline_spec(manifest, folder.name)
        for step in spec.steps.values():
            self._check_step(spec, step.name)
        return spec

    def _check_step(self, spec: PipelineSpec, name: str) -> None:
        """The step's model exists; the tensors it is sent and read are ones it declares."""
        if name not in self.models.folders():
            raise PipelineError(
                f"pipeline {spec.name!r} step {name!r}: there is no model {name!r} in the "
                "repository"
            )
        metadata = self._metadata(name)
        if metadata is None:
            return
        declared = {tensor.name for tensor in metadata.inputs}
        step = spec.steps[name]
        for ref in step.inputs:
            if ref.tensor is None or not declared:
                continue
            full = f"{ref.source}.{ref.side}.{ref.tensor}"
            sent = step.tensor_map.get(full, ref.tensor)
            if sent not in declared:
                raise PipelineError(
                    f"pipeline {spec.name!r} step {name!r} input {full!r} arrives as {sent!r}, "
                    f"which model {name!r} does not declare; inputs: "
                    f"{', '.join(map(repr, sorted(declared)))}"
                )
        for other in spec.steps.values():
            for ref in (*other.inputs, *other.triggers, *spec.output.steps):
                if ref.source == name and ref.side == OUTPUTS and ref.tensor is not None:
                    outputs = {tensor.name for tensor in metadata.outputs}
                    if outputs and ref.tensor not in outputs:
                        raise PipelineError(
                            f"pipeline {spec.name!r} refers to {str(ref)!r}, an output model "
                            f"{name!r} does not declare; outputs: "
                            f"{', '.join(map(repr, sorted(outputs)))}"
                        )

    def _metadata(self, model: str) -> ModelMetadataResponse | None:
        """The model's metadata, if it is loaded and ready."""
        try:
            _, predictor = self.models.predictor(model)
        except OIPError:
            return None
        return predictor.metadata()

    async def unload(self, name: str) -> None:
        async with self._locks.setdefault(name, asyncio.Lock()):
            entry = self._entries.pop(name, None)
            if entry is None:
                if name in self.folders():
                    return
                raise NotFound(f"pipeline {name!r} not found")
            entry.state, entry.reason = ModelState.UNLOADING, "unloading"
            await entry.drain(self.models.grace)
            entry.state, entry.reason, entry.plan = ModelState.UNAVAILABLE, "unloaded", None
            self._specs.pop(name, None)
            self._steps.pop(name, None)
            self._fingerprints.pop(name, None)

    def entries(self) -> list[ModelVersion]:
        """Every pipeline loaded or tried, and one placeholder per folder not loaded."""
        found = dict(self._entries)
        for name in self.folders().keys() - found.keys():
            found[name] = ModelVersion(name, "", ModelState.UNAVAILABLE, "not loaded")
        return [found[name] for name in sorted(found)]

    def known(self, name: str) -> bool:
        """Whether pipeline `name` was loaded (or tried)."""
        return name in self._entries

    def all_ready(self) -> bool:
        return all(
            entry.state is ModelState.READY for entry in self._entries.values() if entry.required
        )

    def serving(self, name: str) -> ModelVersion:
        """The pipeline, ready to call: loaded, and each of its steps' models ready."""
        entry = self._entries.get(name)
        if entry is None:
            raise NotFound(f"pipeline {name!r} not found")
        if entry.state is not ModelState.READY or entry.plan is None:
            why = f": {entry.reason}" if entry.reason else ""
            raise ModelNotReady(f"pipeline {name!r} is {entry.state.value.lower()}{why}")
        steps = self._steps.get(name)
        if steps is None or any(step.state is not ModelState.READY for step in steps):
            self._steps[name] = self._ready_steps(name)
        return entry

    def _ready_steps(self, name: str) -> list[ModelVersion]:
        """The model version each step of pipeline `name` calls; ModelNotReady naming the
        first step that is not ready."""
        found = []
        for step in self._specs[name].steps:
            try:
                found.append(self.models.predictor(step)[0])
            except OIPError as error:
                raise ModelNotReady(
                    f"pipeline {name!r} is not ready: step {step!r}: {error.message}"
                ) from None
        return found

    def spec(self, name: str) -> PipelineSpec:
        """The spec of loaded pipeline `name`; NotFound if it is not loaded."""
        found = self._specs.get(name)
        if found is None:
            raise NotFound(f"pipeline {name!r} not found")
        return found

    def inspect(self, name: str, request_id: str) -> InspectedRequest:
        """The tensors of pipeline `name`'s steps in request `request_id`, if kept."""
        if name not in self.folders():
            raise NotFound(f"pipeline {name!r} not found")
        return self.inspection.find(name, request_id)

    def metadata(self, name: str) -> ModelMetadataResponse:
        """The tensors the pipeline takes (those its steps take from the request) and gives
        (its output steps'), as their models declare them."""
        self.serving(name)
        spec = self._specs[name]
        inputs: dict[str, MetadataTensor] = {}
        for step in spec.steps.values():
            declared = self._declared(step.name, INPUTS)
            for ref in step.inputs:
                if ref.source != spec.name:
                    continue
                for tensor in declared:
                    full = f"{spec.name}.{INPUTS}.{ref.tensor}"
                    if ref.tensor is None or step.tensor_map.get(full, ref.tensor) == tensor.name:
                        own = ref.tensor or tensor.name
                        inputs.setdefault(own, tensor.model_copy(update={"name": own}))
        outputs: list[MetadataTensor] = []
        for ref in spec.output.steps:
            for tensor in self._declared(ref.source, ref.side):
                if ref.tensor is None or tensor.name == ref.tensor:
                    full = f"{ref.source}.{ref.side}.{tensor.name}"
                    renamed = spec.output.tensor_map.get(full, tensor.name)
                    outputs.append(tensor.model_copy(update={"name": renamed}))
        return ModelMetadataResponse(
            name=name, platform="pipeline", inputs=list(inputs.values()), outputs=outputs
        )

    def _declared(self, model: str, side: str) -> list[MetadataTensor]:
        metadata = self._metadata(model)
        if metadata is None:
            return []
        return list(metadata.inputs if side == INPUTS else metadata.outputs)
