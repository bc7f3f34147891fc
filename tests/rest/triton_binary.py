"""Run by tests/rest/test_binary_interop.py in a subprocess (tritonclient registers protobuf
messages that clash with ours): sends tensors to the `echo` model with tritonclient.http's
binary inputs, asks for binary or JSON outputs, and prints a JSON report.

    python tests/rest/triton_binary.py HOST:PORT
"""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np
import tritonclient.http as httpclient

TENSORS: dict[str, np.ndarray] = {
    "fp32": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
    "fp16": np.array([0.5, -2.0, 65504.0], dtype=np.float16),
    "int64": np.array([[-(2**62), 0, 2**62]], dtype=np.int64),
    "uint8": np.array([0, 127, 255], dtype=np.uint8),
    "bool": np.array([[True, False], [False, True]]),
    "bytes": np.array([b"caf\xc3\xa9", b"", b"plain"], dtype=np.object_),
    "raw": np.array([b"\x00\xff\xfe binary"], dtype=np.object_),
}
JSON_OUTPUTS = {"uint8", "bytes"}  # asked for as JSON; every other output as binary data


def _datatype(array: np.ndarray) -> str:
    if array.dtype == np.object_:
        return "BYTES"
    return {"f": "FP", "i": "INT", "u": "UINT", "b": "BOOL"}[array.dtype.kind] + (
        str(array.dtype.itemsize * 8) if array.dtype.kind != "b" else ""
    )


def _as_bytes(answer: np.ndarray) -> list[Any]:
    """BYTES elements as bytes: tritonclient gives JSON BYTES outputs back as str."""
    return [item.encode() if isinstance(item, str) else item for item in answer.ravel()]


def _same(answer: np.ndarray | None, array: np.ndarray) -> bool:
    if answer is None or answer.shape != array.shape:
        return False
    if array.dtype == np.object_:
        return _as_bytes(answer) == list(array.ravel())
    return bool(answer.dtype == array.dtype and (answer == array).all())


def _run(client: httpclient.InferenceServerClient, outputs: bool) -> dict[str, Any]:
    inputs = []
    for name, array in TENSORS.items():
        tensor = httpclient.InferInput(name, list(array.shape), _datatype(array))
        tensor.set_data_from_numpy(array, binary_data=True)
        inputs.append(tensor)
    requested = (
        [httpclient.InferRequestedOutput(n, binary_data=n not in JSON_OUTPUTS) for n in TENSORS]
        if outputs
        else None
    )
    result = client.infer("echo", inputs, outputs=requested)
    report = {}
    for name, array in TENSORS.items():
        answer = result.as_numpy(name)
        output = result.get_output(name)
        report[name] = {
            "datatype": output["datatype"],
            "shape": output["shape"],
            "binary": "binary_data_size" in output.get("parameters", {}),
            "equal": _same(answer, array),
        }
    return report


def main() -> None:
    client = httpclient.InferenceServerClient(sys.argv[1])
    metadata = client.get_server_metadata()
    print(
        json.dumps(
            {
                "extensions": metadata["extensions"],
                "requested": _run(client, outputs=True),  # binary or JSON per output
                "default": _run(client, outputs=False),  # binary_data_output for all
            }
        )
    )


if __name__ == "__main__":
    main()
