"""The Predictor base class: what a user subclasses to serve a model."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import numpy as np

from app.protocol.errors import Unsupported
from app.protocol.prediction import Prediction
from app.protocol.types import (
    InferenceRequest,
    InferenceResponse,
    MetadataTensor,
    ModelMetadataResponse,
)
from app.settings import ModelSettings

Tensors = dict[str, np.ndarray]
"""Tensors by name: what `predict` takes and returns."""

Args = ParamSpec("Args")
Result = TypeVar("Result")


def call(
    function: Callable[Args, Result | Awaitable[Result]], *args: Args.args, **kwargs: Args.kwargs
) -> Awaitable[Result]:
    """`function(...)` to await: its coroutine if it is a coroutine function, else a run in
    a worker thread, so that blocking model code never stalls the event loop."""
    if _is_coroutine_function(function):
        return function(*args, **kwargs)  # type: ignore[return-value]  # a coroutine here
    return asyncio.to_thread(function, *args, **kwargs)  # type: ignore[arg-type]  # plain here


def as_coroutine_function(
    function: Callable[Args, Result | Awaitable[Result]],
) -> Callable[Args, Awaitable[Result]]:
    """`function` as a coroutine function that runs as `call` runs it: itself when it is
    one, else a run in a worker thread. Decided once, for a function called per request."""
    if _is_coroutine_function(function):
        return function  # type: ignore[return-value]  # a coroutine function here

    async def in_thread(*args: Args.args, **kwargs: Args.kwargs) -> Result:
        return await asyncio.to_thread(function, *args, **kwargs)  # type: ignore[arg-type]  # plain here

    return in_thread


def _is_coroutine_function(function: Callable[..., object]) -> bool:
    """`inspect.iscoroutinefunction`, with a quick answer for the usual `async def` method
    (this runs on every request)."""
    code = getattr(getattr(function, "__func__", function), "__code__", None)
    if code is not None and code.co_flags & inspect.CO_COROUTINE:
        return True
    return inspect.iscoroutinefunction(function)


class Predictor:
    """Serves one model version. Override `predict` (arrays in, arrays out) or `infer` (the
    whole request, with its parameters). `load`, `unload`, `predict` and `infer` may be
    plain or `async` methods: plain ones run in a worker thread."""

    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def version(self) -> str:
        return self.settings.version

    @property
    def path(self) -> Path:
        """The folder of this version's artifacts."""
        return self.settings.path

    def load(self) -> Awaitable[None] | None:
        """Load artifacts; raise to report the model unavailable with your message."""
        return None

    def unload(self) -> Awaitable[None] | None:
        """Release what `load` acquired."""
        return None

    def predict(self, inputs: Tensors) -> Tensors | Awaitable[Tensors]:
        """Compute output arrays from input arrays, both by tensor name."""
        raise Unsupported(f"model {self.name!r} implements neither predict nor infer")

    def infer(self, request: InferenceRequest) -> InferenceResponse | Awaitable[InferenceResponse]:
        """Answer a whole request; the default calls `predict` with the input arrays."""
        return self._infer_with_predict(request)

    def metadata(self) -> ModelMetadataResponse:
        """The model's metadata; the default reads the model settings."""
        return ModelMetadataResponse(
            name=self.name,
            versions=[self.version],
            platform=self.settings.platform,
            inputs=self.settings.inputs,
            outputs=self.settings.outputs,
        )

    @property
    def predict_only(self) -> bool:
        """Whether `infer` is the default, so that an answer is `predict`'s arrays."""
        return type(self).infer is Predictor.infer

    def run(self, request: InferenceRequest) -> Awaitable[InferenceResponse]:
        """What the server awaits: `infer`, on the loop or in a worker thread as it needs."""
        if self.predict_only:
            return self._infer_with_predict(request)
        return call(self.infer, request)

    async def _infer_with_predict(self, request: InferenceRequest) -> InferenceResponse:
        inputs = {tensor.name: tensor.data for tensor in request.inputs}
        outputs = await call(self.predict, inputs)
        return response_from_arrays(self.name, outputs, self.version, request.id)


def response_from_arrays(
    model_name: str,
    outputs: Tensors,
    model_version: str | None = None,
    request_id: str | None = None,
) -> InferenceResponse:
    """An InferenceResponse holding `outputs`, with datatypes read off the arrays."""
    return Prediction(model_name, outputs, model_version, request_id).response()


def declared(tensors: list[MetadataTensor]) -> dict[str, MetadataTensor]:
    """Declared tensors by name."""
    return {tensor.name: tensor for tensor in tensors}
