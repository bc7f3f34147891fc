"""The DataPlane: the one object every transport calls. Protocol types in, protocol types out."""

from __future__ import annotations

import logging
import time
from collections.abc import Coroutine
from typing import Any

from app import __version__
from app.calls import (
    INPROCESS,
    SUCCESS,
    Call,
    current_call,
    new_request_id,
    outcome_of,
    reply_headers,
    timeout_seconds,
    within,
)
from app.extensions import EXTENSION_NAMES, model_config, repository_model
from app.monitor import Monitor
from app.plans import plan_of
from app.predictors.base import Predictor, Tensors
from app.protocol.errors import ModelNotReady, OIPError, PredictorError, Unsupported
from app.protocol.prediction import Prediction
from app.protocol.types import (
    InferenceRequest,
    InferenceResponse,
    ModelConfig,
    ModelMetadataResponse,
    ModelStatisticsResponse,
    RepositoryIndexRequest,
    RepositoryIndexResponse,
    RepositoryModelRequest,
    ServerMetadataResponse,
)
from app.registry import ModelRegistry, ModelState
from app.settings import ServerSettings

log = logging.getLogger("oipserve.dataplane")

EXTENSIONS: list[str] = ["binary_tensor_data", *EXTENSION_NAMES]
"""Protocol extensions this server speaks, advertised in the server metadata."""


