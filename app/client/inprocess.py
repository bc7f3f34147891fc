"""`InProcessClient`: the InferenceClient of code running in the server (a predictor calling
another model). It calls the DataPlane directly: no serialization, the same checks,
statistics, metrics (front `inprocess`) and errors as any front; the id, X- headers and
deadline of the request being answered are carried on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from app.client.defaults import USE_CLIENT_DEFAULT, UseClientDefault
from app.client.interface import InferenceClient, Timeout
from app.client.tensors import InferRequest, InferResponse
from app.client.wire import from_answer, to_payload
from app.context import SELDON_MODEL, RequestContext, inner_context
from app.deadlines import tightened, within
from app.protocol.types import ModelMetadataResponse
from app.resolver import Target, target_of

if TYPE_CHECKING:
    from app.dataplane import DataPlane


class InProcessClient(InferenceClient):
    """Calls models of `dataplane`'s server; `timeout` (seconds) bounds each call unless the
    call gives its own (None: only the current request's deadline)."""

    def __init__(self, dataplane: DataPlane, timeout: float | None = None) -> None:
        self._dataplane = dataplane
        self._timeout = timeout

    def _context(self, headers: Mapping[str, str] | None) -> RequestContext:
        return inner_context(
            [(key.lower(), value) for key, value in headers.items()] if headers else ()
        )

    def _seconds(self, timeout: Timeout) -> float | None:
        return self._timeout if isinstance(timeout, UseClientDefault) else timeout

    async def infer(
        self,
        infer_request: InferRequest,
        /,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> InferResponse:
        context = self._context(headers)
        name, version = infer_request.model_name, infer_request.model_version
        target = target_of(name, version, context.seldon_model)
        payload = to_payload(infer_request)
        seconds = self._seconds(timeout)
        if seconds is None:  # the current request's deadline, if any, is kept by its front
            answer = await self._dataplane.infer(target, payload, context)
        else:
            deadline = context.deadline = tightened(context.deadline, seconds)
            assert deadline is not None
            called = self._dataplane.infer(target, payload, context)
            answer = await within(called, deadline, str(target))
        return from_answer(answer)

    async def model_metadata(
        self,
        model_name: str,
        /,
        *,
        version: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> ModelMetadataResponse:
        return await self._dataplane.model_metadata(self._target(model_name, version, headers))

    async def is_model_ready(
        self,
        model_name: str,
        /,
        *,
        version: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> bool:
        """Whether the model (version) is ready; ModelNotFound for a model the server does
        not know, as over gRPC."""
        return await self._dataplane.model_ready(self._target(model_name, version, headers))

    def _target(self, name: str, version: str | None, headers: Mapping[str, str] | None) -> Target:
        header = next((v for k, v in (headers or {}).items() if k.lower() == SELDON_MODEL), None)
        return target_of(name, version, header)

    async def close(self) -> None:
        """Nothing to close: the DataPlane belongs to the server."""
