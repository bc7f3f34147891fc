"""The Predictor base class: what a user subclasses to serve a model."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from app.model_settings import ModelSettings
from app.protocol.errors import Unsupported
from app.protocol.payload import Tensors, answer_from_arrays
from app.protocol.types import InferenceRequest, InferenceResponse, ModelMetadataResponse

if TYPE_CHECKING:
    from app.client.interface import InferenceClient

MODEL_FAILURES: tuple[type[BaseException], ...] = (Exception, SystemExit, KeyboardInterrupt)
"""What a model's code may raise (importing, loading, predicting, unloading) that fails that
call and never the server: a `sys.exit()` in a model is its failure too."""

Args = ParamSpec("Args")
Result = TypeVar("Result")


def call(
    function: Callable[Args, Result | Awaitable[Result]], *args: Args.args, **kwargs: Args.kwargs
) -> Awaitable[Result]:
    """`function(...)` to await: its coroutine if it is a coroutine function, else a run in
    a worker thread, so that blocking model code never stalls the event loop."""
    return as_coroutine_function(function)(*args, **kwargs)


def as_coroutine_function(
    function: Callable[Args, Result | Awaitable[Result]],
) -> Callable[Args, Awaitable[Result]]:
    """`function` as a coroutine function: itself when it is one, else a run in a worker
    thread. Decided once, for a function called per request."""
    if inspect.iscoroutinefunction(function):
        return function

    async def in_thread(*args: Args.args, **kwargs: Args.kwargs) -> Result:
        return await asyncio.to_thread(function, *args, **kwargs)  # type: ignore[arg-type]  # plain here

    return in_thread


class Predictor:
    """Serves one model version. Override `predict` (arrays in, arrays out) or `infer` (the
    whole request, with its parameters). `load`, `unload`, `predict` and `infer` may be
    plain or `async` methods: plain ones run in a worker thread."""

    client: InferenceClient
    """Calls other models of the server, in process (the request's id and X- headers
    carried on): set by the server before `load`. Replace it with a REST or gRPC client to
    call another server."""

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

    async def _infer_with_predict(self, request: InferenceRequest) -> InferenceResponse:
        inputs = {tensor.name: tensor.data for tensor in request.inputs}
        outputs = await call(self.predict, inputs)
        return answer_from_arrays(self.name, outputs, self.version, request.id).response()
