"""Canonical request payloads shared by the tests."""

from __future__ import annotations

from typing import Any

import numpy as np

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
