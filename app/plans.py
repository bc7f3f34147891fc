"""A Plan: how one loaded model version is called, decided once, when the registry loads it.

It holds the signature requests are checked against, and either the predictor's `predict`
(arrays in, arrays out) or its `infer` (a whole request), ready to await: the method itself
when it is `async`, else a run in a worker thread. A request object is built only for
`infer`; `predict` gets the payload's arrays as they were decoded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from app.batching import Batcher
from app.context import RequestContext
from app.predictors.base import MODEL_FAILURES, Predictor, as_coroutine_function
from app.protocol.errors import InvalidInput, OIPError, PredictorError
from app.protocol.payload import Answer, Payload, Tensors, answer_from_arrays
from app.protocol.types import InferenceRequest, InferenceResponse, Parameters
from app.signatures import Signature
from app.stats import VersionStats

log = logging.getLogger("oipserve.dataplane")

Calls = Callable[[Payload, RequestContext], Awaitable[Answer]]
"""How the DataPlane calls a servable: a model version's plan, or a pipeline's."""
Predict = Callable[[Tensors], Awaitable[object]]
Infer = Callable[[InferenceRequest], Awaitable[object]]


class Plan:
    """Calls one loaded model version (through its batcher when it batches)."""

    __slots__ = ("batched", "batcher", "infer", "name", "predict", "signature", "version")

    def __init__(self, predictor: Predictor, stats: VersionStats | None = None) -> None:
        """`stats` get the runs of each batch, when the version batches."""
        self.name = predictor.name
        self.version = predictor.version
        self.signature = Signature(predictor.metadata())
        self.predict: Predict | None = None
        self.infer: Infer | None = None
        if predictor.predict_only:
            self.predict = as_coroutine_function(predictor.predict)
        else:
            self.infer = as_coroutine_function(predictor.infer)
        settings = predictor.settings
        self.batched = bool(settings.max_batch_size)
        """Whether the first dimension of the inputs is the batch."""
        self.batcher: Batcher | None = None
        if self.predict is not None and settings.max_batch_size > 1:
            executed = stats.record_batch if stats is not None else None
            self.batcher = Batcher(
                self.name, self.predict, settings.max_batch_size, settings.max_batch_time, executed
            )

    async def __call__(self, payload: Payload, context: RequestContext) -> Answer:
        """Check the payload, run the predictor, keep the requested outputs."""
        self.signature.check(payload)
        if self.batched and payload.inputs:
            shape = next(iter(payload.inputs.values())).shape
            context.batch = shape[0] if shape else 1
        context.infer_started = time.perf_counter_ns()
        try:
            if self.batcher is not None and not payload.parameters:
                outputs = await self._batched(payload, context)
                answer = answer_from_arrays(self.name, outputs, self.version, context.id)
            elif self.predict is not None:
                outputs = await self.predict(payload.inputs)
                answer = answer_from_arrays(self.name, outputs, self.version, context.id)
            else:
                answer = await self._infer(payload, context)
        except OIPError:
            raise
        except MODEL_FAILURES as error:
            log.exception("model %s version %s failed", self.name, self.version)
            raise PredictorError(
                f"model {self.name!r} failed: {type(error).__name__}: {error}"
            ) from error
        context.infer_ended = time.perf_counter_ns()
        try:
            self.signature.check_answer(answer)
        except PredictorError as error:
            log.error("%s", error.message)  # the record names the request id
            raise
        if payload.outputs:
            answer.outputs = self.signature.select_outputs(payload.outputs, answer)
        return answer

    async def _batched(self, payload: Payload, context: RequestContext) -> object:
        """The outputs for the payload's rows, from a batch it joined (or a call of its own,
        for inputs that cannot join one)."""
        assert self.batcher is not None
        assert self.predict is not None
        joinable = self.batcher.key_of(payload.inputs)
        if joinable is None:
            return await self.predict(payload.inputs)
        ticket = await self.batcher.submit(payload.inputs, *joinable)
        context.batched, context.queued = True, ticket.started - ticket.queued
        context.infer_started = ticket.started
        return ticket.answer.result()

    async def _infer(self, payload: Payload, context: RequestContext) -> Answer:
        """The predictor's answer to the whole request, its X- headers as parameters."""
        assert self.infer is not None
        request = payload.request()
        request.assign_trusted("id", context.id)
        if context.headers:
            request.parameters = {**(request.parameters or {}), **context.headers}
        response = await self.infer(request)
        if not isinstance(response, InferenceResponse):
            raise PredictorError(
                f"model {self.name!r}: infer must return an InferenceResponse, "
                f"got {type(response).__name__}"
            )
        context.reply_headers = _reply_headers(context.headers, response.parameters)
        try:
            answer = Answer.of(response)
        except InvalidInput as error:
            raise PredictorError(f"model {self.name!r} answered {error.message}") from None
        answer.model_name, answer.model_version, answer.id = self.name, self.version, context.id
        return answer


def _reply_headers(
    headers: dict[str, str] | None, parameters: Parameters | None
) -> dict[str, str] | None:
    """The X- headers of an answer: the request's, then the response's `x-` parameters."""
    if not parameters:
        return headers
    own = {k: v for k, v in parameters.items() if k.startswith("x-") and type(v) is str}
    return {**headers, **own} if headers else own or None
