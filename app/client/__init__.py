"""Async inference clients with KServe's API: `InferenceRESTClient` (httpx; OIP v2 or KServe
v1), `InferenceGRPCClient` (grpc.aio), `InferenceClientFactory`, and the request and response
objects they share. The names are `app`'s (loaded on first use, through its export table): the
gRPC client works without httpx, which only the REST client needs (the `client` extra)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import app

__all__ = [
    "USE_CLIENT_DEFAULT",
    "InferInput",
    "InferOutput",
    "InferRequest",
    "InferResponse",
    "InferenceClientFactory",
    "InferenceGRPCClient",
    "InferenceRESTClient",
    "RESTConfig",
    "RequestedOutput",
    "ServerUnreachable",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'app.client' has no attribute {name!r}")
    return getattr(app, name)


def __dir__() -> list[str]:
    return list(__all__)


if TYPE_CHECKING:
    from app import (
        USE_CLIENT_DEFAULT as USE_CLIENT_DEFAULT,
        InferenceClientFactory as InferenceClientFactory,
        InferenceGRPCClient as InferenceGRPCClient,
        InferenceRESTClient as InferenceRESTClient,
        InferInput as InferInput,
        InferOutput as InferOutput,
        InferRequest as InferRequest,
        InferResponse as InferResponse,
        RequestedOutput as RequestedOutput,
        RESTConfig as RESTConfig,
        ServerUnreachable as ServerUnreachable,
    )