class DataPlane:
    """Answers every question a client can ask, for every transport."""

    def __init__(self, registry: ModelRegistry, settings: ServerSettings) -> None:
        self.registry = registry
        self.settings = settings
        self.monitor = Monitor(registry, settings.log_requests)
        self._started = False
        self._stopping = False

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
        """Whether the model (version) serves; False for a model folder not loaded."""
        if not self.registry.known(name) and name in self.registry.folders():
            return False
        return self.registry.resolve(name, version).state is ModelState.READY

    async def model_metadata(self, name: str, version: str | None = None) -> ModelMetadataResponse:
        _, predictor = self.registry.predictor(name, version)
        metadata = predictor.metadata()
        if version is None:
            ready = [v.version for v in self.registry.versions(name) if v.state is ModelState.READY]
            metadata = metadata.model_copy(update={"versions": ready})
        return metadata

    async def model_config(self, name: str, version: str | None = None) -> ModelConfig:
        """The model configuration extension: Triton's configuration of a ready version."""
        entry, predictor = self.registry.predictor(name, version)
        assert entry.settings is not None
        return model_config(predictor.metadata(), entry.settings)

    async def model_statistics(
        self, name: str | None = None, version: str | None = None
    ) -> ModelStatisticsResponse:
        """The statistics extension: every ready version of every model (name None), of
        one model, or one version."""
        if name is None:
            entries = self.registry.entries()
        elif version:
            entries = [self.registry.predictor(name, version)[0]]
        else:
            entries = self.registry.versions(name)
        ready = [entry for entry in entries if entry.state is ModelState.READY]
        if name is not None and not ready:
            raise ModelNotReady(f"model {name!r} has no ready version")
        return ModelStatisticsResponse(
            model_stats=[entry.stats.report(entry.name, entry.version) for entry in ready]
        )

    async def repository_index(self, request: RepositoryIndexRequest) -> RepositoryIndexResponse:
        """The model repository extension: every model folder and loaded version."""
        entries = self.registry.index()
        if request.ready:
            entries = [entry for entry in entries if entry.state is ModelState.READY]
        return RepositoryIndexResponse(models=[repository_model(entry) for entry in entries])

    async def repository_load(self, name: str, request: RepositoryModelRequest) -> None:
        """Load model `name`, or reload it if its folder changed."""
        _no_parameters(request, "load")
        await self.registry.load(name)

    async def repository_unload(self, name: str, request: RepositoryModelRequest) -> None:
        """Unload model `name` once the requests it is answering are done."""
        _no_parameters(request, "unload", allowed={"unload_dependents"})
        await self.registry.unload(name)

    def infer(
        self, name: str, request: InferenceRequest, version: str | None = None
    ) -> Coroutine[Any, Any, InferenceResponse]:
        """Run one inference: resolve the model, check the request against its signature,
        predict, keep the requested outputs and echo the request id. The transport's call
        (request id, X- headers) is used if it has one; else this is an in-process call."""
        call = current_call.get()
        if call is not None and call.entry is None:
            return self._infer(call, name, request, version)
        return self._infer_in_process(name, request, version)

    async def predict(
        self,
        name: str,
        inputs: Tensors,
        version: str | None = None,
        request_id: str | None = None,
    ) -> Prediction | None:
        """The predict lane, for a transport's request that holds input arrays and nothing
        else to interpret (no parameters, no requested outputs): `infer` without building
        messages, for a model that implements only `predict`. The same checks, bookkeeping
        and errors as `infer`; None when the model or the inputs are not for this lane (then
        the transport calls `infer`, which answers them or says what is wrong)."""
        call = current_call.get()
        if call is None or call.entry is not None:
            return None
        if call.id is None and request_id:
            call.id = request_id  # as in infer: errors echo it
        entry, predictor = self.registry.predictor(name, version)
        plan = entry.plan or plan_of(entry, predictor)
        predict = plan.predict
        if predict is None or not plan.signature.fits(inputs):
            return None
        call.entry = entry
        if call.id is None:
            call.id = new_request_id()
        if plan.batched and inputs:
            call.take_batch(next(iter(inputs.values())).shape)
        call.infer_started = time.perf_counter_ns()
        entry.enter()
        try:
            outputs = await predict(inputs)
        except OIPError:
            raise
        except Exception as error:
            raise _failure(predictor, error) from error
        finally:
            entry.leave()
        call.infer_ended = time.perf_counter_ns()
        return Prediction(entry.name, outputs, entry.version, call.id)

    async def _infer_in_process(
        self, name: str, request: InferenceRequest, version: str | None
    ) -> InferenceResponse:
        call = self.monitor.begin(INPROCESS, name)
        token = current_call.set(call)
        try:
            response = await self._infer(call, name, request, version)
        except BaseException as error:
            self.monitor.finish(call, outcome_of(error))
            raise
        finally:
            current_call.reset(token)
        self.monitor.finish(call, SUCCESS)
        return response

    async def _infer(
        self, call: Call, name: str, request: InferenceRequest, version: str | None
    ) -> InferenceResponse:
        if call.id is None and request.id:
            call.id = request.id  # the body's id, unless a header gave one: errors echo it too
        entry, predictor = self.registry.predictor(name, version)
        call.entry = entry
        plan = entry.plan or plan_of(entry, predictor)
        signature = plan.signature
        signature.check(request)
        call.settle(request, plan.batched)
        timeout = timeout_seconds(request.parameters)
        call.infer_started = time.perf_counter_ns()
        entry.enter()
        try:
            if timeout is None:
                response = await _run(predictor, request)
            else:
                response = await within(_run(predictor, request), timeout, call, predictor.name)
        finally:
            entry.leave()
        call.infer_ended = time.perf_counter_ns()
        if request.outputs:
            response.outputs = signature.select_outputs(request, response)
        if response.model_name != name:  # the predict path answers with all three already
            response.assign_trusted("model_name", name)
        if response.model_version != entry.version:
            response.assign_trusted("model_version", entry.version)
        if response.id != call.id:
            response.assign_trusted("id", call.id)
        call.reply_headers = reply_headers(call.headers, response.parameters)
        return response


def _no_parameters(
    request: RepositoryModelRequest, action: str, allowed: frozenset[str] | set[str] = frozenset()
) -> None:
    unknown = sorted(set(request.parameters or {}) - allowed)
    if unknown:
        raise Unsupported(
            f"{action} parameter {unknown[0]!r} is not supported: models load from their folder"
        )


async def _run(predictor: Predictor, request: InferenceRequest) -> InferenceResponse:
    try:
        response = await predictor.run(request)
    except OIPError:
        raise
    except Exception as error:
        raise _failure(predictor, error) from error
    if not isinstance(response, InferenceResponse):
        raise PredictorError(
            f"model {predictor.name!r}: infer must return an InferenceResponse, "
            f"got {type(response).__name__}"
        )
    return response


def _failure(predictor: Predictor, error: Exception) -> PredictorError:
    """The error of a predictor's own failure (not an OIPError), logged with its trace."""
    log.exception("model %s version %s failed", predictor.name, predictor.version)
    return PredictorError(f"model {predictor.name!r} failed: {type(error).__name__}: {error}")
