"""The OIP wire models: the spec's field names, numpy tensor data, documented as JSON."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import BaseModel, ValidationError

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


def _revalidated(message: BaseModel) -> BaseModel:
    """The message validated afresh from its own fields."""
    return type(message).model_validate(dict(message))


def test_trusted_equals_validated() -> None:
    data = np.arange(4, dtype=np.float32).reshape(1, 4)
    fields = {"name": "x", "shape": [1, 4], "datatype": Datatype.FP32, "parameters": None}
    trusted = RequestInput.trusted(**fields, data=data)
    validated = RequestInput(**fields, data=data)
    assert trusted == validated
    assert trusted.model_fields_set == validated.model_fields_set
    assert trusted.model_dump().keys() == validated.model_dump().keys()
    copy = trusted.model_copy(update={"name": "y"})
    assert (copy.name, trusted.name) == ("y", "x")
    trusted.name = "z"  # assignment works as on any model
    assert trusted.name == "z"
    assert "name" in trusted.model_fields_set


def _decoded_messages() -> list[BaseModel]:
    """What the codecs and the predictor base build with `trusted`, one of each."""
    from app.grpc.convert import (
        answer_to_proto,
        request_from_proto,
        request_to_proto,
        response_from_proto,
    )
    from app.protocol.codecs.messages import request_from_body, response_from_body
    from app.protocol.payload import answer_from_arrays

    row = np.array([[1.0, 2.0]], dtype=np.float32)
    rest_request = request_from_body(
        b'{"id": "r", "inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP32",'
        b' "data": [1, 2]}], "outputs": [{"name": "y"}]}'
    )
    rest_response = response_from_body(
        b'{"model_name": "m", "outputs": [{"name": "y", "shape": [1], "datatype": "INT8",'
        b' "data": [3]}]}'
    )
    predicted = answer_from_arrays("m", {"y": row}, "1", "r")
    grpc_request = request_from_proto(request_to_proto("m", "1", rest_request))
    grpc_response = response_from_proto(answer_to_proto(predicted, raw=True))
    return [rest_request, rest_response, predicted.response(), grpc_request, grpc_response]


@pytest.mark.parametrize("message", _decoded_messages(), ids=lambda m: type(m).__name__)
def test_trusted_messages_are_complete_and_valid(message: BaseModel) -> None:
    """Every field is present (a missing one would break attribute access and dumps), and
    validating the same fields again gives an equal message."""
    parts: list[BaseModel] = [
        message,
        *getattr(message, "inputs", ()),
        *(getattr(message, "outputs", None) or ()),
    ]
    for part in parts:
        assert set(vars(part)) == set(type(part).model_fields), type(part).__name__
    assert _revalidated(message) == message


def test_assign_trusted_is_an_assignment() -> None:
    response = InferenceResponse(model_name="m", outputs=[])
    response.assign_trusted("id", "r-1")
    assert response == InferenceResponse(model_name="m", id="r-1", outputs=[])
    assert response.model_fields_set == {"model_name", "id", "outputs"}
