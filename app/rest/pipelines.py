"""Seldon's pipeline routes over REST: `POST /v2/pipelines/{p}/infer` (answered by the same
endpoint as a model's inference), `GET /v2/pipelines/{p}/ready`, `GET /v2/pipelines/{p}`
(the tensors it takes and gives) and `GET /v2/pipelines/{p}/requests/{id}` (what each step
was sent and answered, when the server keeps it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.types import ASGIApp

from app.dataplane import DataPlane
from app.protocol.types import (
    ErrorResponse,
    InferenceResponse,
    InspectedRequest,
    ModelMetadataResponse,
    ModelReadyResponse,
)
from app.resolver import target_of
from app.rest.docs import INFER_REQUEST_BODY, PIPELINES
from app.rest.responses import JSONBody
from app.rest.routing import DirectRoute

PipelinePath = Annotated[
    str,
    Path(
        description="The pipeline's name",
        openapi_examples={
            "iris-classes": {"summary": "the bundled pipeline", "value": "iris-classes"}
        },
    ),
]
RequestIdPath = Annotated[
    str,
    Path(
        description="The request's id: its x-request-id header, else its `id` field",
        openapi_examples={"42": {"summary": "the example request's id", "value": "42"}},
    ),
]
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in [
        (400, "The request is malformed, or a step refused it (the error names the step)"),
        (404, "No such pipeline (or a step's model is missing)"),
        (503, "The pipeline or one of its steps is not ready"),
        (504, "A join waited past its joinWindowMs, or a step past the request's timeout"),
    ]
}


def pipeline_router(dataplane: DataPlane) -> APIRouter:
    router = APIRouter(prefix="/v2/pipelines", tags=[PIPELINES], default_response_class=JSONBody)

    @router.get(
        "/{pipeline_name}",
        response_model=ModelMetadataResponse,
        responses={code: _ERRORS[code] for code in (404, 503)},
        summary="Pipeline metadata: the tensors it takes and gives",
    )
    async def pipeline_metadata(pipeline_name: PipelinePath) -> JSONBody:
        target = target_of(f"{pipeline_name}.pipeline")
        return JSONBody(await dataplane.model_metadata(target))

    @router.get(
        "/{pipeline_name}/ready",
        response_model=ModelReadyResponse,
        responses={
            404: _ERRORS[404],
            400: {"model": ModelReadyResponse, "description": "Not ready: a step is not"},
        },
        summary="Pipeline readiness: ready when every step is",
    )
    async def pipeline_ready(pipeline_name: PipelinePath) -> JSONBody:
        ready = await dataplane.model_ready(target_of(f"{pipeline_name}.pipeline"))
        body = {"name": pipeline_name, "ready": ready}
        return JSONBody(body, status_code=200 if ready else 400)

    @router.get(
        "/{pipeline_name}/requests/{request_id:path}",  # an id may hold "/"
        response_model=InspectedRequest,
        responses={404: _ERRORS[404]},
        summary="Pipeline inspection: what each step was sent and answered in a request",
    )
    async def pipeline_request(pipeline_name: PipelinePath, request_id: RequestIdPath) -> JSONBody:
        """The tensors of one of the last N requests (`--inspect-requests N`), by step, as
        `inputs` and `outputs`; the pipeline's own under its name."""
        return JSONBody(await dataplane.pipeline_request(pipeline_name, request_id))

    return router


async def infer(pipeline_name: PipelinePath) -> InferenceResponse:
    """Run the pipeline on the request's tensors: each step's model in turn (or at once,
    where their inputs allow), as the pipeline's manifest says. JSON or binary tensors, as for
    a model."""
    raise NotImplementedError("documentation only: InferEndpoint answers this route")


def pipeline_infer_route(endpoint: ASGIApp) -> DirectRoute:
    return DirectRoute(
        "/v2/pipelines/{pipeline_name}/infer",
        infer,
        serve=endpoint,
        methods=["POST"],
        tags=[PIPELINES],
        response_model=InferenceResponse,
        responses=_ERRORS,
        summary="Pipeline inference",
        openapi_extra=INFER_REQUEST_BODY,
    )
