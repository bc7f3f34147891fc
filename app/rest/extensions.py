"""The statistics and model configuration extensions over REST, Triton's routes and shapes:
GET /v2/models[/{m}[/versions/{v}]]/stats and GET /v2/models/{m}[/versions/{v}]/config."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.dataplane import DataPlane
from app.protocol.types import ErrorResponse, ModelConfig, ModelStatisticsResponse
from app.rest.docs import METADATA, STATISTICS
from app.rest.responses import JSONBody
from app.rest.routing import NamePath, VersionPath, without_version

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in [
        (404, "No such model or version"),
        (503, "The model (version) is not ready"),
    ]
}


def all_statistics_router(dataplane: DataPlane) -> APIRouter:
    """GET /v2/models/stats; include it before the v2 router, whose /v2/models/{model_name}
    would take it (the other extension routes go after, off the inference path)."""
    router = APIRouter(prefix="/v2/models", default_response_class=JSONBody)

    @router.get(
        "/stats",
        response_model=ModelStatisticsResponse,
        summary="Statistics of every ready model version",
        tags=[STATISTICS],
    )
    async def all_statistics() -> JSONBody:
        return JSONBody(await dataplane.model_statistics())

    return router


def extensions_router(dataplane: DataPlane) -> APIRouter:
    """The statistics and configuration routes of one model (version)."""
    router = APIRouter(prefix="/v2/models", default_response_class=JSONBody)

    async def model_statistics(model_name: NamePath, model_version: VersionPath) -> JSONBody:
        return JSONBody(await dataplane.model_statistics(model_name, model_version))

    async def model_config(model_name: NamePath, model_version: VersionPath) -> JSONBody:
        return JSONBody(await dataplane.model_config(model_name, model_version))

    for base, versioned in [
        ("/{model_name}", False),
        ("/{model_name}/versions/{model_version}", True),
    ]:
        adapt = (lambda endpoint: endpoint) if versioned else without_version
        router.add_api_route(
            base + "/stats",
            adapt(model_statistics),
            response_model=ModelStatisticsResponse,
            responses=_ERRORS,
            summary="Inference statistics of a model's ready versions (or of one version)",
            tags=[STATISTICS],
        )
        router.add_api_route(
            base + "/config",
            adapt(model_config),
            response_model=ModelConfig,
            responses=_ERRORS,
            summary="Model configuration (Triton's shape, as perf_analyzer reads it)",
            tags=[METADATA],
        )
    return router
