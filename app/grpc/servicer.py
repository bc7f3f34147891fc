"""The OIP GRPCInferenceService over the DataPlane: convert, call, convert back."""

from __future__ import annotations

from typing import Any

import grpc

from app.dataplane import DataPlane
from app.grpc.convert import (
    model_metadata_to_proto,
    request_from_proto,
    response_to_wire,
    server_metadata_to_proto,
)
from app.grpc.errors import reports_errors
from app.grpc.generated import open_inference_pb2 as pb

Context = grpc.aio.ServicerContext[Any, Any]


class InferenceServicer:
    """RPC methods named as the proto names them; each is a thin adapter."""

    def __init__(self, dataplane: DataPlane) -> None:
        self.dataplane = dataplane

    @reports_errors
    async def ServerLive(
        self, request: pb.ServerLiveRequest, context: Context
    ) -> pb.ServerLiveResponse:
        return pb.ServerLiveResponse(live=await self.dataplane.live())

    @reports_errors
    async def ServerReady(
        self, request: pb.ServerReadyRequest, context: Context
    ) -> pb.ServerReadyResponse:
        return pb.ServerReadyResponse(ready=await self.dataplane.ready())

    @reports_errors
    async def ModelReady(
        self, request: pb.ModelReadyRequest, context: Context
    ) -> pb.ModelReadyResponse:
        ready = await self.dataplane.model_ready(request.name, request.version or None)
        return pb.ModelReadyResponse(ready=ready)

    @reports_errors
    async def ServerMetadata(
        self, request: pb.ServerMetadataRequest, context: Context
    ) -> pb.ServerMetadataResponse:
        return server_metadata_to_proto(await self.dataplane.server_metadata())

    @reports_errors
    async def ModelMetadata(
        self, request: pb.ModelMetadataRequest, context: Context
    ) -> pb.ModelMetadataResponse:
        metadata = await self.dataplane.model_metadata(request.name, request.version or None)
        return model_metadata_to_proto(metadata)

    @reports_errors
    async def ModelInfer(self, request: pb.ModelInferRequest, context: Context) -> bytes:
        """Answers a serialized ModelInferResponse (raw outputs copied once, see
        response_to_wire); the handler table sends bytes as they are."""
        inference = request_from_proto(request)
        response = await self.dataplane.infer(
            request.model_name, inference, request.model_version or None
        )
        return response_to_wire(response, raw=bool(request.raw_input_contents))
