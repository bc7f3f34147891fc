"""The most likely class of each row of probabilities, and its probability: the second step
of the bundled `iris-classes` pipeline."""

from __future__ import annotations

import numpy as np

from app import InvalidInput, Predictor, Tensors


class Argmax(Predictor):
    async def predict(self, inputs: Tensors) -> Tensors:
        probabilities = inputs["probabilities"]
        if not probabilities.shape[1]:  # rows of no classes: there is no most likely one
            raise InvalidInput(
                f"'probabilities' of shape {list(probabilities.shape)} has no classes"
            )
        best = probabilities.argmax(axis=1)
        return {
            "class": best.astype(np.int64),
            "probability": np.take_along_axis(probabilities, best[:, None], axis=1)[:, 0],
        }
