"""The iris classifier: softmax regression in plain numpy. Copy this folder to serve a model
of your own: `model-settings.json` names this class and declares the tensors, and each
numbered subfolder holds one version's artifacts."""

from __future__ import annotations

import numpy as np

from app import Predictor, Tensors


class IrisPredictor(Predictor):
    """Class probabilities for [sepal length, sepal width, petal length, petal width] rows."""

    def load(self) -> None:
        weights = np.load(self.path / "weights.npz")
        self.mean, self.scale = weights["mean"], weights["scale"]
        self.weights, self.bias = weights["weights"], weights["bias"]

    def predict(self, inputs: Tensors) -> Tensors:
        features = (inputs["input-0"] - self.mean) / self.scale
        logits = features @ self.weights + self.bias
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return {"output-0": (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)}
