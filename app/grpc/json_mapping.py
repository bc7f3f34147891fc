"""Protocol types <-> gRPC messages of the repository, statistics and configuration
extensions. The Pydantic types carry the proto's field names, so the conversion goes
through protobuf's own JSON mapping (these calls are not on the inference hot path)."""

from __future__ import annotations

from typing import TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message
from pydantic import BaseModel

from app.grpc.generated import open_inference_pb2 as pb
from app.protocol.types import RepositoryModelRequest

Proto = TypeVar("Proto", bound=Message)
Model = TypeVar("Model", bound=BaseModel)


def to_proto(value: BaseModel, message: type[Proto]) -> Proto:
    """The message of type `message` holding `value` (field names shared)."""
    return json_format.ParseDict(value.model_dump(mode="json"), message())


def from_proto(message: Message, model: type[Model]) -> Model:
    """The protocol type `model` holding `message` (64-bit integers arrive as strings)."""
    found = json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return model.model_validate(found)


def repository_request(
    message: pb.RepositoryModelLoadRequest | pb.RepositoryModelUnloadRequest,
) -> RepositoryModelRequest:
    """The request a load or unload message carries (the model name stays outside)."""
    parameters = {
        key: getattr(value, value.WhichOneof("parameter_choice") or "string_param")
        for key, value in message.parameters.items()
    }
    return RepositoryModelRequest(parameters=parameters or None)
