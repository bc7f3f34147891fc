"""The GRPCInferenceService descriptor, and method tables built from it for both ends: server
handlers for a servicer object, and callables on a client channel."""

from __future__ import annotations

from typing import Any

import grpc

from app.grpc import parsing
from app.grpc.generated import open_inference_pb2 as pb

SERVICE = pb.DESCRIPTOR.services_by_name["GRPCInferenceService"]
SERIALIZED_REPLIES = frozenset({"ModelInfer"})
"""RPCs whose servicer method answers the serialized message (bytes): grpc sends it as it
is, with no serializer call."""
SERIALIZED_REQUESTS = frozenset({"ModelInfer"})
"""RPCs whose servicer method takes the serialized message (bytes) and parses it itself;
the others' messages are parsed by app.grpc.parsing, not by grpc."""


def _message_classes(method_name: str) -> tuple[Any, Any]:
    method = SERVICE.methods_by_name[method_name]
    return getattr(pb, method.input_type.name), getattr(pb, method.output_type.name)


def method_handlers(servicer: object) -> grpc.GenericRpcHandler:
    """Handlers for every RPC of the service that `servicer` implements (a method named as the
    RPC); the others answer UNIMPLEMENTED."""
    handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}
    for method in SERVICE.methods:
        implementation = getattr(servicer, method.name, None)
        if implementation is None:
            continue
        request, response = _message_classes(method.name)
        serializer = None if method.name in SERIALIZED_REPLIES else response.SerializeToString
        if method.name not in SERIALIZED_REQUESTS:
            implementation = parsing.unary(implementation, request)
        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            implementation, response_serializer=serializer
        )
    return grpc.method_handlers_generic_handler(SERVICE.full_name, handlers)


class Stub:
    """Callables for each RPC of the service on a grpc.aio channel: `await stub.ModelInfer(m)`."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        for method in SERVICE.methods:
            request, response = _message_classes(method.name)
            callable_ = channel.unary_unary(
                f"/{SERVICE.full_name}/{method.name}",
                request_serializer=request.SerializeToString,
                response_deserializer=response.FromString,
            )
            setattr(self, method.name, callable_)

    def __getattr__(self, name: str) -> grpc.aio.UnaryUnaryMultiCallable[Any, Any]:
        raise AttributeError(f"GRPCInferenceService has no RPC {name!r}")
