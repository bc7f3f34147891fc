"""What every client script shares: the request it sends and how it reports."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from tests.payloads import IRIS_ROWS

MODEL = "iris"
INPUT = "input-0"
OUTPUT = "output-0"
UNKNOWN_MODEL = "no-such-model"
REQUEST_ID = "interop-1"
WRONG_DATATYPE = "FP64"
"""The bad request every client sends: iris rows declared (and encoded) as FP64, which the
model's FP32 input does not accept."""


def rows(datatype: str = "FP32") -> np.ndarray:
    """The iris rows as an array of `datatype` (FP32 or FP64)."""
    return IRIS_ROWS.astype(np.float64 if datatype == "FP64" else np.float32)


def arguments(modes: list[str]) -> argparse.Namespace:
    """`script TARGET MODE`: where the server listens and how the client encodes tensors."""
    parser = argparse.ArgumentParser()
    parser.add_argument("target", help="host:port of the REST or gRPC endpoint")
    parser.add_argument("mode", choices=modes)
    return parser.parse_args()


def failure(status: int | str, message: str) -> dict[str, Any]:
    """An error as a client saw it: HTTP status code or gRPC code name, and its message."""
    return {"status": status, "message": message}


def report(**observations: Any) -> None:
    """Print the observations as one JSON line on stdout (numpy arrays become lists)."""
    print(json.dumps(observations, default=lambda value: np.asarray(value).tolist()))
