"""The model configuration extension's answer: Triton's configuration of a model version,
from its metadata and settings."""

from __future__ import annotations

import orjson

from app.model_settings import ModelSettings
from app.protocol.codecs.datatypes import Datatype
from app.protocol.types import (
    MetadataTensor,
    ModelConfig,
    ModelInput,
    ModelMetadataResponse,
    ModelOutput,
    ModelParameter,
)


def config_data_type(datatype: Datatype) -> str:
    """The model configuration's name of a datatype: FP32 -> TYPE_FP32, BYTES -> TYPE_STRING."""
    return "TYPE_STRING" if datatype is Datatype.BYTES else f"TYPE_{datatype.value}"


def _dims(tensor: MetadataTensor, batched: bool) -> list[int]:
    return tensor.shape[1:] if batched else list(tensor.shape)


def _parameter(value: object) -> ModelParameter:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return ModelParameter(string_value=text)


def model_config(metadata: ModelMetadataResponse, settings: ModelSettings) -> ModelConfig:
    """The configuration of a model version from its metadata and settings. With
    max_batch_size > 0 the first dimension is the batch, which dims leave out."""
    batched = settings.max_batch_size > 0
    return ModelConfig(
        name=metadata.name,
        platform=metadata.platform,
        backend="oipserve",
        max_batch_size=settings.max_batch_size,
        input=[
            ModelInput(name=t.name, data_type=config_data_type(t.datatype), dims=_dims(t, batched))
            for t in metadata.inputs
        ],
        output=[
            ModelOutput(name=t.name, data_type=config_data_type(t.datatype), dims=_dims(t, batched))
            for t in metadata.outputs
        ],
        parameters={key: _parameter(value) for key, value in settings.parameters.items()},
    )
