"""Kernel SHAP, by the `shap` library (the `explain` extra, or `pip install shap`).

shap calls the model synchronously, so the explanation runs in a worker thread and each of
its calls goes back to the event loop to reach the target. shap samples coalitions with
numpy's global random state: one explanation runs at a time, seeded with `seed`, so that
answers repeat.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import numpy as np

from app.explainers.method import ExplainerMethod, Explanation, Predict
from app.protocol.types import Parameters

_ONE_AT_A_TIME = threading.Lock()


class KernelShap(ExplainerMethod):
    needs_background = True

    def __init__(self, parameters: Parameters, background: np.ndarray | None) -> None:
        super().__init__(parameters, background)
        assert background is not None
        try:
            import shap
        except ImportError:
            raise ValueError(
                "the kernel_shap method needs the shap library: pip install shap"
            ) from None
        self.shap = shap
        self.seed = int(parameters.get("seed", 0))
        nsamples = parameters.get("nsamples", "auto")
        self.nsamples: int | str = nsamples if nsamples == "auto" else int(nsamples)
        summary = int(parameters.get("background_samples", 50))
        chosen = np.random.default_rng(self.seed).permutation(len(background))[:summary]
        self.summary = background[np.sort(chosen)]

    async def explain(self, rows: np.ndarray, predict: Predict) -> Explanation:
        self.check_rows(rows)
        loop = asyncio.get_running_loop()

        def model(variants: np.ndarray) -> np.ndarray:
            called = predict(np.asarray(variants, dtype=rows.dtype))
            return asyncio.run_coroutine_threadsafe(called, loop).result()

        def run() -> tuple[Any, Any]:
            with _ONE_AT_A_TIME:
                np.random.seed(self.seed)
                explainer = self.shap.KernelExplainer(model, self.summary)
                values = explainer.shap_values(rows, nsamples=self.nsamples, silent=True)
                return values, explainer.expected_value

        values, expected = await asyncio.to_thread(run)
        attributions = np.asarray(values, dtype=np.float64)
        if isinstance(values, list):  # older shap: one (rows, features) array per output
            attributions = np.moveaxis(attributions, 0, -1)
        if attributions.ndim == 2:
            attributions = attributions[:, :, None]
        return Explanation(attributions, np.atleast_1d(np.asarray(expected, dtype=np.float64)))
