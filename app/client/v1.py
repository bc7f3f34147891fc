"""KServe v1 bodies: `{"instances": [...]}` in, `{"predictions": [...]}` out."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.client.tensors import InferOutput, InferRequest, InferResponse
from app.client.wire import check_json_safe
from app.protocol.codecs.datatypes import Datatype, from_dtype
from app.protocol.errors import InvalidInput, InvalidResponse

PREDICTIONS = "predictions"


def _rows(array: np.ndarray) -> list[Any]:
    if array.dtype.kind == "O":
        return [_text(row) for row in array.tolist()]
    return list(array.tolist())


def _text(value: Any) -> Any:
    if isinstance(value, list):
        return [_text(item) for item in value]
    return value.decode() if isinstance(value, bytes) else value


def request_body(request: InferRequest) -> dict[str, Any]:
    """The v1 body for a request: the rows of its one input as instances, or with several
    inputs one object per row, keyed by input name."""
    check_json_safe(request.inputs)
    if len(request.inputs) == 1:
        return {"instances": _rows(request.inputs[0].as_numpy())}
    columns = {tensor.name: _rows(tensor.as_numpy()) for tensor in request.inputs}
    count = len(next(iter(columns.values()), []))
    if any(len(rows) != count for rows in columns.values()):
        raise InvalidInput("v1 instances: every input needs the same number of rows")
    return {"instances": [{name: rows[i] for name, rows in columns.items()} for i in range(count)]}


def response_from_body(body: Any, model_name: str, request_id: str | None) -> InferResponse:
    """The v1 answer's predictions as a response with one output named "predictions"."""
    if not isinstance(body, dict) or PREDICTIONS not in body:
        raise InvalidResponse(f"model {model_name!r}: the v1 answer has no '{PREDICTIONS}'")
    try:
        array = np.array(body[PREDICTIONS])
    except ValueError:
        raise InvalidResponse(
            f"model {model_name!r}: the v1 predictions are not a tensor"
        ) from None
    datatype = from_dtype(array.dtype)
    if datatype is None or array.dtype.kind == "O":
        raise InvalidResponse(f"model {model_name!r}: the v1 predictions are not a tensor")
    if datatype is Datatype.BYTES:
        array = array.astype(object)
    output = InferOutput(PREDICTIONS, list(array.shape), datatype.value, array)
    return InferResponse(request_id, model_name, [output])
