"""Server and model metadata <-> their gRPC messages, for the servicer and the gRPC client."""

from __future__ import annotations

from collections.abc import Sequence

from app.grpc.generated import open_inference_pb2 as pb
from app.protocol.codecs.datatypes import parse_datatype
from app.protocol.types import MetadataTensor, ModelMetadataResponse, ServerMetadataResponse


def server_metadata_to_proto(metadata: ServerMetadataResponse) -> pb.ServerMetadataResponse:
    return pb.ServerMetadataResponse(
        name=metadata.name, version=metadata.version, extensions=metadata.extensions
    )


def server_metadata_from_proto(message: pb.ServerMetadataResponse) -> ServerMetadataResponse:
    return ServerMetadataResponse(
        name=message.name, version=message.version, extensions=list(message.extensions)
    )


def model_metadata_to_proto(metadata: ModelMetadataResponse) -> pb.ModelMetadataResponse:
    def tensors(items: list[MetadataTensor]) -> list[pb.ModelMetadataResponse.TensorMetadata]:
        return [
            pb.ModelMetadataResponse.TensorMetadata(
                name=t.name, datatype=t.datatype.value, shape=t.shape
            )
            for t in items
        ]

    return pb.ModelMetadataResponse(
        name=metadata.name,
        versions=metadata.versions or [],
        platform=metadata.platform,
        inputs=tensors(metadata.inputs),
        outputs=tensors(metadata.outputs),
    )


def model_metadata_from_proto(message: pb.ModelMetadataResponse) -> ModelMetadataResponse:
    def tensors(
        items: Sequence[pb.ModelMetadataResponse.TensorMetadata],
    ) -> list[MetadataTensor]:
        return [
            MetadataTensor(
                name=t.name,
                datatype=parse_datatype(t.datatype, f"tensor {t.name!r}"),
                shape=list(t.shape),
            )
            for t in items
        ]

    return ModelMetadataResponse(
        name=message.name,
        versions=list(message.versions),
        platform=message.platform,
        inputs=tensors(message.inputs),
        outputs=tensors(message.outputs),
    )
