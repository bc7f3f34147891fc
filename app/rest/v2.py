"""The OIP v2 REST endpoints: health, metadata and inference, over the DataPlane."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.types import ASGIApp

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
from app.rest.docs import INFER_REQUEST_BODY
from app.rest.responses import JSONBody
from app.rest.routing import DirectRoute, Endpoint, ModelName, ModelVersion, without_version

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in [
        (400, "The request is malformed or does not match the model"),
        (404, "No such model or version"),
        (503, "The model is not ready"),
    ]
}
_NOT_READY: dict[int | str, dict[str, Any]] = {503: {"description": "Not ready"}}
_INFER_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    413: {"model": ErrorResponse, "description": "The body is over --http-max-body-mb"},
}


def v2_router(dataplane: DataPlane) -> APIRouter:
    """The v2 routes, each a thin adapter over `dataplane`."""
    router = APIRouter(prefix="/v2", tags=["v2"], default_response_class=JSONBody)

    @router.get("", response_model=ServerMetadataResponse, summary="Server metadata")
    async def server_metadata() -> JSONBody:
        return JSONBody(await dataplane.server_metadata())

    @router.get(
        "/health/live", response_model=ServerLiveResponse, responses=_NOT_READY, summary="Liveness"
    )
    async def server_live() -> JSONBody:
        live = await dataplane.live()
        return JSONBody({"live": live}, status_code=200 if live else 503)

    @router.get(
        "/health/ready",
        response_model=ServerReadyResponse,
        responses=_NOT_READY,
        summary="Readiness: every model the repository asked for is ready",
    )
    async def server_ready() -> JSONBody:
        ready = await dataplane.ready()
        return JSONBody({"ready": ready}, status_code=200 if ready else 503)

    async def model_metadata(model_name: ModelName, model_version: ModelVersion) -> JSONBody:
        return JSONBody(await dataplane.model_metadata(model_name, model_version))

    async def model_ready(model_name: ModelName, model_version: ModelVersion) -> JSONBody:
        ready = await dataplane.model_ready(model_name, model_version)
        return JSONBody({"name": model_name, "ready": ready}, status_code=200 if ready else 503)

    for base, adapt in [
        ("/models/{model_name}", without_version),
        ("/models/{model_name}/versions/{model_version}", _same),
    ]:
        router.add_api_route(
            base,
            adapt(model_metadata),
            response_model=ModelMetadataResponse,
            responses=_ERRORS,
            summary="Model metadata",
        )
        router.add_api_route(
            base + "/ready",
            adapt(model_ready),
            response_model=ModelReadyResponse,
            responses=_ERRORS,
            summary="Model readiness",
        )
    return router


async def infer(model_name: ModelName, model_version: ModelVersion) -> InferenceResponse:
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
            tags=["v2"],
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
