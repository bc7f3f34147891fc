"""`oipserve infer URL MODEL --input NAME=FILE ...`: one inference from the command line,
over REST (http(s)://) or gRPC (grpc(s):// or host:port), printed as a table or as JSON."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from app.client.factory import InferenceClientFactory
from app.client.tensors import (
    InferInput,
    InferOutput,
    InferRequest,
    InferResponse,
    RequestedOutput as Wanted,
)
from app.protocol.codecs.datatypes import from_dtype
from app.protocol.errors import OIPError
from app.protocol.types import MetadataTensor


def _load(source: str) -> Any:
    """A .npy file's array, a .json file's value, or the value of inline JSON."""
    if source.endswith(".npy"):
        return np.load(source, allow_pickle=False)
    text = Path(source).read_bytes() if source.endswith(".json") else source.encode()
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise ValueError(f"{source!r} is not a .npy file, a .json file or JSON: {error}") from None


def make_input(spec: str, declared: dict[str, MetadataTensor]) -> InferInput:
    """An input from NAME=SOURCE. JSON may be a (nested) list or an object with `data` and
    optionally `datatype` and `shape`; the datatype is else the model's declared one, else
    the one numpy infers."""
    name, _, source = spec.partition("=")
    if not name or not source:
        raise ValueError(f"--input takes NAME=FILE.npy, NAME=FILE.json or NAME=JSON, got {spec!r}")
    value = _load(source)
    datatype = shape = None
    if isinstance(value, dict):
        datatype, shape, value = value.get("datatype"), value.get("shape"), value.get("data")
    if datatype is None and name in declared:
        datatype = declared[name].datatype.value
    if datatype is not None and not isinstance(value, np.ndarray):  # JSON, read as datatype
        if shape is None:
            shape = list(np.asarray(value, dtype=object).shape)
        return InferInput(name, shape, datatype, value)
    array = np.asarray(value)
    if datatype is None:
        found = from_dtype(array.dtype)
        if found is None:
            raise ValueError(f"input {name!r}: cannot tell the datatype of {array.dtype} data")
        datatype = found.value
    if array.dtype.kind == "U":
        array = array.astype(object)
    return InferInput(name, shape if shape is not None else list(array.shape), datatype, array)


def _shown(output: InferOutput) -> Any:
    array = output.as_numpy()
    if array.dtype.kind == "O":
        return [v.decode(errors="replace") if isinstance(v, bytes) else v for v in array.ravel()]
    return array.tolist()


def as_json(response: InferResponse, latency_ms: float) -> str:
    outputs = [
        {"name": o.name, "datatype": o.datatype, "shape": o.shape, "data": _shown(o)}
        for o in response.outputs
    ]
    summary = {
        "model_name": response.model_name,
        "model_version": response.model_version,
        "id": response.id,
        "latency_ms": round(latency_ms, 3),
        "outputs": outputs,
    }
    return orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode()


def as_table(response: InferResponse, latency_ms: float) -> str:
    rows = [("output", "datatype", "shape", "data")]
    for output in response.outputs:
        data = np.array2string(np.asarray(_shown(output)), threshold=24, precision=4)
        rows.append((output.name, output.datatype, str(output.shape), " ".join(data.split())))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        f"model {response.model_name} version {response.model_version or '-'}",
        f"request id {response.id}",
        f"latency {latency_ms:.2f} ms",
        "",
    ]
    lines += [
        "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[3]])
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines)


async def infer(options: dict[str, Any]) -> InferResponse | None:
    """Run the inference `options` describe; print the outcome."""
    client = InferenceClientFactory.get_inference_client(options["url"])
    async with client:
        metadata = await client.model_metadata(options["model"], version=options["model_version"])
        declared = {tensor.name: tensor for tensor in metadata.inputs}
        request = InferRequest(
            options["model"],
            [make_input(spec, declared) for spec in options["input"]],
            request_id=options["id"] or str(uuid.uuid4()),
            outputs=[Wanted(name) for name in options["output"]] or None,
            model_version=options["model_version"],
        )
        started = time.perf_counter()
        response = await client.infer(request, timeout=options["timeout"])
        latency_ms = (time.perf_counter() - started) * 1000
    show = as_json if options["json"] else as_table
    print(show(response, latency_ms))
    return response


def with_kind(error: OIPError) -> str:
    """An error answer as a command prints it: its kind and its message."""
    return f"{type(error).__name__}: {error.message}"


def exit_code(
    command: str, work: Coroutine[Any, Any, object], describe: Callable[[OIPError], str] = with_kind
) -> int:
    """Run a command's work: 0 on success, 1 for an error answer (printed as `describe`
    says), 2 for bad input."""
    try:
        asyncio.run(work)
    except OIPError as error:
        print(f"oipserve {command}: {describe(error)}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as error:
        print(f"oipserve {command}: {error}", file=sys.stderr)
        return 2
    return 0


def run(options: dict[str, Any]) -> int:
    """The `oipserve infer` command: 0 on success, 1 for an error answer, 2 for bad input."""
    return exit_code("infer", infer(options))
