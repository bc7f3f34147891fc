"""The batching bench model: like a GPU, it runs one call at a time, and a call costs
`call_seconds` (default 2 ms) however many rows it holds, plus a little per row."""

from __future__ import annotations

import asyncio

import numpy as np

from app import Predictor, Tensors
from app.model_settings import ModelSettings


class SerialPredictor(Predictor):
    def __init__(self, settings: ModelSettings) -> None:
        super().__init__(settings)
        self.device = asyncio.Lock()

    async def predict(self, inputs: Tensors) -> Tensors:
        rows = inputs["input-0"]
        async with self.device:
            await asyncio.sleep(float(self.settings.parameters.get("call_seconds", 0.002)))
            return {"output-0": np.tanh(rows) * 2}
