"""Plain JSON inference bodies, read and written without protocol messages: the predict lane.

A plain request is a JSON object of `inputs` (and a string `id`, if any) and nothing else to
interpret: no parameters (of the request or a tensor, so no binary data), no requested
outputs; each input holds exactly `name`, `shape`, `datatype` and `data`. `plain_inputs`
reads its arrays, and is None for any other request, which the general path answers (errors
included). `prediction_to_body` writes the answer as `response_to_body` writes a response.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from app.protocol.codecs.arrays import array_from_json, array_to_json, check_shape
from app.protocol.codecs.datatypes import parse_datatype
from app.protocol.errors import InvalidInput
from app.protocol.prediction import Prediction

_TENSOR_KEYS = 4  # name, shape, datatype, data


def plain_inputs(message: dict[str, Any]) -> dict[str, np.ndarray] | None:
    """The input arrays of a plain request's JSON object by name; None if it is not plain
    or not well formed."""
    items = message.get("inputs")
    if type(items) is not list or not items:
        return None
    others = len(message) - 1
    if others and (others > 1 or type(message.get("id")) is not str):
        return None
    inputs: dict[str, np.ndarray] = {}
    try:
        for item in items:
            if type(item) is not dict or len(item) != _TENSOR_KEYS:
                return None
            name, data = item.get("name"), item.get("data")
            if type(name) is not str or not name or data is None:
                return None
            shape = check_shape(item.get("shape"), name)
            datatype = parse_datatype(item.get("datatype"), name)
            inputs[name] = array_from_json(data, shape, datatype, name)
    except InvalidInput:
        return None
    return inputs if len(inputs) == len(items) else None  # fewer: a name given twice


def prediction_to_body(model_name: str, prediction: Prediction) -> bytes:
    """The JSON answer holding a prediction's outputs."""
    message: dict[str, Any] = {"model_name": model_name}
    if prediction.model_version is not None:
        message["model_version"] = prediction.model_version
    if prediction.id is not None:
        message["id"] = prediction.id
    message["outputs"] = [
        {
            "name": name,
            "datatype": datatype,  # a str enum: orjson writes its value
            "shape": array.shape,
            "data": array_to_json(array, datatype, f"tensor {name!r}"),
        }
        for name, datatype, array in prediction.outputs
    ]
    return orjson.dumps(message, option=orjson.OPT_SERIALIZE_NUMPY)
