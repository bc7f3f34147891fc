"""The OIP GRPCInferenceService over the DataPlane: convert, call, convert back."""

from __future__ import annotations

from typing import Any

import grpc

from app.dataplane import DataPlane
from app.grpc.calls import tracked
from app.grpc.convert import (
    model_metadata_to_proto,
    request_from_proto,
    response_to_wire,
    server_metadata_to_proto,
)
from app.grpc.errors import reports_errors
from app.grpc.extensions import from_proto, repository_request, to_proto
from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.plain import plain_inputs, prediction_to_wire
from app.protocol.types import RepositoryIndexRequest

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

    @tracked
    async def ModelInfer(self, request: pb.ModelInferRequest, context: Context) -> bytes:
        """Answers a serialized ModelInferResponse (raw outputs copied once, see
        response_to_wire); the handler table sends bytes as they are. A plain request takes
        the predict lane when its model allows, else the general path."""
        name = request.model_name
        version = request.model_version or None
        inputs = plain_inputs(request)
        if inputs is not None:
            prediction = await self.dataplane.predict(name, inputs, version, request.id or None)
            if prediction is not None:
                return prediction_to_wire(name, prediction)
        response = await self.dataplane.infer(name, request_from_proto(request), version)
        return response_to_wire(response, raw=bool(request.raw_input_contents))

    @reports_errors
    async def ModelConfig(
        self, request: pb.ModelConfigRequest, context: Context
    ) -> pb.ModelConfigResponse:
        config = await self.dataplane.model_config(request.name, request.version or None)
        return pb.ModelConfigResponse(config=to_proto(config, pb.ModelConfig))

    @reports_errors
    async def ModelStatistics(
        self, request: pb.ModelStatisticsRequest, context: Context
    ) -> pb.ModelStatisticsResponse:
        statistics = await self.dataplane.model_statistics(
            request.name or None, request.version or None
        )
        return to_proto(statistics, pb.ModelStatisticsResponse)

    @reports_errors
    async def RepositoryIndex(
        self, request: pb.RepositoryIndexRequest, context: Context
    ) -> pb.RepositoryIndexResponse:
        index = await self.dataplane.repository_index(from_proto(request, RepositoryIndexRequest))
        return to_proto(index, pb.RepositoryIndexResponse)

    @reports_errors
    async def RepositoryModelLoad(
        self, request: pb.RepositoryModelLoadRequest, context: Context
    ) -> pb.RepositoryModelLoadResponse:
        await self.dataplane.repository_load(request.model_name, repository_request(request))
        return pb.RepositoryModelLoadResponse()

    @reports_errors
    async def RepositoryModelUnload(
        self, request: pb.RepositoryModelUnloadRequest, context: Context
    ) -> pb.RepositoryModelUnloadResponse:
        await self.dataplane.repository_unload(request.model_name, repository_request(request))
        return pb.RepositoryModelUnloadResponse()
