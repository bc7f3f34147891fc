"""A DataPlane over a test repository, for the tests below the transports."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from app.dataplane import DataPlane
from app.registry import ModelRegistry
from app.settings import ServerSettings


@contextlib.asynccontextmanager
async def dataplane_over(
    repository: Path, names: list[str] | None = None, load: bool = True
) -> AsyncIterator[DataPlane]:
    """A started DataPlane over `repository`, the models `names` (all when None) loaded
    unless not `load`; every model unloaded afterwards."""
    registry = ModelRegistry(repository, grace=5)
    if load:
        await registry.load_repository(names)
    plane = DataPlane(registry, ServerSettings(model_repository=repository))
    plane.mark_started()
    try:
        yield plane
    finally:
        await registry.unload_all()
