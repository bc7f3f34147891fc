"""Occlusion: how much each feature moves the answer when it takes the background's values.

For each row and feature, the feature is replaced by its value in each of `samples`
background rows (drawn once with `seed`, so answers repeat), the other features kept; the
attribution is the row's prediction minus the mean prediction of those variants. Every
variant of every row goes to the target in one call. Needs nothing beyond numpy.
"""

from __future__ import annotations

import numpy as np

from app.explainers.method import ExplainerMethod, Explanation, Predict
from app.protocol.types import Parameters


class Occlusion(ExplainerMethod):
    needs_background = True

    def __init__(self, parameters: Parameters, background: np.ndarray | None) -> None:
        super().__init__(parameters, background)
        assert background is not None
        samples = int(parameters.get("samples", 50))
        if samples < 1:
            raise ValueError("samples must be at least 1")
        seed = int(parameters.get("seed", 0))
        chosen = np.random.default_rng(seed).permutation(len(background))[:samples]
        self.samples = background[np.sort(chosen)]

    async def explain(self, rows: np.ndarray, predict: Predict) -> Explanation:
        self.check_rows(rows)
        count, features = rows.shape
        samples = len(self.samples)
        # variants[row, feature, sample] = the row with the feature from that sample
        variants = np.repeat(rows[:, None, None, :], features, axis=1).repeat(samples, axis=2)
        for feature in range(features):
            variants[:, feature, :, feature] = self.samples[:, feature]
        batch = np.concatenate(
            [rows, self.samples.astype(rows.dtype), variants.reshape(-1, features)]
        )
        answered = await predict(batch)
        predicted = answered[:count]
        expected = answered[count : count + samples].mean(axis=0)
        occluded = answered[count + samples :].reshape(count, features, samples, -1).mean(axis=2)
        return Explanation(predicted[:, None, :] - occluded, expected)
