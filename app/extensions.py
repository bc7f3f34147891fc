"""The protocol's extensions beside inference: statistics, the model repository (index, load,
unload) and the model configuration, answered for the whole server (with the other workers of
a --workers server). The DataPlane has them as its own methods."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from app.model_config import model_config
from app.peers import Peers
from app.pipelines.store import Pipelines
from app.protocol.errors import ModelNotReady, NotFound, Unsupported
from app.protocol.types import (
    ModelConfig,
    ModelStatisticsResponse,
    RepositoryIndexRequest,
    RepositoryIndexResponse,
    RepositoryModel,
    RepositoryModelRequest,
)
from app.registry import ModelRegistry
from app.resolver import Kind, target_of
from app.versions import ModelState


class Extensions:
    """The extensions' methods of the DataPlane, over its registry, pipelines and peers."""

    registry: ModelRegistry
    pipelines: Pipelines
    peers: Peers | None

    async def model_config(self, name: str, version: str | None = None) -> ModelConfig:
        """The model configuration extension: Triton's configuration of a ready version."""
        entry, predictor = self.registry.predictor(name, version)
        assert entry.settings is not None
        return model_config(predictor.metadata(), entry.settings)

    async def model_statistics(
        self, name: str | None = None, version: str | None = None
    ) -> ModelStatisticsResponse:
        """The statistics extension: every ready version of every model and every ready
        pipeline (as `<name>.pipeline`) when name is None, else one model (`p.pipeline`: one
        pipeline), or one version."""
        pipelines = [(f"{e.name}.pipeline", e) for e in self.pipelines.entries()]
        if name is None:
            listed = [(entry.name, entry) for entry in self.registry.entries()] + pipelines
        elif target_of(name).kind is Kind.PIPELINE:
            listed = [(label, entry) for label, entry in pipelines if label == name]
            if not listed:
                raise NotFound(f"pipeline {target_of(name).name!r} not found")
        elif version:
            listed = [(name, self.registry.predictor(name, version)[0])]
        else:
            listed = [(name, entry) for entry in self.registry.versions(name)]
        ready = [(label, e) for label, e in listed if e.state is ModelState.READY]
        if name is not None and not ready:
            raise ModelNotReady(f"{target_of(name)} has no ready version")
        found = [entry.stats.report(label, entry.version) for label, entry in ready]
        if self.peers is not None:
            found = await self.peers.statistics(found, name, version)
        return ModelStatisticsResponse(model_stats=found)

    async def whole_server_metrics(self, local: bytes) -> bytes:
        """This worker's metrics text, with the other workers' added in (--workers)."""
        return local if self.peers is None else await self.peers.metrics(local)

    async def repository_index(self, request: RepositoryIndexRequest) -> RepositoryIndexResponse:
        """The model repository extension: every model folder and loaded version, and every
        pipeline (named `<name>.pipeline`)."""
        listed = [(entry.name, entry) for entry in self.registry.index()]
        listed += [(f"{entry.name}.pipeline", entry) for entry in self.pipelines.entries()]
        if request.ready:
            listed = [(name, entry) for name, entry in listed if entry.state is ModelState.READY]
        return RepositoryIndexResponse(
            models=[
                RepositoryModel(
                    name=name, version=entry.version, state=entry.state.value, reason=entry.reason
                )
                for name, entry in listed
            ]
        )

    async def repository_load(self, name: str, request: RepositoryModelRequest) -> None:
        """Load model `name` (pipeline `p` as `p.pipeline`), or reload it if its folder
        changed."""
        _no_parameters(request, "load")
        await _to_the_end(self._change(name, "load"))

    async def repository_unload(self, name: str, request: RepositoryModelRequest) -> None:
        """Unload model `name` (pipeline `p` as `p.pipeline`) once the requests it is
        answering are done."""
        _no_parameters(request, "unload", allowed={"unload_dependents"})
        await _to_the_end(self._change(name, "unload"))

    async def _change(self, name: str, action: str) -> None:
        """Load or unload `name` here, then in the other workers."""
        await self.change_here(name, action)
        if self.peers is not None:
            await self.peers.repository(name, action)

    async def change_here(self, name: str, action: str) -> None:
        """Load or unload (`action`) model `name` (pipeline `p` as `p.pipeline`) in this
        process only."""
        target = target_of(name)
        if target.kind is Kind.PIPELINE:
            store = self.pipelines
            await (store.load(target.name) if action == "load" else store.unload(target.name))
        else:
            await (self.registry.load(name) if action == "load" else self.registry.unload(name))


_changing: set[asyncio.Future[None]] = set()
"""Repository changes under way, held so that none is collected before it ends."""


async def _to_the_end(change: Awaitable[None]) -> None:
    """Await `change`, which goes on to its end if the caller is cancelled (a gRPC call past
    its deadline, a client gone): stopped half-way, a model would stay LOADING or UNLOADING
    and the other workers would never hear of it."""
    running = asyncio.ensure_future(change)
    _changing.add(running)
    running.add_done_callback(_changing.discard)
    await asyncio.shield(running)


def _no_parameters(
    request: RepositoryModelRequest, action: str, allowed: frozenset[str] | set[str] = frozenset()
) -> None:
    unknown = sorted(set(request.parameters or {}) - allowed)
    if unknown:
        raise Unsupported(
            f"{action} parameter {unknown[0]!r} is not supported: models load from their folder"
        )
