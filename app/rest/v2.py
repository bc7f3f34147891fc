"""The OIP v2 REST endpoints: health, metadata and inference, over the DataPlane."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header
from starlette.types import ASGIApp

from app.context import SELDON_MODEL
from app.dataplane import DataPlane
from app.protocol.types import (
    ErrorResponse,
    InferenceResponse,
    ModelMetadataResponse,
    ModelReadyResponse,
    ServerLiveResponse,
    ServerMetadataResponse,
    ServerReadyResponse,
)
from app.resolver import target_of
from app.rest.docs import (
    HEALTH,
    INFER_REQUEST_BODY,
    INFERENCE,
    IRIS_ANSWER,
    IRIS_METADATA,
    METADATA,
)
from app.rest.responses import JSONBody
from app.rest.routing import (
    DirectRoute,
    Endpoint,
    NamePath,
    VersionPath,
    without_version,
)

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in [
        (400, "The request is malformed or does not match the model"),
        (404, "No such model or version"),
        (503, "The model is not ready"),
    ]
}
_NOT_READY: dict[int | str, dict[str, Any]] = {503: {"description": "Not ready"}}
_MODEL_NOT_READY: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    400: {
        "model": ModelReadyResponse,
        "description": 'The model (version) is not ready: `"ready": false` (or a malformed '
        "seldon-model header: `error`)",
    },
}
SeldonModel = Annotated[
    str | None,
    Header(
        alias=SELDON_MODEL,
        description="Names the target instead of the path: `name` or `name.model` (a model), "
        "`name.pipeline`, `name.explainer`",
    ),
]
_INFER_ERRORS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"example": IRIS_ANSWER}}},
    **_ERRORS,
    413: {"model": ErrorResponse, "description": "The body is over --http-max-body-mb"},
    500: {
        "model": ErrorResponse,
        "description": "The model failed, or answered what it does not declare",
    },
    504: {
        "model": ErrorResponse,
        "description": "The request's timeout (or gRPC deadline) passed first",
    },
}
_METADATA: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"example": IRIS_METADATA}}},
    **_ERRORS,
}


def v2_router(dataplane: DataPlane) -> APIRouter:
    """The v2 routes, each a thin adapter over `dataplane`."""
    router = APIRouter(prefix="/v2", default_response_class=JSONBody)

    @router.get(
        "", response_model=ServerMetadataResponse, summary="Server metadata", tags=[METADATA]
    )
    async def server_metadata() -> JSONBody:
        return JSONBody(await dataplane.server_metadata())

    @router.get(
        "/health/live",
        response_model=ServerLiveResponse,
        responses=_NOT_READY,
        summary="Liveness",
        tags=[HEALTH],
    )
    async def server_live() -> JSONBody:
        live = await dataplane.live()
        return JSONBody({"live": live}, status_code=200 if live else 503)

    @router.get(
        "/health/ready",
        response_model=ServerReadyResponse,
        responses=_NOT_READY,
        summary="Readiness: what --ready-when waits for is ready",
        tags=[HEALTH],
    )
    async def server_ready() -> JSONBody:
        ready = await dataplane.ready()
        return JSONBody({"ready": ready}, status_code=200 if ready else 503)

    async def model_metadata(
        model_name: NamePath,
        model_version: VersionPath,
        seldon_model: SeldonModel = None,
    ) -> JSONBody:
        target = target_of(model_name, model_version, seldon_model)
        return JSONBody(await dataplane.model_metadata(target))

    async def model_ready(
        model_name: NamePath,
        model_version: VersionPath,
        seldon_model: SeldonModel = None,
    ) -> JSONBody:
        """200 when ready; 400, as Triton answers, when the model (version) exists but is
        not ready (the protocol asks for a 4xx)."""
        target = target_of(model_name, model_version, seldon_model)
        ready = await dataplane.model_ready(target)
        body = {"name": target.name, "ready": ready}
        return JSONBody(body, status_code=200 if ready else 400)

    for base, adapt in [
        ("/models/{model_name}", without_version),
        ("/models/{model_name}/versions/{model_version}", _same),
    ]:
        router.add_api_route(
            base,
            adapt(model_metadata),
            response_model=ModelMetadataResponse,
            responses=_METADATA,
            summary="Model metadata",
            tags=[METADATA],
        )
        router.add_api_route(
            base + "/ready",
            adapt(model_ready),
            response_model=ModelReadyResponse,
            responses=_MODEL_NOT_READY,
            summary="Model readiness",
            tags=[HEALTH],
        )
    return router


async def infer(
    model_name: NamePath,
    model_version: VersionPath,
    seldon_model: SeldonModel = None,
) -> InferenceResponse:
    """Run the model on the request's tensors. JSON in and out, or the binary tensor data
    extension: a JSON header of `Inference-Header-Content-Length` bytes followed by raw
    tensors, in either direction (`binary_data_output`, `binary_data` per output)."""
    raise NotImplementedError("documentation only: InferEndpoint answers this route")


def infer_routes(endpoint: ASGIApp) -> list[DirectRoute]:
    """The two inference routes (with and without a version), answered by `endpoint`."""
    return [
        DirectRoute(
            path,
            adapt(infer),
            serve=endpoint,
            methods=["POST"],
            tags=[INFERENCE],
            response_model=InferenceResponse,
            responses=_INFER_ERRORS,
            summary="Inference",
            openapi_extra=INFER_REQUEST_BODY,
        )
        for path, adapt in [
            ("/v2/models/{model_name}/infer", without_version),
            ("/v2/models/{model_name}/versions/{model_version}/infer", _same),
        ]
    ]


def _same(endpoint: Endpoint) -> Endpoint:
    return endpoint
