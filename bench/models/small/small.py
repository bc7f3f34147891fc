"""The rest-small / grpc-small bench model: `x @ W` with a fixed 4x3 W, computed on the loop
(`async def predict`: a microsecond model gains nothing from a worker thread)."""

from __future__ import annotations

import numpy as np

from app import Predictor, Tensors

W = np.arange(12, dtype=np.float32).reshape(4, 3) / 10


class SmallPredictor(Predictor):
    async def predict(self, inputs: Tensors) -> Tensors:
        return {"output-0": inputs["input-0"] @ W}
