"""The KServe v1 REST protocol over the DataPlane: `GET /v1/models`, `GET /v1/models/{m}`,
`POST /v1/models/{m}:predict` and `:explain` (the explainer whose `modelRef` is `m`), and the
liveness answer `GET /` that KServe's v1 clients ask for."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from app.context import REST, RequestContext, open_context
from app.dataplane import DataPlane
from app.protocol.codecs.v1 import (
    Declared,
    explanation_body,
    payload_from_v1,
    predictions_body,
    v1_body,
)
from app.protocol.errors import OIPError
from app.protocol.payload import Payload
from app.protocol.types import ErrorResponse
from app.resolver import Target, target_of
from app.rest.docs import KSERVE_V1
from app.rest.errors import error_status
from app.rest.responses import JSONBody
from app.rest.routing import NamePath
from app.rest.v2 import SeldonModel

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in [
        (400, "The body is malformed or does not match the model"),
        (404, "No such model (for `:explain`, no explainer of it)"),
        (503, "The model is not ready"),
    ]
}
_INSTANCES = {
    "content": {
        "application/json": {
            "schema": {"type": "object"},
            "example": {"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]},
        }
    },
    "required": True,
}


class V1Models(BaseModel):
    models: list[str]


class V1Ready(BaseModel):
    name: str
    ready: bool


class V1Predictions(BaseModel):
    predictions: list[Any]


class V1Live(BaseModel):
    status: str


class _V1Request:
    """A v1 body, decoded by the DataPlane as the inputs `declared` (the model's) say."""

    def __init__(self, message: dict[str, Any], declared: list[Declared]) -> None:
        self.message = message
        self.declared = declared

    def decode(self) -> Payload:
        return payload_from_v1(self.message, self.declared)


def v1_router(dataplane: DataPlane) -> APIRouter:
    """The v1 routes, each a thin adapter over `dataplane`."""
    router = APIRouter(tags=[KSERVE_V1], default_response_class=JSONBody)

    async def declared(target: Target) -> list[Declared]:
        metadata = await dataplane.model_metadata(target)
        return [Declared(spec.name, spec.datatype) for spec in metadata.inputs or ()]

    async def answer(request: Request, name: str, seldon_model: str | None, verb: str) -> Response:
        context = open_context(REST, request.headers.raw)
        try:
            message = v1_body(await request.body())
            named = target_of(name, None, context.seldon_model)
            inputs = await declared(named)  # an explainer takes what its target does
            target = dataplane.explainer_of(named) if verb == "explain" else named
            answer = await dataplane.infer(target, _V1Request(message, inputs), context)
        except OIPError as error:
            status, text = error_status(error, "POST", request.url.path)
            return JSONBody({"error": text}, status, headers=_echo(context))
        if verb == "explain":
            return Response(
                explanation_body(answer),
                headers=_echo(context),
                media_type="application/json",
            )
        body = predictions_body(answer.outputs)
        return Response(body, headers=_echo(context), media_type="application/json")

    @router.get("/", response_model=V1Live, summary="Liveness (KServe v1)")
    async def live() -> JSONBody:
        return JSONBody({"status": "alive"})

    @router.get("/v1/models", response_model=V1Models, summary="The models (KServe v1)")
    async def models() -> JSONBody:
        return JSONBody({"models": dataplane.model_names()})

    @router.get(
        "/v1/models/{model_name}",
        response_model=V1Ready,
        responses=_ERRORS,
        summary="Model readiness (KServe v1): 503 when not ready",
    )
    async def model_ready(model_name: NamePath, seldon_model: SeldonModel = None) -> JSONBody:
        target = target_of(model_name, None, seldon_model)
        ready = await dataplane.model_ready(target)
        if not ready:
            return JSONBody({"error": f"{target} is not ready"}, 503)
        return JSONBody({"name": target.name, "ready": True})

    @router.post(
        "/v1/models/{model_name}:predict",
        response_model=V1Predictions,
        responses=_ERRORS,
        summary="Inference (KServe v1)",
        openapi_extra={"requestBody": _INSTANCES},
    )
    async def predict(
        request: Request, model_name: NamePath, seldon_model: SeldonModel = None
    ) -> Response:
        """`{"instances": [...]}`: rows of the model's first input (or, for several inputs,
        one object per row keyed by input name); `{"inputs": [...]}` alike, or a list of
        OIP v2 tensors. Answers `{"predictions": [...]}`."""
        return await answer(request, model_name, seldon_model, "predict")

    @router.post(
        "/v1/models/{model_name}:explain",
        responses=_ERRORS,
        summary="Explanation (KServe v1) by the explainer of the model",
        openapi_extra={"requestBody": _INSTANCES},
    )
    async def explain(
        request: Request, model_name: NamePath, seldon_model: SeldonModel = None
    ) -> Response:
        """The explanation, as JSON, of the model's answer to the instances, by the
        explainer whose `modelRef` names the model."""
        return await answer(request, model_name, seldon_model, "explain")

    return router


def _echo(context: RequestContext) -> dict[str, str]:
    return dict(context.echo())
