"""The REST transport: `create_app(dataplane, settings)` builds the FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.telemetry import TelemetryConfig
from fastapi_offline import FastAPIOffline

from app import __version__
from app.dataplane import DataPlane
from app.rest.compression import Gzip
from app.rest.docs import TAGS, install_openapi, serve_redoc_offline
from app.rest.draining import CloseWhenDraining
from app.rest.errors import AnswersBugs, install_error_handlers
from app.rest.extensions import all_statistics_router, extensions_router
from app.rest.infer import InferEndpoint
from app.rest.limits import BodyLimit
from app.rest.metrics import metrics_router
from app.rest.pipelines import pipeline_infer_route, pipeline_router
from app.rest.repository import repository_router
from app.rest.routing import InferRoutes
from app.rest.v1 import v1_router
from app.rest.v2 import infer_routes, v2_router
from app.settings import ServerSettings

NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
"""FastAPI's own OpenTelemetry instrumentation, off: the server counts, times and logs every
request itself (and FastAPI's check for providers costs about 6 us on every request)."""


def create_app(dataplane: DataPlane, settings: ServerSettings) -> FastAPI:
    """A FastAPI application serving the Open Inference Protocol over `dataplane`.

    Its own middleware wraps every route, inference included: from the inside, the answer
    to bugs (a JSON 500, the connection kept), the inference routes, gzip (request bodies
    and answers), the body limit, CORS (when origins are given). Middleware added with
    `app.add_middleware` goes around it."""
    app = FastAPIOffline(  # /docs and /redoc with their scripts served from the wheel
        title=settings.server_name,
        version=__version__,
        description="Open Inference Protocol (KServe v2) model server.",
        telemetry=NO_TELEMETRY,
        openapi_tags=TAGS,
    )
    install_error_handlers(app)
    app.include_router(all_statistics_router(dataplane))  # before v2's /v2/models/{m}
    app.include_router(v2_router(dataplane))
    app.include_router(extensions_router(dataplane))
    app.include_router(repository_router(dataplane))
    app.include_router(metrics_router(dataplane))
    app.include_router(pipeline_router(dataplane))
    app.include_router(v1_router(dataplane))
    endpoint = InferEndpoint(dataplane)
    routes = [*infer_routes(endpoint), pipeline_infer_route(endpoint)]
    app.router.routes.extend(routes)  # documented there; InferRoutes answers them
    app.add_middleware(AnswersBugs)
    app.add_middleware(InferRoutes, routes=routes)
    limit = settings.http_max_body_bytes
    app.add_middleware(Gzip, limit=limit, minimum=settings.gzip_min_bytes)
    app.add_middleware(BodyLimit, limit=limit)
    app.add_middleware(CloseWhenDraining, dataplane=dataplane)
    origins = settings.cors_origin_list()
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["*"],
            expose_headers=["x-request-id", "inference-header-content-length"],
        )
    install_openapi(app)
    serve_redoc_offline(app)
    return app


def create_metrics_app(dataplane: DataPlane) -> FastAPI:
    """An application serving only /metrics, for a metrics port of its own."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, telemetry=NO_TELEMETRY)
    install_error_handlers(app)
    app.include_router(metrics_router(dataplane))
    return app


__all__ = ["create_app", "create_metrics_app"]
