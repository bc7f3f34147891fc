"""The large-tensor bench model: answers its input unchanged (`async def predict`)."""

from __future__ import annotations

from app import Predictor, Tensors


class IdentityPredictor(Predictor):
    async def predict(self, inputs: Tensors) -> Tensors:
        return {"output-0": inputs["input-0"]}
