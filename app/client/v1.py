"""KServe v1 for the REST client: an InferRequest as `{"instances": [...]}`, the answer's
`{"predictions": [...]}` as an InferResponse (the codec is the protocol core's)."""

from __future__ import annotations

from typing import Any

from app.client.tensors import InferOutput, InferRequest, InferResponse
from app.client.wire import check_json_safe
from app.protocol.codecs.datatypes import from_dtype
from app.protocol.codecs.v1 import PREDICTIONS, instances_body, predictions_array


def request_body(request: InferRequest) -> dict[str, Any]:
    """The v1 body for a request: the rows of its one input as instances, or with several
    inputs one object per row, keyed by input name."""
    check_json_safe(request.inputs)
    return instances_body({tensor.name: tensor.as_numpy() for tensor in request.inputs})


def response_from_body(body: Any, model_name: str, request_id: str | None) -> InferResponse:
    """The v1 answer's predictions as a response with one output named "predictions"."""
    array = predictions_array(body, f"model {model_name!r}")
    datatype = from_dtype(array.dtype)
    assert datatype is not None  # predictions_array answers arrays of a datatype
    output = InferOutput(PREDICTIONS, list(array.shape), datatype.value, array)
    return InferResponse(request_id, model_name, [output])
