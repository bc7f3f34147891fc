"""Names the iris class of each row: a model that calls another. It asks the `iris` model of
the same server through `self.client`, the in-process client (no HTTP hop: the caller's
request id and X- headers go along), and keeps the most likely class and its probability."""

from __future__ import annotations

import numpy as np

from app import InferInput, InferRequest, Predictor, Tensors


class IrisLabels(Predictor):
    def load(self) -> None:
        parameters = self.settings.parameters
        self.model = str(parameters.get("model", "iris"))
        names = str(parameters.get("classes", "setosa,versicolor,virginica"))
        self.classes = np.array(names.encode().split(b","), dtype=object)

    async def predict(self, inputs: Tensors) -> Tensors:
        rows = inputs["input-0"]
        features = InferInput("input-0", list(rows.shape), "FP32")
        features.set_data_from_numpy(rows)
        answer = await self.client.infer(InferRequest(self.model, [features]))
        probabilities = answer["output-0"].as_numpy()
        return {
            "label": self.classes[probabilities.argmax(axis=1)],
            "probability": probabilities.max(axis=1),
        }
