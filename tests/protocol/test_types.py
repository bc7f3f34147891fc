"""The OIP wire models: the spec's field names, numpy tensor data, documented as JSON."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from app.protocol.codecs.datatypes import Datatype
from app.protocol.types import (
    InferenceRequest,
    InferenceResponse,
    MetadataTensor,
    ModelMetadataResponse,
    RequestInput,
    ResponseOutput,
)


def test_field_names_follow_the_spec() -> None:
    assert list(InferenceRequest.model_fields) == ["id", "parameters", "inputs", "outputs"]
    assert list(RequestInput.model_fields) == ["name", "shape", "datatype", "parameters", "data"]
    assert list(InferenceResponse.model_fields) == [
        "model_name",
        "model_version",
        "id",
        "parameters",
        "outputs",
    ]
    assert list(ModelMetadataResponse.model_fields) == [
        "name",
        "versions",
        "platform",
        "inputs",
        "outputs",
        "parameters",
    ]


def test_tensor_data_is_an_array() -> None:
    data = np.zeros((2, 2), dtype=np.float32)
    tensor = ResponseOutput(name="y", shape=[2, 2], datatype=Datatype.FP32, data=data)
    assert tensor.data is data
    with pytest.raises(ValidationError):
        RequestInput(name="x", shape=[1], datatype=Datatype.FP32, data=[1.0])


def test_datatypes_are_checked() -> None:
    assert MetadataTensor(name="x", datatype="INT8", shape=[-1]).datatype is Datatype.INT8
    with pytest.raises(ValidationError, match="datatype"):
        MetadataTensor(name="x", datatype="INT7", shape=[1])


def test_data_is_documented_as_a_json_array() -> None:
    schema = RequestInput.model_json_schema()
    data = schema["properties"]["data"]
    assert data["type"] == "array"
    assert "row-major" in data["description"]
    assert set(schema["required"]) == {"name", "shape", "datatype", "data"}
