"""OpenAPI documentation for the routes whose bodies FastAPI does not parse itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from starlette.responses import Response
from starlette.routing import Route

from app.protocol.types import InferenceRequest

_REF = "#/components/schemas/{model}"

HEALTH, METADATA, INFERENCE, REPOSITORY, STATISTICS = (
    "health",
    "metadata",
    "inference",
    "repository",
    "statistics",
)
PIPELINES, KSERVE_V1, METRICS = "pipelines", "KServe v1", "metrics"
TAGS: list[dict[str, Any]] = [
    {"name": HEALTH, "description": "Liveness and readiness of the server and its models"},
    {"name": METADATA, "description": "What the server and each model are, take and give"},
    {"name": INFERENCE, "description": "Running a model (OIP v2)"},
    {"name": REPOSITORY, "description": "Loading and unloading the repository's models"},
    {"name": STATISTICS, "description": "Counts and times of each model version's requests"},
    {"name": PIPELINES, "description": "Seldon Pipelines served in process"},
    {"name": KSERVE_V1, "description": "The KServe v1 protocol: instances and predictions"},
    {"name": METRICS, "description": "Prometheus metrics"},
]
"""The groups /docs and /redoc show the routes in, in reading order."""

IRIS_EXAMPLE: dict[str, Any] = {
    "id": "42",
    "inputs": [
        {
            "name": "input-0",
            "shape": [2, 4],
            "datatype": "FP32",
            "data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]],
        }
    ],
    "outputs": [{"name": "output-0"}],
}

IRIS_ANSWER: dict[str, Any] = {
    "model_name": "iris",
    "model_version": "1",
    "id": "42",
    "outputs": [
        {
            "name": "output-0",
            "datatype": "FP32",
            "shape": [2, 3],
            "data": [0.99948454, 0.000515374, 2.668867e-16, 6.118963e-10, 0.0018940117, 0.998106],
        }
    ],
}
"""The bundled iris' answer to IRIS_EXAMPLE (tests hold the two together)."""
IRIS_METADATA: dict[str, Any] = {
    "name": "iris",
    "versions": ["1"],
    "platform": "numpy",
    "inputs": [{"name": "input-0", "datatype": "FP32", "shape": [-1, 4]}],
    "outputs": [{"name": "output-0", "datatype": "FP32", "shape": [-1, 3]}],
}
"""The bundled iris' metadata."""

INFER_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"$ref": _REF.format(model="InferenceRequest")},
                "example": IRIS_EXAMPLE,
            },
            "application/octet-stream": {
                "schema": {"type": "string", "format": "binary"},
                "description": "Binary tensor data extension: a JSON InferenceRequest of "
                "Inference-Header-Content-Length bytes, then the raw tensors.",
            },
        },
    }
}


ASSETS = "/static-offline-docs"
"""Where fastapi-offline serves the Swagger UI and ReDoc scripts from."""
_REDOC_CDN_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


def serve_redoc_offline(app: FastAPI) -> None:
    """Serve ReDoc's script with its one CDN address (the "API docs by Redocly" logo) turned
    into the server's own favicon, ahead of fastapi-offline's copy: nothing leaves the
    machine."""
    script = Path(fastapi_offline.__file__).parent / "static" / "redoc.standalone.js"
    patched = script.read_bytes().replace(_REDOC_CDN_LOGO, f"{ASSETS}/favicon.png".encode())

    async def redoc_script(request: Request) -> Response:
        return Response(patched, media_type="text/javascript")

    app.router.routes.insert(0, Route(f"{ASSETS}/redoc.standalone.js", redoc_script))


def install_openapi(app: FastAPI) -> None:
    """Build the schema once, adding the models that routes reference through openapi_extra."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            extra = InferenceRequest.model_json_schema(ref_template=_REF)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(extra.pop("$defs", {}))
            components["InferenceRequest"] = extra
            _drop_validation_errors(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def _drop_validation_errors(schema: dict[str, Any]) -> None:
    """Remove FastAPI's 422 answers: bad requests are 400 `{"error": ...}`, documented per
    route as ErrorResponse."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
