"""KServe v1 bodies, for the server's v1 routes and the REST client's v1 protocol alike.

A request is `{"instances": [...]}` (or `{"inputs": [...]}`): one row per instance, of the
model's first input; or, with several inputs, one object per row keyed by input name. A
list of OIP v2 tensors under `inputs` (what KServe's client sends for an InferRequest) is read
as a v2 request. The answer is `{"predictions": [...]}`: the rows of the one output, or one
object per row keyed by output name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import orjson

from app.protocol.codecs.arrays import array_from_json
from app.protocol.codecs.datatypes import Datatype, from_dtype
from app.protocol.codecs.messages import BinarySection, payload_from_parts
from app.protocol.errors import InvalidInput, InvalidResponse
from app.protocol.payload import Answer, Output, Payload

INSTANCES, INPUTS, PREDICTIONS = "instances", "inputs", "predictions"
EXPLANATION = "explanation"
"""The BYTES output holding an explainer's answer, as JSON (MLServer's shape)."""
DEFAULT_INPUT = "instances"
"""The input name given to instances sent to a model that declares no inputs."""
_INFERRED = {"b": Datatype.BOOL, "i": Datatype.INT64, "u": Datatype.UINT64, "f": Datatype.FP64}


class Declared(NamedTuple):
    """An input the model declares: the instances of its name are read as its datatype."""

    name: str
    datatype: Datatype


def v1_body(body: bytes) -> dict[str, Any]:
    """The JSON object of a v1 request or answer; InvalidInput if it is not one."""
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidInput(f"malformed JSON: {error}") from None
    if not isinstance(message, dict):
        raise InvalidInput(f"the body must be a JSON object, got {type(message).__name__}")
    return message


def instances_of(message: dict[str, Any]) -> list[Any] | None:
    """The instances of a v1 request, or None when it carries v2 tensors under `inputs`."""
    key = INSTANCES if INSTANCES in message else INPUTS
    rows = message.get(key)
    if not isinstance(rows, list) or not rows:
        raise InvalidInput(
            f"a v1 request needs a non-empty list under {INSTANCES!r} (or {INPUTS!r}), got "
            + (f"{type(rows).__name__} under {key!r}" if key in message else "neither")
        )
    if key == INPUTS and all(isinstance(row, dict) and "datatype" in row for row in rows):
        return None
    return rows


def payload_from_v1(message: dict[str, Any], declared: list[Declared]) -> Payload:
    """The payload of a v1 request: its instances as the `declared` inputs' arrays (the
    first one's, when rows are not objects), or its v2 tensors."""
    rows = instances_of(message)
    if rows is None:
        return payload_from_parts(message, BinarySection(memoryview(b"")))
    types = {spec.name: spec.datatype for spec in declared}
    if not all(isinstance(row, dict) for row in rows):
        name = declared[0].name if declared else DEFAULT_INPUT
        return Payload({name: _column(rows, types.get(name), f"{INSTANCES} of input {name!r}")})
    names = list(dict.fromkeys(key for row in rows for key in row))
    missing = [(i, name) for name in names for i, row in enumerate(rows) if name not in row]
    if missing:
        index, name = missing[0]
        raise InvalidInput(f"{INSTANCES}[{index}] has no {name!r}: every instance needs each input")
    return Payload(
        {
            name: _column([row[name] for row in rows], types.get(name), f"input {name!r}")
            for name in names
        }
    )


def _column(values: list[Any], datatype: Datatype | None, what: str) -> np.ndarray:
    """The array of one input's rows, of `datatype` (inferred from the values when None)."""
    try:
        probe = _array_of(values)
    except (ValueError, TypeError, OverflowError):
        raise InvalidInput(f"{what}: the instances are ragged or mix kinds of values") from None
    if datatype is None:
        if probe.dtype.kind == "O":  # mixed kinds: a declared datatype says which is right
            raise InvalidInput(f"{what}: the instances are ragged or mix kinds of values")
        datatype = Datatype.BYTES if probe.dtype.kind == "U" else _INFERRED.get(probe.dtype.kind)
        if datatype is None:
            raise InvalidInput(f"{what}: the instances hold no numbers, booleans or strings")
    return array_from_json(values, list(probe.shape), datatype, what)


def _array_of(values: list[Any]) -> np.ndarray:
    """numpy's array of JSON values, but integers above 2**63 - 1 as UINT64 (numpy makes
    integers mixing in such values float64, rounded)."""
    array = np.array(values)
    if array.dtype.kind == "f" and array.size and array.max() >= 2**63:
        flat = values
        while flat and isinstance(flat[0], list):
            flat = [value for row in flat for value in row]
        if all(type(value) is int for value in flat):
            return np.array(values, dtype=np.uint64)
    return array


def predictions_body(outputs: list[Output]) -> bytes:
    """The v1 answer for a model's outputs."""
    if len(outputs) == 1:
        predictions: Any = _rows(outputs[0].data)
    else:
        columns = {output.name: _rows(output.data) for output in outputs}
        counts = {len(rows) for rows in columns.values()}
        if len(counts) == 1:
            (count,) = counts
            predictions = [{name: rows[i] for name, rows in columns.items()} for i in range(count)]
        else:  # outputs of different lengths: no rows to pair them in
            predictions = columns
    return orjson.dumps({PREDICTIONS: predictions})


def _rows(array: np.ndarray) -> list[Any]:
    if array.ndim == 0:
        return [_text(array.item())]
    if array.dtype.kind in "OS":  # BYTES: objects, or numpy bytes
        return [_text(row) for row in array.tolist()]
    return list(array.tolist())


def _text(value: Any) -> Any:
    if isinstance(value, list):
        return [_text(item) for item in value]
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def explanation_body(answer: Answer) -> bytes:
    """The v1 `:explain` answer: the JSON an explainer answered in its `explanation`."""
    for output in answer.outputs:
        if output.name == EXPLANATION and output.data.size == 1:
            value = output.data.reshape(-1)[0]
            return value if isinstance(value, bytes) else str(value).encode()
    raise InvalidResponse(f"{answer.model_name!r} answered no {EXPLANATION!r}: not an explainer")


def instances_body(inputs: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """The v1 request for `inputs`: the rows of the one input as instances, or with several
    inputs one object per row, keyed by input name."""
    columns = {name: _rows(array) for name, array in inputs.items()}
    if len(columns) == 1:
        return {INSTANCES: next(iter(columns.values()))}
    counts = {len(rows) for rows in columns.values()}
    if len(counts) != 1:
        raise InvalidInput("v1 instances: every input needs the same number of rows")
    (count,) = counts
    return {INSTANCES: [{name: rows[i] for name, rows in columns.items()} for i in range(count)]}


def predictions_array(message: object, what: str) -> np.ndarray:
    """The predictions of a v1 answer as one array; InvalidResponse if they are not a
    tensor (objects per row, ragged rows)."""
    if not isinstance(message, dict) or PREDICTIONS not in message:
        raise InvalidResponse(f"{what}: the v1 answer has no {PREDICTIONS!r}")
    predictions = message[PREDICTIONS]
    try:
        array = _array_of(predictions)
        if array.dtype.kind == "O":  # null among numbers is NaN, as in v2
            array = np.array(predictions, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        raise InvalidResponse(f"{what}: the v1 predictions are not a tensor") from None
    datatype = from_dtype(array.dtype)
    if datatype is None or array.dtype.kind == "O":
        raise InvalidResponse(f"{what}: the v1 predictions are not a tensor")
    return array.astype(object) if datatype is Datatype.BYTES else array
