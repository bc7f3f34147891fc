"""The OIP GRPCInferenceService over the DataPlane: convert, call, convert back."""

from __future__ import annotations

import time
from typing import Any

import grpc

from app.context import GRPC, open_context
from app.dataplane import DataPlane
from app.grpc.convert import ProtoRequest, answer_to_wire
from app.grpc.errors import reports_errors
from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.json_mapping import from_proto, repository_request, to_proto
from app.grpc.metadata_messages import model_metadata_to_proto, server_metadata_to_proto
from app.grpc.raw_requests import request_from_wire
from app.protocol.types import RepositoryIndexRequest
from app.resolver import Target, target_of

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
        ready = await self.dataplane.model_ready(_target(request, context))
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
        metadata = await self.dataplane.model_metadata(_target(request, context))
        return model_metadata_to_proto(metadata)

    @reports_errors
    async def ModelInfer(self, data: bytes, context: Context) -> bytes:
        """Takes the serialized ModelInferRequest (its raw contents stay views of it, see
        request_from_wire) and answers a serialized ModelInferResponse (raw outputs copied
        once, see answer_to_wire); the handler table passes bytes as they are, both ways.
        The request id and X- metadata come back as trailing metadata, errors included."""
        remaining = context.time_remaining()
        deadline = None if remaining is None else time.monotonic() + remaining
        call = open_context(GRPC, context.invocation_metadata() or (), deadline)
        try:
            request, raw = request_from_wire(data)
            name, version = request.model_name, request.model_version or None
            target = target_of(name, version, call.seldon_model)
            answer = await self.dataplane.infer(target, ProtoRequest(request, raw), call)
        except Exception:
            context.set_trailing_metadata(call.echo())
            raise
        context.set_trailing_metadata(call.echo())
        return answer_to_wire(answer, raw=bool(raw))

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


def _target(request: pb.ModelReadyRequest | pb.ModelMetadataRequest, context: Context) -> Target:
    """The target a model RPC names, by the message or by `seldon-model` metadata."""
    header = open_context(GRPC, context.invocation_metadata() or ()).seldon_model
    return target_of(request.name, request.version or None, header)
