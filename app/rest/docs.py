"""OpenAPI documentation for the routes whose bodies FastAPI does not parse itself."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.protocol.types import InferenceRequest

_REF = "#/components/schemas/{model}"

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


def install_openapi(app: FastAPI) -> None:
    """Build the schema once, adding the models that routes reference through openapi_extra."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
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
