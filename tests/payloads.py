"""Canonical request payloads shared by the tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.protocol.codecs.datatypes import Datatype, to_dtype

IRIS_ROWS = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], dtype=np.float32)
"""Two iris flowers: a setosa (class 0) and a virginica (class 2)."""
IRIS_CLASSES = [0, 2]


def iris_request(**extra: Any) -> dict[str, Any]:
    """A JSON inference request for the iris model."""
    return {
        "inputs": [
            {"name": "input-0", "shape": [2, 4], "datatype": "FP32", "data": IRIS_ROWS.tolist()}
        ],
        **extra,
    }


SAMPLES: dict[Datatype, list[Any]] = {
    Datatype.BOOL: [True, False, True, True, False, False],
    Datatype.UINT8: [0, 1, 2, 127, 200, 255],
    Datatype.UINT16: [0, 1, 2, 3, 40000, 65535],
    Datatype.UINT32: [0, 1, 2, 3, 4, 2**32 - 1],
    Datatype.UINT64: [0, 1, 2, 3, 2**63, 2**64 - 1],
    Datatype.INT8: [-128, -1, 0, 1, 2, 127],
    Datatype.INT16: [-(2**15), -1, 0, 1, 2, 2**15 - 1],
    Datatype.INT32: [-(2**31), -1, 0, 1, 2, 2**31 - 1],
    Datatype.INT64: [-(2**63), -1, 0, 1, 2, 2**63 - 1],
    Datatype.FP16: [-1.5, 0.0, 0.25, 1.0, 2.5, 65504.0],
    Datatype.FP32: [-1.5, 0.0, 0.1, 1.0, 2.5, 3.4e38],
    Datatype.FP64: [-1.5, 0.0, 0.1, 1.0, 2.5, 1.7e308],
    Datatype.BYTES: ["a", "", "héllo", "3", "four", "5"],
}
"""Six valid values of each datatype, as JSON data."""


def sample_array(datatype: Datatype) -> np.ndarray:
    """The SAMPLES of `datatype` as a [2, 3] array (BYTES elements as bytes)."""
    if datatype is Datatype.BYTES:
        array = np.empty(6, dtype=object)
        array[:] = [text.encode() for text in SAMPLES[datatype]]
        return array.reshape(2, 3)
    return np.array(SAMPLES[datatype], dtype=to_dtype(datatype)).reshape(2, 3)
