"""The REST transport: `create_app(dataplane, settings)` builds the FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI

from app import __version__
from app.dataplane import DataPlane
from app.rest.docs import install_openapi
from app.rest.errors import install_error_handlers
from app.rest.infer import InferEndpoint
from app.rest.routing import OIPApplication
from app.rest.v2 import infer_routes, v2_router
from app.settings import ServerSettings


def create_app(dataplane: DataPlane, settings: ServerSettings) -> FastAPI:
    """A FastAPI application serving the Open Inference Protocol over `dataplane` (an
    OIPApplication: inference goes through its direct routes)."""
    limit = settings.http_max_body_bytes
    app = OIPApplication(
        title=settings.server_name,
        version=__version__,
        description="Open Inference Protocol (KServe v2) model server.",
        max_body_size=limit,
    )
    install_error_handlers(app)
    app.include_router(v2_router(dataplane))
    for route in infer_routes(InferEndpoint(dataplane, limit)):
        app.add_direct_route(route)
    install_openapi(app)
    return app


__all__ = ["create_app"]
