"""A DataPlane over a test repository, for the tests below the transports, and what they
send it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import orjson

from app.client.inprocess import InProcessClient
from app.context import INPROCESS, RequestContext, open_context
from app.dataplane import DataPlane
from app.protocol.payload import Payload
from app.protocol.types import InferenceRequest, InferenceResponse, RequestInput
from app.registry import ModelRegistry
from app.resolver import target_of
from app.settings import ServerSettings


@contextlib.asynccontextmanager
async def dataplane_over(
    repository: Path, names: list[str] | None = None, load: bool = True
) -> AsyncIterator[DataPlane]:
    """A started DataPlane over `repository`, the models `names` (all when None) loaded
    unless not `load`; every model unloaded afterwards."""
    registry = ModelRegistry(repository, grace=5)
    plane = DataPlane(registry, ServerSettings(model_repository=repository))
    registry.client = InProcessClient(plane)
    if load:
        await registry.load_repository(names)
        await plane.pipelines.load_repository()
    plane.mark_started()
    try:
        yield plane
    finally:
        await registry.unload_all()


def one_value(value: float = 1.0, id: str | None = None, **parameters: object) -> InferenceRequest:
    """A request whose input-0 holds one FP32 `value`, with these request `parameters`."""
    data = np.array([value], dtype=np.float32)
    return InferenceRequest(
        id=id,
        parameters=parameters or None,
        inputs=[RequestInput(name="input-0", shape=[1], datatype="FP32", data=data)],
    )


async def infer(
    plane: DataPlane,
    name: str,
    request: InferenceRequest,
    version: str | None = None,
    context: RequestContext | None = None,
) -> InferenceResponse:
    """`request` to model `name` through the DataPlane, as a front hands it over (an
    in-process request unless `context` says otherwise); the answer as a response."""
    context = context or open_context(INPROCESS)
    target = target_of(name, version, context.seldon_model)
    answer = await plane.infer(target, Payload.of(request), context)
    return answer.response()


async def output_value(plane: DataPlane, name: str, version: str | None = None) -> float:
    """The first output value of model `name` for `one_value()`."""
    response = await infer(plane, name, one_value(), version)
    return float(response.outputs[0].data[0])


def touch_settings(folder: Path, **changes: object) -> None:
    """Rewrite a model's settings file with `changes`, with a later modification time."""
    path = folder / "model-settings.json"
    content = {**orjson.loads(path.read_bytes()), **changes}
    time.sleep(0.01)
    path.write_bytes(orjson.dumps(content))
