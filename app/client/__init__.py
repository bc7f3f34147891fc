"""Async inference clients with KServe's API: `InferenceRESTClient` (httpx; OIP v2 or KServe
v1), `InferenceGRPCClient` (grpc.aio), `InferenceClientFactory`, and the request and response
objects they share. Names load on first use: the gRPC client works without httpx, which only
the REST client needs (the `client` extra)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "InferInput": "app.client.tensors",
    "InferOutput": "app.client.tensors",
    "InferRequest": "app.client.tensors",
    "InferResponse": "app.client.tensors",
    "InferenceClientFactory": "app.client.factory",
    "InferenceGRPCClient": "app.client.grpc",
    "InferenceRESTClient": "app.client.rest",
    "RESTConfig": "app.client.config",
    "RequestedOutput": "app.client.tensors",
    "ServerUnreachable": "app.client.errors",
    "USE_CLIENT_DEFAULT": "app.client.defaults",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'app.client' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)


if TYPE_CHECKING:
    from app.client.config import RESTConfig as RESTConfig
    from app.client.defaults import USE_CLIENT_DEFAULT as USE_CLIENT_DEFAULT
    from app.client.errors import ServerUnreachable as ServerUnreachable
    from app.client.factory import InferenceClientFactory as InferenceClientFactory
    from app.client.grpc import InferenceGRPCClient as InferenceGRPCClient
    from app.client.rest import InferenceRESTClient as InferenceRESTClient
    from app.client.tensors import (
        InferInput as InferInput,
        InferOutput as InferOutput,
        InferRequest as InferRequest,
        InferResponse as InferResponse,
        RequestedOutput as RequestedOutput,
    )
