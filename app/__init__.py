"""oipserve: an Open Inference Protocol (KServe v2) model server over REST and gRPC.

The names users import live here, loaded on first use so that `import app.protocol` (or a
client) does not pull in the server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "ClientClosed": "app.client.errors",
    "DataPlane": "app.dataplane",
    "Datatype": "app.protocol.codecs.datatypes",
    "DeadlineExceeded": "app.protocol.errors",
    "InferInput": "app.client.tensors",
    "InferOutput": "app.client.tensors",
    "InferRequest": "app.client.tensors",
    "InferResponse": "app.client.tensors",
    "InferenceClientFactory": "app.client.factory",
    "InProcessClient": "app.client.inprocess",
    "InferenceClient": "app.client.interface",
    "InferenceGRPCClient": "app.client.grpc",
    "InferenceRESTClient": "app.client.rest",
    "InferenceRequest": "app.protocol.types",
    "InferenceResponse": "app.protocol.types",
    "InvalidInput": "app.protocol.errors",
    "InvalidResponse": "app.protocol.errors",
    "MetadataTensor": "app.protocol.types",
    "ModelMetadataResponse": "app.protocol.types",
    "ModelNotFound": "app.protocol.errors",
    "ModelNotReady": "app.protocol.errors",
    "ModelRegistry": "app.registry",
    "ModelSettings": "app.model_settings",
    "NotFound": "app.protocol.errors",
    "OIPError": "app.protocol.errors",
    "PayloadTooLarge": "app.protocol.errors",
    "Predictor": "app.predictors.base",
    "PredictorError": "app.protocol.errors",
    "RESTConfig": "app.client.config",
    "RequestInput": "app.protocol.types",
    "RequestOutput": "app.protocol.types",
    "RequestedOutput": "app.client.tensors",
    "ResponseOutput": "app.protocol.types",
    "Server": "app.server",
    "ServerMetadataResponse": "app.protocol.types",
    "ServerNotReady": "app.protocol.errors",
    "ServerSettings": "app.settings",
    "ServerUnreachable": "app.client.errors",
    "Tensors": "app.protocol.payload",
    "USE_CLIENT_DEFAULT": "app.client.defaults",
    "Unavailable": "app.protocol.errors",
    "Unsupported": "app.protocol.errors",
    "create_app": "app.rest",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'app' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return [*__all__, "__version__"]


if TYPE_CHECKING:
    from app.client.config import (
        RESTConfig as RESTConfig,
    )
    from app.client.defaults import (
        USE_CLIENT_DEFAULT as USE_CLIENT_DEFAULT,
    )
    from app.client.errors import (
        ClientClosed as ClientClosed,
        ServerUnreachable as ServerUnreachable,
    )
    from app.client.factory import (
        InferenceClientFactory as InferenceClientFactory,
    )
    from app.client.grpc import (
        InferenceGRPCClient as InferenceGRPCClient,
    )
    from app.client.inprocess import (
        InProcessClient as InProcessClient,
    )
    from app.client.interface import (
        InferenceClient as InferenceClient,
    )
    from app.client.rest import (
        InferenceRESTClient as InferenceRESTClient,
    )
    from app.client.tensors import (
        InferInput as InferInput,
        InferOutput as InferOutput,
        InferRequest as InferRequest,
        InferResponse as InferResponse,
        RequestedOutput as RequestedOutput,
    )
    from app.dataplane import (
        DataPlane as DataPlane,
    )
    from app.model_settings import ModelSettings as ModelSettings
    from app.predictors.base import (
        Predictor as Predictor,
    )
    from app.protocol.codecs.datatypes import (
        Datatype as Datatype,
    )
    from app.protocol.errors import (
        DeadlineExceeded as DeadlineExceeded,
        InvalidInput as InvalidInput,
        InvalidResponse as InvalidResponse,
        ModelNotFound as ModelNotFound,
        ModelNotReady as ModelNotReady,
        NotFound as NotFound,
        OIPError as OIPError,
        PayloadTooLarge as PayloadTooLarge,
        PredictorError as PredictorError,
        ServerNotReady as ServerNotReady,
        Unavailable as Unavailable,
        Unsupported as Unsupported,
    )
    from app.protocol.payload import (
        Tensors as Tensors,
    )
    from app.protocol.types import (
        InferenceRequest as InferenceRequest,
        InferenceResponse as InferenceResponse,
        MetadataTensor as MetadataTensor,
        ModelMetadataResponse as ModelMetadataResponse,
        RequestInput as RequestInput,
        RequestOutput as RequestOutput,
        ResponseOutput as ResponseOutput,
        ServerMetadataResponse as ServerMetadataResponse,
    )
    from app.registry import (
        ModelRegistry as ModelRegistry,
    )
    from app.rest import (
        create_app as create_app,
    )
    from app.server import (
        Server as Server,
    )
    from app.settings import ServerSettings as ServerSettings
