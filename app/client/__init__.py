"""Async inference clients with KServe's API: `InferenceRESTClient` (httpx; OIP v2 or KServe
v1), `InferenceGRPCClient` (grpc.aio), `InProcessClient` (the models of this server, for code
running in it), the `InferenceClient` interface the three share, `InferenceClientFactory`,
the request and response objects, and the exceptions they raise. The names are `app`'s
(loaded on first use, through its export table): the gRPC client works without httpx, which
only the REST client needs (the `client` extra)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import app

__all__ = [
    "USE_CLIENT_DEFAULT",
    "ClientClosed",
    "DeadlineExceeded",
    "InProcessClient",
    "InferInput",
    "InferOutput",
    "InferRequest",
    "InferResponse",
    "InferenceClient",
    "InferenceClientFactory",
    "InferenceGRPCClient",
    "InferenceRESTClient",
    "InvalidInput",
    "InvalidResponse",
    "ModelNotFound",
    "ModelNotReady",
    "NotFound",
    "OIPError",
    "PayloadTooLarge",
    "PredictorError",
    "RESTConfig",
    "RequestedOutput",
    "ServerNotReady",
    "ServerUnreachable",
    "Unavailable",
    "Unsupported",
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
        ClientClosed as ClientClosed,
        DeadlineExceeded as DeadlineExceeded,
        InferenceClient as InferenceClient,
        InferenceClientFactory as InferenceClientFactory,
        InferenceGRPCClient as InferenceGRPCClient,
        InferenceRESTClient as InferenceRESTClient,
        InferInput as InferInput,
        InferOutput as InferOutput,
        InferRequest as InferRequest,
        InferResponse as InferResponse,
        InProcessClient as InProcessClient,
        InvalidInput as InvalidInput,
        InvalidResponse as InvalidResponse,
        ModelNotFound as ModelNotFound,
        ModelNotReady as ModelNotReady,
        NotFound as NotFound,
        OIPError as OIPError,
        PayloadTooLarge as PayloadTooLarge,
        PredictorError as PredictorError,
        RequestedOutput as RequestedOutput,
        RESTConfig as RESTConfig,
        ServerNotReady as ServerNotReady,
        ServerUnreachable as ServerUnreachable,
        Unavailable as Unavailable,
        Unsupported as Unsupported,
    )
