"""GET /metrics: the Prometheus text exposition."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from app.dataplane import DataPlane
from app.metrics import CONTENT_TYPE, metrics_registry, render
from app.rest.docs import METRICS


def metrics_router(dataplane: DataPlane) -> APIRouter:
    router = APIRouter(tags=[METRICS])
    registry = None

    @router.get(
        "/metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Every series"}},
        summary="Prometheus metrics (documented in the README)",
    )
    async def metrics() -> Response:
        nonlocal registry
        if registry is None:
            registry = metrics_registry(dataplane.monitor)
        text = await dataplane.whole_server_metrics(render(registry))
        return Response(text, media_type=CONTENT_TYPE)

    return router
