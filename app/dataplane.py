"""The DataPlane: the one object every transport calls. Protocol types in, protocol types out."""

from __future__ import annotations

import logging
import random
import weakref

from app import __version__
from app.predictors.base import Predictor, declared
from app.protocol.errors import InvalidInput, OIPError, PredictorError
from app.protocol.types import (
    InferenceRequest,
    InferenceResponse,
    MetadataTensor,
    ModelMetadataResponse,
    ResponseOutput,
    ServerMetadataResponse,
)
from app.registry import ModelRegistry, ModelState
from app.settings import ServerSettings

log = logging.getLogger("oipserve.dataplane")

EXTENSIONS: list[str] = ["binary_tensor_data"]
"""Protocol extensions this server speaks, advertised in the server metadata."""


class DataPlane:
    """Answers every question a client can ask, for every transport."""

    def __init__(self, registry: ModelRegistry, settings: ServerSettings) -> None:
        self.registry = registry
        self.settings = settings
        self._started = False
        self._stopping = False
        self._metadata: weakref.WeakKeyDictionary[Predictor, ModelMetadataResponse] = (
            weakref.WeakKeyDictionary()
        )

    def _signature(self, predictor: Predictor) -> ModelMetadataResponse:
        """The metadata that requests are checked against, read once per loaded predictor."""
        metadata = self._metadata.get(predictor)
        if metadata is None:
            metadata = self._metadata[predictor] = predictor.metadata()
        return metadata

    def mark_started(self) -> None:
        """The repository has been loaded: readiness now follows the models."""
        self._started = True

    def mark_stopping(self) -> None:
        """Shutdown has begun: readiness is false from now on."""
        self._stopping = True

    async def live(self) -> bool:
        return True

    async def ready(self) -> bool:
        return self._started and not self._stopping and self.registry.all_ready()

    async def server_metadata(self) -> ServerMetadataResponse:
        return ServerMetadataResponse(
            name=self.settings.server_name, version=__version__, extensions=list(EXTENSIONS)
        )

    async def model_ready(self, name: str, version: str | None = None) -> bool:
        return self.registry.resolve(name, version).state is ModelState.READY

    async def model_metadata(self, name: str, version: str | None = None) -> ModelMetadataResponse:
        _, predictor = self.registry.predictor(name, version)
        metadata = predictor.metadata()
        if version is None:
            ready = [v.version for v in self.registry.versions(name) if v.state is ModelState.READY]
            metadata = metadata.model_copy(update={"versions": ready})
        return metadata

    async def infer(
        self, name: str, request: InferenceRequest, version: str | None = None
    ) -> InferenceResponse:
        """Run one inference: resolve the model, check the request against its signature,
        predict, keep the requested outputs and echo the request id."""
        entry, predictor = self.registry.predictor(name, version)
        metadata = self._signature(predictor)
        _check_inputs(request, metadata)
        _check_requested_outputs(request, metadata)
        response = await _run(predictor, request)
        if request.outputs:
            response.outputs = _select_outputs(request, response, metadata)
        response.model_name = name
        response.model_version = entry.version
        response.id = request.id if request.id is not None else response.id or new_request_id()
        return response


def new_request_id() -> str:
    """A random UUID (version 4) string, for requests that come without an id. Made from
    `random` (ids need not be secret), at a third of `str(uuid.uuid4())`'s cost."""
    bits = random.getrandbits(128) & ~(0xF000 << 64 | 0xC000 << 48) | (0x4000 << 64 | 0x8000 << 48)
    text = f"{bits:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


async def _run(predictor: Predictor, request: InferenceRequest) -> InferenceResponse:
    try:
        response = await predictor.run(request)
    except OIPError:
        raise
    except Exception as error:
        log.exception("model %s version %s failed", predictor.name, predictor.version)
        raise PredictorError(
            f"model {predictor.name!r} failed: {type(error).__name__}: {error}"
        ) from error
    if not isinstance(response, InferenceResponse):
        raise PredictorError(
            f"model {predictor.name!r}: infer must return an InferenceResponse, "
            f"got {type(response).__name__}"
        )
    return response


def _shape_fits(shape: list[int], expected: list[int]) -> bool:
    return len(shape) == len(expected) and all(
        want < 0 or have == want for have, want in zip(shape, expected, strict=True)
    )


def _check_inputs(request: InferenceRequest, metadata: ModelMetadataResponse) -> None:
    """Inputs must match the model's declared inputs: names, datatypes and shapes."""
    if not metadata.inputs:
        return
    expected = declared(metadata.inputs)
    names = set()
    for tensor in request.inputs:
        what = f"input {tensor.name!r}"
        if tensor.name in names:
            raise InvalidInput(f"{what} is given more than once")
        names.add(tensor.name)
        spec = expected.get(tensor.name)
        if spec is None:
            raise InvalidInput(
                f"{what} is not an input of model {metadata.name!r}; "
                f"inputs: {_names(metadata.inputs)}"
            )
        if tensor.datatype != spec.datatype:
            raise InvalidInput(
                f"{what}: datatype {tensor.datatype} does not match "
                f"{spec.datatype} of model {metadata.name!r}"
            )
        if not _shape_fits(tensor.shape, spec.shape):
            raise InvalidInput(
                f"{what}: shape {tensor.shape} does not match "
                f"{spec.shape} of model {metadata.name!r}"
            )
    missing = [name for name in expected if name not in names]
    if missing:
        raise InvalidInput(
            f"model {metadata.name!r} expects input {missing[0]!r}, which the request does not have"
        )


def _names(tensors: list[MetadataTensor]) -> str:
    return ", ".join(repr(tensor.name) for tensor in tensors)


def _check_requested_outputs(request: InferenceRequest, metadata: ModelMetadataResponse) -> None:
    """Requested outputs must be declared outputs (when the model declares any)."""
    if not request.outputs or not metadata.outputs:
        return
    known = declared(metadata.outputs)
    for wanted in request.outputs:
        if wanted.name not in known:
            raise InvalidInput(
                f"requested output {wanted.name!r} is not an output of model "
                f"{metadata.name!r}; outputs: {_names(metadata.outputs)}"
            )


def _select_outputs(
    request: InferenceRequest, response: InferenceResponse, metadata: ModelMetadataResponse
) -> list[ResponseOutput]:
    """The requested outputs, in the requested order."""
    produced = {output.name: output for output in response.outputs}
    selected = []
    for wanted in request.outputs or ():
        output = produced.get(wanted.name)
        if output is None:
            if metadata.outputs:
                raise PredictorError(
                    f"model {metadata.name!r} did not produce output {wanted.name!r}"
                )
            raise InvalidInput(
                f"requested output {wanted.name!r} is not an output of model "
                f"{metadata.name!r}; outputs: {', '.join(map(repr, produced))}"
            )
        selected.append(output)
    return selected
